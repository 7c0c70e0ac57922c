"""CPU per camera-minute of onestop against `ffmpeg -threads 1` decoding the same detect streams.

Usage: python benchmarks/ingest.py [--cameras 4] [--duration 60] [--seconds 60] [--main-size 1920x1080]
                                   [--warmup 5] [--verify-seconds 20] [--fresh]

N cameras are served by the GStreamer RTSP test server (tests/rtsp_server.py, system python, --loop)
from pre-encoded H.264 files (main + 640x360 sub, 10 fps, keyframe every 2 s, motion windows), cached
in /tmp/onestop-bench. Three runs, one after the other, each measured over the same window:

1. onestop: `python -m monitor.cli run --no-web` on N cameras (main + sub, detect_fps 10); CPU of the
   supervisor and all its descendants from /proc (the RTSP server is not counted). The workers'
   threads are named with one `py-spy dump` (when py-spy is installed) so their CPU can be split
   between the sub-stream thread (demux, decode, grey, motion) and the main-stream thread (demux, ring).
2. decode floor: N x `ffmpeg -nostdin -threads 1 -rtsp_transport tcp -i rtsp://.../sub -f null -`.
3. main-only check: the same onestop config without `sub`, so the worker must decode the main stream.
   If (1)'s main-stream thread costs a small fraction of (3), the main stream is not decoded in (1).
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import media  # noqa: E402
from conftest import RtspServer, have_gst_rtsp  # noqa: E402
from media import MotionWindow, VideoSpec, make_video  # noqa: E402

TARGET_RATIO = 1.3  # onestop may cost at most 30 % more than decoding the detect stream alone
FPS = 10
GOP = 2 * FPS  # keyframe every 2 s, a common camera setting
SUB_SIZE = (640, 360)
BITRATES = {1080: 4_000_000, 720: 2_000_000, 360: 512_000}  # typical camera main / sub bit rates
MOTION_EVERY_S, MOTION_OFFSET_S, MOTION_LENGTH_S = 20.0, 8.0, 4.0  # a 4 s walk-by every 20 s
ONLINE_TIMEOUT_S = 60.0  # spawning N workers that import av/cv2/numpy on a small box takes a while
STOP_TIMEOUT_S = 40.0  # the supervisor gives workers 25 s to finish clips
CLK_TCK = os.sysconf("SC_CLK_TCK")
SPEC_VERSION = 1  # bump when the generated videos change, so cached files are remade


# -- media ---------------------------------------------------------------------------------------

def motion_windows(seconds: float) -> tuple[MotionWindow, ...]:
    starts = [MOTION_OFFSET_S + k * MOTION_EVERY_S for k in range(int(seconds // MOTION_EVERY_S) + 1)]
    return tuple(MotionWindow(s, s + MOTION_LENGTH_S) for s in starts if s + MOTION_LENGTH_S <= seconds)


def with_noise(sigma: float):
    """media.render_frame plus Gaussian sensor noise (same noise for the same t, any size)."""
    render = media.render_frame

    def noisy(spec: VideoSpec, base, t: float):
        img = render(spec, base, t)
        if sigma <= 0:
            return img
        rng = np.random.default_rng(int(round(t * 1000)))
        noise = rng.normal(0.0, sigma, img.shape[:2])[..., None]  # grey noise, like a sensor at low light
        return np.clip(img + noise, 0, 255).astype(np.uint8)

    return noisy


def ensure_videos(folder: Path, seconds: float, main_size: tuple[int, int], fresh: bool,
                  noise: float) -> tuple[Path, Path]:
    """The main and sub files, encoded once and cached in folder."""
    motion = motion_windows(seconds)
    paths = []
    for w, h in (main_size, SUB_SIZE):
        path = folder / f"v{SPEC_VERSION}-{w}x{h}-{seconds:g}s-{FPS}fps{f'-noise{noise:g}' if noise else ''}.mp4"
        if fresh or not path.exists():
            t0 = time.perf_counter()
            spec = VideoSpec(seconds, w, h, fps=FPS, gop=GOP, motion=motion, bitrate=BITRATES.get(h, 2_000_000))
            tmp = path.with_suffix(".part.mp4")
            plain, media.render_frame = media.render_frame, with_noise(noise)  # make_video looks it up per frame
            try:
                make_video(tmp, spec)
            finally:
                media.render_frame = plain
            tmp.replace(path)
            print(f"encoded {path} in {time.perf_counter() - t0:.1f} s")
        paths.append(path)
    return paths[0], paths[1]


# -- CPU of process trees from /proc -------------------------------------------------------------

def _stat_fields(path: str) -> list[str]:
    with open(path) as f:
        text = f.read()
    return text[text.rindex(")") + 2 :].split()  # after "pid (comm) "; fields[0] is field 3 (state)


def proc_cpu(pid: int) -> tuple[int, float, float] | None:
    """(ppid, own user+sys seconds, reaped children's user+sys seconds), None if gone."""
    try:
        f = _stat_fields(f"/proc/{pid}/stat")
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(f[1]), (int(f[11]) + int(f[12])) / CLK_TCK, (int(f[13]) + int(f[14])) / CLK_TCK


def descendants(root: int) -> list[int]:
    """root and every process below it (by scanning /proc for parent ids)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            info = proc_cpu(int(entry))
            if info is not None:
                parents.setdefault(info[0], []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(parents.get(pid, []))
    return out


def tree_snapshot(roots: list[int]) -> dict[int, float]:
    """pid -> own + reaped-children CPU seconds, for every process in the trees."""
    snap = {}
    for root in roots:
        for pid in descendants(root):
            info = proc_cpu(pid)
            if info is not None:
                snap[pid] = info[1] + info[2]
    return snap


def tree_delta(start: dict[int, float], end: dict[int, float]) -> tuple[float, int]:
    """CPU seconds spent between two snapshots; and how many processes exited in between."""
    spent = sum(v - start.get(pid, 0.0) for pid, v in end.items())
    return spent, len(set(start) - set(end))


def thread_cpu(pid: int) -> dict[int, float]:
    """tid -> user+sys seconds of every thread of pid."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return out
    for tid in tids:
        try:
            f = _stat_fields(f"/proc/{pid}/task/{tid}/stat")
        except FileNotFoundError:
            continue
        out[int(tid)] = (int(f[11]) + int(f[12])) / CLK_TCK
    return out


def py_spy() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


def thread_names(pid: int, spy: str) -> dict[int, str]:
    """tid -> Python thread name, from one py-spy dump (a few ms pause of the target)."""
    out = subprocess.run([spy, "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=30).stdout
    names = {}
    for line in out.splitlines():
        if line.startswith("Thread "):  # Thread 1234 (idle): "name"
            parts = line.split(None, 2)
            if parts[1].isdigit():
                names[int(parts[1])] = line.rsplit('"', 2)[-2] if line.endswith('"') else "?"
    return names


def thread_role(name: str) -> str:
    if name == "MainThread":
        return "sub thread (demux+decode+grey+motion)"
    if name.endswith("-main"):
        return "main thread (demux+ring, no decode)"
    if name.endswith("-heartbeat"):
        return "heartbeat"
    if name == "QueueFeederThread":
        return "queue feeder"
    return "other (native / unnamed)"


# -- the runs ------------------------------------------------------------------------------------

@dataclass
class RunResult:
    label: str
    cpu_s: float
    duration_s: float
    cameras: int
    exited: int = 0
    roles: dict[str, float] = field(default_factory=dict)  # CPU seconds by worker thread role, all workers
    supervisor_s: float = 0.0
    frames: int = 0  # detect frames analysed in the window, all cameras
    streamed_s: float = 0.0  # from every camera online to SIGTERM
    events: int = 0
    clips: int = 0
    clip_files: int = 0
    commands: list[str] = field(default_factory=list)

    def per_cam_min(self, seconds: float | None = None) -> float:
        return (self.cpu_s if seconds is None else seconds) / (self.cameras * self.duration_s / 60.0)


def write_config(folder: Path, server: RtspServer, cameras: int, with_sub: bool) -> Path:
    lines = [
        "site:",
        "  name: ingest benchmark",
        "storage:",
        f"  recordings: {folder / 'recordings'}",
        f"  database: {folder / 'onestop.db'}",
        "defaults:",
        f"  detect_fps: {FPS}",
        "cameras:",
    ]
    for i in range(1, cameras + 1):
        lines += [f"  - id: cam-{i}", f"    name: Camera {i}", "    streams:", f"      main: {server.url('/main')}"]
        if with_sub:
            lines.append(f"      sub: {server.url('/sub')}")
    path = folder / "cameras.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _db_rows(db: Path, sql: str) -> list[tuple]:
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # tables not created yet
        return []
    finally:
        conn.close()


def wait_online(db: Path, cameras: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + ONLINE_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"onestop exited with code {proc.returncode} before the cameras were online")
        rows = _db_rows(db, "select state from cameras")
        if len(rows) == cameras and all(r[0] == "online" for r in rows):
            return
        time.sleep(0.5)
    raise RuntimeError(f"cameras not online after {ONLINE_TIMEOUT_S:.0f} s: {_db_rows(db, 'select id, state from cameras')}")


def frames_total(db: Path) -> int:
    return sum(r[0] or 0 for r in _db_rows(db, "select frames from cameras"))


def workers_of(root: int) -> list[int]:
    pids = []
    for pid in descendants(root)[1:]:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except FileNotFoundError:
            continue
        if "spawn_main" in cmd and "resource_tracker" not in cmd:
            pids.append(pid)
    return pids


def run_onestop(server: RtspServer, args: argparse.Namespace, with_sub: bool, duration: float,
                label: str) -> RunResult:
    with tempfile.TemporaryDirectory(prefix="onestop-ingest-") as tmp:
        folder = Path(tmp)
        cfg = write_config(folder, server, args.cameras, with_sub)
        db = folder / "onestop.db"
        cmd = [sys.executable, "-m", "monitor.cli", "run", "-c", str(cfg), "--no-web"]
        log = open(folder / "onestop.log", "w+")
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        result = RunResult(label, 0.0, duration, args.cameras, commands=[shlex.join(cmd)])
        online = time.monotonic()
        try:
            wait_online(db, args.cameras, proc)
            online = time.monotonic()
            time.sleep(args.warmup)
            workers = workers_of(proc.pid)
            spy = py_spy()
            names = {w: thread_names(w, spy) for w in workers} if spy else {}
            frames0 = frames_total(db)
            threads0 = {w: thread_cpu(w) for w in workers}
            sup0 = proc_cpu(proc.pid)
            start = tree_snapshot([proc.pid])
            time.sleep(duration)
            end = tree_snapshot([proc.pid])
            sup1 = proc_cpu(proc.pid)
            threads1 = {w: thread_cpu(w) for w in workers}
            result.frames = frames_total(db) - frames0
            result.cpu_s, result.exited = tree_delta(start, end)
            if sup0 and sup1:
                result.supervisor_s = sup1[1] - sup0[1]
            for w in workers:
                for tid, secs in threads1[w].items():
                    role = thread_role(names.get(w, {}).get(tid, "?")) if names.get(w) else "all threads (no py-spy)"
                    result.roles[role] = result.roles.get(role, 0.0) + secs - threads0[w].get(tid, 0.0)
        except BaseException:
            log.seek(0)
            sys.stderr.write(log.read()[-4000:])
            raise
        finally:
            if proc.poll() is None:
                result.streamed_s = time.monotonic() - online
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            log.close()
        result.events = _db_rows(db, "select count(*) from events")[0][0]
        result.clips = _db_rows(db, "select count(*) from events where clip_state = 'complete'")[0][0]
        result.clip_files = len(list((folder / "recordings").rglob("*.mp4")))
        return result


def run_floor(server: RtspServer, args: argparse.Namespace) -> RunResult:
    cmd = ["ffmpeg", "-nostdin", "-threads", "1", "-rtsp_transport", "tcp", "-i", server.url("/sub"),
           "-f", "null", "-"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(args.cameras)]
    result = RunResult("decode floor", 0.0, args.duration, args.cameras, commands=[f"{args.cameras} x {shlex.join(cmd)}"])
    try:
        time.sleep(args.warmup)
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("an ffmpeg decoder exited during warm-up")
        pids = [p.pid for p in procs]
        start = tree_snapshot(pids)
        time.sleep(args.duration)
        end = tree_snapshot(pids)
        result.cpu_s, result.exited = tree_delta(start, end)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(10)
    return result


# -- report --------------------------------------------------------------------------------------

def machine_info() -> str:
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ffmpeg = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.splitlines()[0]
    import av

    return (f"machine: nproc {os.cpu_count()}, {model}; {platform.platform()}; Python {platform.python_version()}; "
            f"PyAV {av.__version__}; {ffmpeg}")


def expected_events(seconds: float, stream_s: float, cameras: int) -> int:
    """Motion windows that start within stream_s seconds of looping playback, all cameras."""
    per_lap = motion_windows(seconds)
    laps, rest = divmod(stream_s, seconds)
    return cameras * (int(laps) * len(per_lap) + sum(1 for w in per_lap if w.start_s < rest))


def print_report(args: argparse.Namespace, one: RunResult, floor: RunResult, check: RunResult | None) -> None:
    a, f = one.per_cam_min(), floor.per_cam_min()
    ratio = a / f if f else float("inf")
    print()
    print(f"CPU seconds per camera-minute ({args.cameras} cameras, {args.duration:g} s window, "
          f"main {args.main_size}, sub {SUB_SIZE[0]}x{SUB_SIZE[1]}, {FPS} fps, detect_fps {FPS}, "
          f"noise sigma {args.noise:g})")
    print(f"  {'run':<34} {'CPU s':>8} {'per cam-min':>12} {'% of a core/cam':>16}")
    for r in (one, floor) + ((check,) if check else ()):
        pcm = r.per_cam_min()
        print(f"  {r.label:<34} {r.cpu_s:8.2f} {pcm:12.3f} {pcm / 60 * 100:15.1f}%")
    verdict = "OK" if ratio <= TARGET_RATIO else "ABOVE TARGET"
    print(f"  ratio onestop / floor: {ratio:.2f}  (target <= {TARGET_RATIO}: {verdict})")
    print()
    print("onestop breakdown (CPU s per camera-minute):")
    print(f"  {'supervisor (writer, queue)':<40} {one.per_cam_min(one.supervisor_s):8.3f}")
    for role, secs in sorted(one.roles.items(), key=lambda kv: -kv[1]):
        print(f"  {'workers: ' + role:<40} {one.per_cam_min(secs):8.3f}")
    print(f"  {'total':<40} {one.per_cam_min():8.3f}")
    rest = one.cpu_s - one.supervisor_s - sum(one.roles.values())
    print(f"  {'not attributed (resource tracker, exited':<40}\n  {' threads, 10 ms tick rounding)':<40} "
          f"{one.per_cam_min(rest):8.3f}")
    print(f"  detect frames analysed in the window: {one.frames} "
          f"({one.frames / max(one.duration_s * one.cameras, 1e-9):.2f} per camera-second, stream is {FPS} fps)")
    exp = expected_events(args.seconds, one.streamed_s, args.cameras)
    print(f"  events: {one.events} (motion windows streamed: ~{exp}); clips complete in DB: {one.clips}; "
          f".mp4 files: {one.clip_files}")
    if one.exited or floor.exited:
        print(f"  note: {one.exited + floor.exited} process(es) exited inside a window; their earlier CPU is counted")
    print()
    print("main stream never decoded:")
    main_role = next((s for r, s in one.roles.items() if r.startswith("main thread")), None)
    if main_role is not None:
        print(f"  main-stream thread of the workers (demux + ring buffer): {one.per_cam_min(main_role):.3f} "
              "CPU s per camera-minute")
    if check is not None:
        main_dec = check.roles.get("sub thread (demux+decode+grey+motion)")
        print(f"  onestop with main only (worker must decode main): {check.per_cam_min():.3f} per camera-minute"
              + (f", of which the decoding thread {check.per_cam_min(main_dec):.3f}" if main_dec is not None else ""))
        if main_role is not None and main_dec:
            share = one.per_cam_min(main_role) / check.per_cam_min(main_dec)
            print(f"  -> the main-stream thread with a sub-stream costs {share:.0%} of decoding main: "
                  + ("not decoded" if share < 0.5 else "SUSPICIOUS: looks decoded"))
    print()
    print("commands:")
    print(f"  benchmark: {shlex.join([sys.executable, *sys.argv])}")
    for r in (one, floor) + ((check,) if check else ()):
        for c in r.commands:
            print(f"  {r.label}: {c}")


def parse_size(text: str) -> tuple[int, int]:
    w, _, h = text.partition("x")
    return int(w), int(h)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--duration", type=float, default=60.0, help="measured window, seconds")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the looped test videos")
    parser.add_argument("--main-size", default="1920x1080", choices=["1920x1080", "1280x720"])
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds after every camera is online")
    parser.add_argument("--verify-seconds", type=float, default=20.0,
                        help="window of the main-only run (0: skip it)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/onestop-bench"))
    parser.add_argument("--fresh", action="store_true", help="re-encode the cached videos")
    parser.add_argument("--noise", type=float, default=0.0,
                        help="sensor noise (grey-level sigma) added to the test videos: real cameras are never "
                             "still, and noise makes the decoder work like it does on a real picture")
    args = parser.parse_args()
    if not have_gst_rtsp():
        sys.exit("the GStreamer RTSP server is missing (see tests/conftest.py require_rtsp_server)")

    print(machine_info())
    main_file, sub_file = ensure_videos(args.cache, args.seconds, parse_size(args.main_size), args.fresh, args.noise)
    server = RtspServer({"/main": main_file, "/sub": sub_file}, loop=True).start()
    print(f"RTSP server: {shlex.join([str(x) for x in server.proc.args])}")  # type: ignore[union-attr]
    try:
        one = run_onestop(server, args, with_sub=True, duration=args.duration, label="onestop (main + sub)")
        floor = run_floor(server, args)
        check = None
        if args.verify_seconds > 0:
            check = run_onestop(server, args, with_sub=False, duration=args.verify_seconds,
                                label="onestop, main only (decodes main)")
    finally:
        server.stop()
    print_report(args, one, floor, check)


if __name__ == "__main__":
    main()
