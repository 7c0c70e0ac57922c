"""How many cameras one machine serves: the largest N within 75 % of all cores, no growing lag, no dropped frames.

Usage: python benchmarks/capacity.py [--cameras 16 32 48 64] [--detect-fps 5] [--duration 60] [--short] [--busy | --no-zones]

Every camera is main 1080p (~4 Mbit/s) + sub 640x360 (~0.5 Mbit/s) at 10 fps from the GStreamer
RTSP test server (tests/rtsp_server.py --loop: pre-encoded files, no live encoding; one server
pipeline per stream, on the same cores), with the two zones of the example cameras.yaml: a staff
seat and a service spot without person_height over a synthetic walk-by every 20 s (the person
detector runs on the two seats). --busy serves instead the demo's busy simulated office, looping
(benchmarks/busy_camera.py: 1280x720 main + 640x360 sub, citizens arriving, waiting and being served
all the time) with its 4 zones (staff seat, service spot, waiting area with person_height, a motion
zone) and its mask on every camera: full counter analytics, the person detector on every zone.
For each N, ascending, `python -m monitor.cli run --no-web` runs until every camera is online,
then a warm-up, then the window. Pass for N when, over the window:
- onestop's CPU (supervisor and all its workers, from /proc) <= 75 % of all cores;
- no camera dropped a detect frame (the worker's heartbeat stats in the cameras table: frames
  more than 2 s behind real time are skipped and counted);
- no camera's lag grew by more than LAG_GROWTH_S, and every camera analysed >= 95 % of the
  frames detect_fps asks for.
The search stops at the first N that fails. The RTSP server's own CPU is shown, not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from benchlib import (ROOT, ZONES, db_rows, ensure_videos, machine_info, proc_cpu, stop_onestop, tree_delta,
                      tree_snapshot, write_config)
from busy_camera import busy_office_files
from support import RtspServer, have_gst_rtsp

CPU_LIMIT = 0.75  # of all cores: headroom for the web app, reports, retention and bursts of events
LAG_GROWTH_S = 0.5  # lag that rises this much over the window is a backlog building up
MIN_FRAME_SHARE = 0.95  # of detect_fps x window: a worker below this is falling behind
SAMPLE_EVERY_S = 5.0
ONLINE_S_PER_CAMERA = 1.5  # spawning a worker (imports of av, cv2, numpy) on a loaded 2-core box


@dataclass
class Step:
    cameras: int
    cpu_share: float = 0.0  # of all cores
    server_share: float = 0.0
    dropped: int = 0
    lag_growth: float = 0.0
    max_lag: float = 0.0
    min_frame_share: float = 0.0
    rss_mb: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def ok(self) -> bool:
        return (not self.note and self.cpu_share <= CPU_LIMIT and self.dropped == 0
                and self.lag_growth <= LAG_GROWTH_S and self.min_frame_share >= MIN_FRAME_SHARE)


def camera_stats(db: Path) -> dict[str, dict]:
    """camera id -> frames, the time of the heartbeat that reported them (beat_at) and the stats, from the cameras table."""
    return {cid: {"frames": frames or 0, "beat_at": seen or 0.0, **(json.loads(stats) if stats else {})}
            for cid, frames, seen, stats in db_rows(db, "select id, frames, last_seen, stats from cameras")}


def wait_online(db: Path, cameras: int, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"onestop exited with code {proc.returncode}")
        rows = db_rows(db, "select state, stats from cameras")
        if len(rows) == cameras and all(r[0] == "online" and r[1] for r in rows):
            return
        time.sleep(1.0)
    raise RuntimeError(f"not every camera online with stats after {timeout:.0f} s")


def measure(step: Step, db: Path, roots: list[int], server_pid: int, args: argparse.Namespace) -> None:
    """Fill step from one window: CPU from /proc, frames, dropped and lag from the workers' stats."""
    first = camera_stats(db)
    start, server0 = tree_snapshot(roots), proc_cpu(server_pid)
    t0 = time.monotonic()
    lags: dict[str, list[float]] = {cid: [s.get("lag_s") or 0.0] for cid, s in first.items()}
    while time.monotonic() - t0 < args.duration:
        time.sleep(min(SAMPLE_EVERY_S, args.duration - (time.monotonic() - t0)))
        for cid, s in camera_stats(db).items():
            lags.setdefault(cid, []).append(s.get("lag_s") or 0.0)
    elapsed = time.monotonic() - t0
    spent, _ = tree_delta(start, tree_snapshot(roots))
    server1 = proc_cpu(server_pid)
    last = camera_stats(db)
    cores = os.cpu_count() or 1
    step.cpu_share = spent / (elapsed * cores)
    if server0 and server1:
        step.server_share = (server1[1] - server0[1]) / (elapsed * cores)
    step.dropped = sum((last[c].get("dropped") or 0) - (first[c].get("dropped") or 0) for c in last)
    # lag: the mean of the last two samples against the first two, so one late heartbeat is not a trend
    step.lag_growth = max((sum(v[-2:]) / len(v[-2:])) - (sum(v[:2]) / len(v[:2])) for v in lags.values())
    step.max_lag = max(max(v) for v in lags.values())
    # frames over the time between the two heartbeats that reported them: against the window's wall
    # time, the heartbeats' 1 s phase alone moved a camera's share by up to 2/30 = +-7 %
    step.min_frame_share = min((last[c]["frames"] - first[c]["frames"])
                               / (args.detect_fps * max(last[c]["beat_at"] - first[c]["beat_at"], 1e-9)) for c in last)
    step.rss_mb = [s["rss_bytes"] / 1e6 for s in last.values() if s.get("rss_bytes")]


