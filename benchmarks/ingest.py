"""CPU per camera-minute of onestop against the decode floor and a Frigate-style pipeline, in one run.

Usage: python benchmarks/ingest.py [--cameras 4] [--duration 60] [--detect-fps 10 5] [--noise 4]
                                   [--main-size 1920x1080] [--verify-seconds 0] [--short]

N cameras are served by the GStreamer RTSP test server (tests/rtsp_server.py, system python, --loop)
from pre-encoded H.264 files (main 1080p ~4 Mbit/s + 640x360 sub ~0.5 Mbit/s, 10 fps, keyframe
every 2 s, a 4 s walk-by every 20 s, grey sensor noise so the encoder reaches camera bit rates),
cached in /tmp/onestop-bench. Runs, one after the other, each measured over the same window:

1. onestop at each --detect-fps: `python -m monitor.cli run --no-web`, N cameras (main + sub, the
   two zones of the example cameras.yaml); CPU of the supervisor and all its descendants from /proc.
   With py-spy installed the workers' threads are named, so their CPU is split between the
   sub-stream thread (demux, decode, grey, motion, occupancy) and the main-stream thread (demux, ring).
2. decode floor: N x `ffmpeg -nostdin -threads 1 -rtsp_transport tcp -i rtsp://.../sub -f null -`.
3. main receive floor: N x `ffmpeg ... -i rtsp://.../main -c copy -f null -` (what receiving main costs).
4. Frigate-style: N x benchmarks/frigate_style.py (ffmpeg decoding sub to raw yuv420p at the detect
   size and fps through a pipe, NumPy reads, running-average motion) plus N x a recording ffmpeg
   copying main into 10 s segments, as Frigate runs one ffmpeg per input role.
5. optional main-only check (--verify-seconds): onestop without sub decodes main; if (1)'s
   main-stream thread costs a small fraction of that, main is not decoded in (1).
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchlib import (FPS, ROOT, SUB_SIZE, db_rows, ensure_videos, frames_total, machine_info,
                      motion_windows, proc_cpu, py_spy, thread_cpu, thread_names, thread_role, tree_delta,
                      stop_onestop, tree_snapshot, wait_online, workers_of, write_config)
from support import RtspServer, have_gst_rtsp

TARGET_FLOOR_RATIO = 1.3  # onestop may cost at most 30 % more than decoding the detect stream alone
TARGET_FRIGATE_RATIO = 1.5  # ... and must be at least 1.5x cheaper than the Frigate-style pipeline
DETECT_SIZE = (320, 180)  # onestop's default detect_width 320 on a 16:9 sub-stream
FRIGATE_DETECT = "detect: ffmpeg decode+scale -> pipe -> NumPy motion"
FRIGATE_RECORD = "record: ffmpeg copies main into 10 s segments"



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


def run_onestop(server: RtspServer, args: argparse.Namespace, detect_fps: float, with_sub: bool,
                duration: float, label: str) -> RunResult:
    """onestop run --no-web on N cameras, measured over duration after every camera is online."""
    with tempfile.TemporaryDirectory(prefix="onestop-ingest-") as tmp:
        folder = Path(tmp)
        urls = [(server.url("/main"), server.url("/sub") if with_sub else None)] * args.cameras
        cfg = write_config(folder, urls, detect_fps)
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
                stop_onestop(proc)
            log.close()
        result.events = db_rows(db, "select count(*) from events")[0][0]
        result.clips = db_rows(db, "select count(*) from events where clip_state = 'complete'")[0][0]
        result.clip_files = len(list((folder / "recordings").rglob("*.mp4")))
        return result


def run_procs(groups: dict[str, list[list[str]]], args: argparse.Namespace, label: str) -> RunResult:
    """Start every command of every group, wait the warm-up, measure the CPU of each group's trees."""
    procs = {name: [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for c in cmds]
             for name, cmds in groups.items()}
    commands = [f"{len(cmds)} x {shlex.join(cmds[0])}" for cmds in groups.values()]
    result = RunResult(label, 0.0, args.duration, args.cameras, commands=commands)
    try:
        time.sleep(args.warmup)
        if any(p.poll() is not None for ps in procs.values() for p in ps):
            raise RuntimeError(f"{label}: a process exited during warm-up")
        start = {name: tree_snapshot([p.pid for p in ps]) for name, ps in procs.items()}
        time.sleep(args.duration)
        for name, ps in procs.items():
            spent, exited = tree_delta(start[name], tree_snapshot([p.pid for p in ps]))
            result.roles[name] = spent
            result.cpu_s += spent
            result.exited += exited
    finally:
        for ps in procs.values():
            for p in ps:
                p.terminate()
        for ps in procs.values():
            for p in ps:
                p.wait(10)
    return result


