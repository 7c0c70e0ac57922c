"""Shared parts of the ingest and capacity benchmarks: test videos, onestop configs with zones,
process-tree CPU from /proc, the figures the workers report in the database, the machine."""

from __future__ import annotations

import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import media  # noqa: E402
from media import MotionWindow, VideoSpec, make_video  # noqa: E402

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


# -- onestop configs and what the workers report --------------------------------------------------

# The zones of the example cameras.yaml: an officer's seat and the spot in front of the counter.
ZONES = """    zones:
      - id: staff-seat
        kind: staff_seat
        points: [[0.1, 0.2], [0.4, 0.2], [0.4, 0.6], [0.1, 0.6]]
      - id: counter-front
        kind: service_spot
        points: [[0.1, 0.6], [0.45, 0.6], [0.5, 1.0], [0.05, 1.0]]"""


def write_config(folder: Path, urls: list[tuple[str, str | None]], detect_fps: float, zones: bool = True,
                 extra: str = "", camera_yaml: str = ZONES) -> Path:
    """cameras.yaml for cam-1..cam-N with (main, sub) URLs; extra is added under defaults, camera_yaml
    (zones and masks, indented under a camera) to every camera when zones is true."""
    lines = [
        "site:",
        "  name: benchmark",
        "storage:",
        f"  recordings: {folder / 'recordings'}",
        f"  database: {folder / 'onestop.db'}",
        "defaults:",
        f"  detect_fps: {detect_fps:g}",
        *([extra] if extra else []),
        "cameras:",
    ]
    for i, (main, sub) in enumerate(urls, 1):
        lines += [f"  - id: cam-{i}", f"    name: Camera {i}", "    streams:", f"      main: {main}"]
        if sub:
            lines.append(f"      sub: {sub}")
        if zones:
            lines.append(camera_yaml)
    path = folder / "cameras.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def db_rows(db: Path, sql: str) -> list[tuple]:
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
        rows = db_rows(db, "select state from cameras")
        if len(rows) == cameras and all(r[0] == "online" for r in rows):
            return
        time.sleep(0.5)
    raise RuntimeError(f"cameras not online after {ONLINE_TIMEOUT_S:.0f} s: {db_rows(db, 'select id, state from cameras')}")


def frames_total(db: Path) -> int:
    return sum(r[0] or 0 for r in db_rows(db, "select frames from cameras"))


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




def stop_onestop(proc: subprocess.Popen) -> None:
    """SIGTERM (the supervisor finishes clips and flushes), then a kill if it takes too long."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