def run_step(server: RtspServer, n: int, args: argparse.Namespace) -> Step:
    step = Step(n)
    with tempfile.TemporaryDirectory(prefix="onestop-capacity-") as tmp:
        folder = Path(tmp)
        cfg = write_config(folder, [(server.url("/main"), server.url("/sub"))] * n, args.detect_fps,
                           zones=not args.no_zones, camera_yaml=args.camera_yaml)
        db = folder / "onestop.db"
        cmd = [sys.executable, "-m", "monitor.cli", "run", "-c", str(cfg), "--no-web"]
        log = open(folder / "onestop.log", "w+")
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_online(db, n, proc, 30 + ONLINE_S_PER_CAMERA * n)
            time.sleep(args.warmup)
            assert server.proc is not None
            measure(step, db, [proc.pid], server.proc.pid, args)
        except RuntimeError as err:
            step.note = f"{err}; states: {db_rows(db, 'select state, count(*) from cameras group by state')}"
            log.seek(0)
            sys.stderr.write(log.read()[-3000:])
        finally:
            stop_onestop(proc)
            log.close()
    return step


def print_step(s: Step) -> None:
    rss = f"{max(s.rss_mb):.0f}/{sum(s.rss_mb) / len(s.rss_mb):.0f}" if s.rss_mb else "?"
    print(f"  {s.cameras:>4} {s.cpu_share:8.1%} {s.server_share:8.1%} {s.dropped:8d} {s.lag_growth:8.2f} "
          f"{s.max_lag:8.2f} {s.min_frame_share:8.1%} {rss:>10}  {'PASS' if s.ok else 'FAIL'} {s.note}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, nargs="+", default=[16, 32, 48, 64], help="N to try, ascending")
    parser.add_argument("--detect-fps", type=float, default=5.0, help="the config default is 5; the stream is 10")
    parser.add_argument("--duration", type=float, default=60.0, help="measured window per N, seconds")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds after every camera is online")
    parser.add_argument("--noise", type=float, default=4.0, help="sensor noise of the test videos (see ingest.py)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/onestop-bench"))
    parser.add_argument("--short", action="store_true", help="quick look: 4 and 8 cameras, 20 s windows "
                        "(with --cameras: those N, 20 s windows)")
    parser.add_argument("--no-zones", action="store_true",
                        help="cameras without zones: motion, events and recording only (no person detector)")
    parser.add_argument("--busy", action="store_true",
                        help="every camera is the demo's busy office with its 4 zones (see the docstring)")
    args = parser.parse_args()
    if args.short:
        explicit = any(a == "--cameras" or a.startswith("--cameras=") for a in sys.argv[1:])
        args.cameras, args.duration, args.warmup = args.cameras if explicit else [4, 8], 20.0, 5.0
    if not have_gst_rtsp():
        sys.exit("the GStreamer RTSP server is missing (see tests/support.py require_rtsp_server)")
    print(machine_info())
    if args.busy:
        main_file, sub_file, cam = busy_office_files(args.cache)
        args.camera_yaml = textwrap.indent(yaml.safe_dump({"masks": cam.get("masks", []), "zones": cam["zones"]},
                                                          sort_keys=False), "    ").rstrip()
        print("cameras: the busy simulated office, zones " + ", ".join(f"{z['id']} ({z['kind']})" for z in cam["zones"]))
    else:
        main_file, sub_file = ensure_videos(args.cache, 60.0, (1920, 1080), False, args.noise)
        args.camera_yaml = ZONES
    server = RtspServer({"/main": main_file, "/sub": sub_file}, loop=True).start()
    print(f"RTSP server: {shlex.join([str(x) for x in server.proc.args])}")  # type: ignore[union-attr]
    print(f"benchmark: {shlex.join([sys.executable, *sys.argv])}")
    print(f"detect_fps {args.detect_fps:g}, window {args.duration:g} s; pass: onestop CPU <= {CPU_LIMIT:.0%} of "
          f"{os.cpu_count()} cores, 0 dropped, lag growth <= {LAG_GROWTH_S} s, frames >= {MIN_FRAME_SHARE:.0%}")
    print(f"  {'N':>4} {'onestop':>8} {'server':>8} {'dropped':>8} {'lag+ s':>8} {'lag max':>8} "
          f"{'frames':>8} {'RSS MB max/mean':>10}")
    best = 0
    try:
        for n in sorted(args.cameras):
            step = run_step(server, n, args)
            print_step(step)
            if not step.ok:
                break
            best = n
    finally:
        server.stop()
    print(f"largest N that passes: {best} (target {'>= 16 busy cameras' if args.busy else '>= 64'})")


if __name__ == "__main__":
    main()