def floor_command(url: str, copy: bool) -> list[str]:
    """ffmpeg decoding url single-threaded (or, with copy, only receiving it) and discarding the result."""
    codec = ["-c", "copy"] if copy else []
    return ["ffmpeg", "-nostdin", "-threads", "1", "-rtsp_transport", "tcp", "-i", url, *codec, "-f", "null", "-"]


def frigate_commands(server: RtspServer, cameras: int, fps: float, segments: Path) -> dict[str, list[list[str]]]:
    """Per camera: the detect reader (with its ffmpeg) and a recording ffmpeg, like one Frigate camera."""
    w, h = DETECT_SIZE
    detect = [sys.executable, str(ROOT / "benchmarks" / "frigate_style.py"), server.url("/sub"),
              "--width", str(w), "--height", str(h), "--fps", f"{fps:g}"]
    record = [["ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", server.url("/main"),
               "-c", "copy", "-an", "-f", "segment", "-segment_time", "10", "-segment_format", "mp4",
               "-reset_timestamps", "1", str(segments / f"cam-{i}-%05d.mp4")] for i in range(1, cameras + 1)]
    return {FRIGATE_DETECT: [detect] * cameras, FRIGATE_RECORD: record}


# -- report --------------------------------------------------------------------------------------

def expected_events(seconds: float, stream_s: float, cameras: int) -> int:
    """Motion windows that start within stream_s seconds of looping playback, all cameras."""
    per_lap = motion_windows(seconds)
    laps, rest = divmod(stream_s, seconds)
    return cameras * (int(laps) * len(per_lap) + sum(1 for w in per_lap if w.start_s < rest))


@dataclass
class Runs:
    """Every run of one benchmark invocation."""

    onestop: dict[float, RunResult]  # by detect_fps
    floor: RunResult
    main_floor: RunResult
    frigate: dict[float, RunResult]  # by detect_fps
    check: RunResult | None = None
    all: list[RunResult] = field(default_factory=list)


def ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


def print_table(runs: Runs) -> None:
    print(f"  {'run':<52} {'CPU s':>8} {'per cam-min':>12} {'% core/cam':>11}")
    for r in runs.all:
        pcm = r.per_cam_min()
        print(f"  {r.label:<52} {r.cpu_s:8.2f} {pcm:12.3f} {pcm / 60 * 100:10.2f}%")
        for role, secs in sorted(r.roles.items(), key=lambda kv: -kv[1]):
            print(f"    {role:<50} {'':8} {r.per_cam_min(secs):12.3f}")
        if r.supervisor_s:
            print(f"    {'supervisor (writer, queue)':<50} {'':8} {r.per_cam_min(r.supervisor_s):12.3f}")


def print_ratios(runs: Runs) -> None:
    floor, main_floor = runs.floor.per_cam_min(), runs.main_floor.per_cam_min()
    for fps, one in runs.onestop.items():
        a = one.per_cam_min()
        r1 = ratio(a, floor)
        print(f"  detect_fps {fps:g}: onestop / decode floor = {r1:.2f}  "
              f"(target <= {TARGET_FLOOR_RATIO}: {'OK' if r1 <= TARGET_FLOOR_RATIO else 'ABOVE TARGET'})")
        print(f"  detect_fps {fps:g}: onestop / (decode floor + main receive floor) = "
              f"{ratio(a, floor + main_floor):.2f}  (what any recorder of main must also pay)")
        sub = next((s for role, s in one.roles.items() if role.startswith("sub thread")), None)
        if sub is not None:
            print(f"  detect_fps {fps:g}: sub-stream thread alone / decode floor = {ratio(one.per_cam_min(sub), floor):.2f}")
        if fps in runs.frigate:
            fr = runs.frigate[fps]
            r2 = ratio(fr.per_cam_min(), a)
            det = fr.per_cam_min(fr.roles.get(FRIGATE_DETECT, 0.0))
            print(f"  detect_fps {fps:g}: Frigate-style / onestop = {r2:.2f}  "
                  f"(target >= {TARGET_FRIGATE_RATIO}: {'OK' if r2 >= TARGET_FRIGATE_RATIO else 'BELOW TARGET'}); "
                  f"its detect part alone / onestop = {ratio(det, a):.2f}")


def print_checks(args: argparse.Namespace, runs: Runs) -> None:
    for fps, one in runs.onestop.items():
        print(f"  detect_fps {fps:g}: {one.frames} detect frames analysed "
              f"({one.frames / max(one.duration_s * one.cameras, 1e-9):.2f} per camera-second, stream is {FPS} fps); "
              f"events {one.events} (motion windows streamed: ~{expected_events(args.seconds, one.streamed_s, args.cameras)}), "
              f"clips complete {one.clips}, .mp4 files {one.clip_files}")
    if any(r.exited for r in runs.all):
        print(f"  note: {sum(r.exited for r in runs.all)} process(es) exited inside a window; their earlier CPU is counted")
    check = runs.check
    if check is not None:
        first = next(iter(runs.onestop.values()))
        main_role = next((s for r, s in first.roles.items() if r.startswith("main thread")), None)
        main_dec = next((s for r, s in check.roles.items() if r.startswith("sub thread")), None)
        if main_role is not None and main_dec:
            share = first.per_cam_min(main_role) / check.per_cam_min(main_dec)
            print(f"  main-stream thread with a sub-stream costs {share:.0%} of decoding main: "
                  + ("not decoded" if share < 0.5 else "SUSPICIOUS: looks decoded"))


def print_report(args: argparse.Namespace, runs: Runs) -> None:
    print()
    print(f"CPU seconds per camera-minute: {args.cameras} cameras, {args.duration:g} s window each, main "
          f"{args.main_size} + sub {SUB_SIZE[0]}x{SUB_SIZE[1]} at {FPS} fps, detect {DETECT_SIZE[0]}x{DETECT_SIZE[1]}, "
          f"noise sigma {args.noise:g} (config default detect_fps is 5; the stream runs at {FPS})")
    print_table(runs)
    print()
    print("ratios (same run, same machine):")
    print_ratios(runs)
    print()
    print("checks:")
    print_checks(args, runs)
    print()
    print("commands:")
    print(f"  benchmark: {shlex.join([sys.executable, *sys.argv])}")
    for r in runs.all:
        for c in r.commands:
            print(f"  {r.label}: {c}")


def parse_size(text: str) -> tuple[int, int]:
    w, _, h = text.partition("x")
    return int(w), int(h)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--duration", type=float, default=60.0, help="measured window of each run, seconds")
    parser.add_argument("--detect-fps", type=float, nargs="+", default=[10.0, 5.0],
                        help="onestop (and Frigate-style) runs at these detect rates; the stream is 10 fps")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the looped test videos")
    parser.add_argument("--main-size", default="1920x1080", choices=["1920x1080", "1280x720"])
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds after every camera is online")
    parser.add_argument("--verify-seconds", type=float, default=0.0,
                        help="window of the main-only check run (0: skip it)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/onestop-bench"))
    parser.add_argument("--fresh", action="store_true", help="re-encode the cached videos")
    parser.add_argument("--noise", type=float, default=4.0,
                        help="sensor noise (grey-level sigma) in the test videos: without it the encoder "
                             "reaches a twentieth of a camera's bit rate and decoding costs next to nothing")
    parser.add_argument("--short", action="store_true", help="quick look: 2 cameras, 20 s windows, detect_fps 10")
    args = parser.parse_args()
    if args.short:
        args.cameras, args.duration, args.detect_fps, args.warmup = 2, 20.0, [10.0], 3.0
    return args


def main() -> None:
    args = parse_args()
    if not have_gst_rtsp():
        sys.exit("the GStreamer RTSP server is missing (see tests/support.py require_rtsp_server)")
    print(machine_info())
    main_file, sub_file = ensure_videos(args.cache, args.seconds, parse_size(args.main_size), args.fresh, args.noise)
    server = RtspServer({"/main": main_file, "/sub": sub_file}, loop=True).start()
    print(f"RTSP server: {shlex.join([str(x) for x in server.proc.args])}")  # type: ignore[union-attr]
    try:
        onestop = {fps: run_onestop(server, args, fps, True, args.duration, f"onestop, detect_fps {fps:g}")
                   for fps in args.detect_fps}
        n = args.cameras
        floor = run_procs({"ffmpeg -threads 1 decodes sub": [floor_command(server.url("/sub"), False)] * n},
                          args, "decode floor (sub)")
        main_floor = run_procs({"ffmpeg receives main, -c copy": [floor_command(server.url("/main"), True)] * n},
                               args, "main receive floor")
        with tempfile.TemporaryDirectory(prefix="onestop-frigate-") as tmp:
            frigate = {fps: run_procs(frigate_commands(server, n, fps, Path(tmp)), args,
                                      f"Frigate-style, detect_fps {fps:g}") for fps in args.detect_fps}
        check = None
        if args.verify_seconds > 0:
            check = run_onestop(server, args, max(args.detect_fps), False, args.verify_seconds,
                                "onestop, main only (decodes main)")
    finally:
        server.stop()
    runs = Runs(onestop, floor, main_floor, frigate, check)
    runs.all = [*onestop.values(), floor, main_floor, *frigate.values(), *([check] if check else [])]
    print_report(args, runs)


if __name__ == "__main__":
    main()
