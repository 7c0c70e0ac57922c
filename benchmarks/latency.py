"""Event latency: from the first moving frame to the event row readable in the database, p50/p95.

Usage: python benchmarks/latency.py [--cameras 4] [--duration 120] [--detect-fps 5] [--min-length 0] [--short]

N cameras play the ingest benchmark's videos (a 4 s walk-by every 20 s) over the GStreamer RTSP test
server; `onestop run --no-web` writes the events. The benchmark polls the database every POLL_S
and notes when each event row first becomes readable. Latency = that moment - the event's `start`
(the wall-clock arrival of its first moving frame, stamped by the worker): decode, detection,
event tracking, the queue to the supervisor, the writer's batch and commit. The event only exists
once motion has lasted events.min_length_s (config default 1 s), so that wait is added by design:
the default run sets it to 0 to measure the pipeline; --min-length 1 shows the configured behaviour.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import ROOT, db_rows, ensure_videos, machine_info, stop_onestop, wait_online, write_config
from support import RtspServer, have_gst_rtsp

POLL_S = 0.02  # the reader's polling step: adds at most this to each figure
TARGET_P95_S = 0.5


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def collect(db: Path, duration: float) -> dict[str, tuple[float, float, float]]:
    """event id -> (start, created, first seen) for every event that appeared during duration."""
    known = {r[0] for r in db_rows(db, "select id from events")}
    seen: dict[str, tuple[float, float, float]] = {}
    end = time.monotonic() + duration
    while time.monotonic() < end:
        now = time.time()
        for eid, start, created in db_rows(db, "select id, start, created from events order by created desc limit 50"):
            if eid not in known and eid not in seen:
                seen[eid] = (start, created, now)
        time.sleep(POLL_S)
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of events collected")
    parser.add_argument("--detect-fps", type=float, default=5.0, help="the config default is 5; the stream is 10")
    parser.add_argument("--min-length", type=float, default=0.0, help="events.min_length_s (config default 1)")
    parser.add_argument("--noise", type=float, default=4.0)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/onestop-bench"))
    parser.add_argument("--short", action="store_true", help="quick look: 2 cameras, 60 s")
    args = parser.parse_args()
    if args.short:
        args.cameras, args.duration = 2, 60.0
    if not have_gst_rtsp():
        sys.exit("the GStreamer RTSP server is missing (see tests/support.py require_rtsp_server)")
    print(machine_info())
    main_file, sub_file = ensure_videos(args.cache, 60.0, (1920, 1080), False, args.noise)
    server = RtspServer({"/main": main_file, "/sub": sub_file}, loop=True).start()
    try:
        with tempfile.TemporaryDirectory(prefix="onestop-latency-") as tmp:
            folder = Path(tmp)
            extra = f"  events:\n    min_length_s: {args.min_length:g}"
            cfg = write_config(folder, [(server.url("/main"), server.url("/sub"))] * args.cameras, args.detect_fps,
                               extra=extra)
            db = folder / "onestop.db"
            cmd = [sys.executable, "-m", "monitor.cli", "run", "-c", str(cfg), "--no-web"]
            with open(folder / "onestop.log", "w") as log:
                proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
                try:
                    wait_online(db, args.cameras, proc)
                    events = collect(db, args.duration)
                finally:
                    stop_onestop(proc)
    finally:
        server.stop()
    report(args, cmd, events)


def report(args: argparse.Namespace, cmd: list[str], events: dict[str, tuple[float, float, float]]) -> None:
    print(f"benchmark: {shlex.join([sys.executable, *sys.argv])}")
    print(f"onestop: {shlex.join(cmd)}")
    print(f"{args.cameras} cameras, detect_fps {args.detect_fps:g}, events.min_length_s {args.min_length:g}, "
          f"{len(events)} events in {args.duration:g} s (polled every {POLL_S * 1000:.0f} ms)")
    if not events:
        print("no events: nothing to measure")
        return
    visible = [seen - start for start, _, seen in events.values()]
    written = [created - start for start, created, _ in events.values()]
    p95 = percentile(visible, 0.95)
    print(f"  first moving frame -> row readable: p50 {statistics.median(visible):.3f} s, p95 {p95:.3f} s, "
          f"max {max(visible):.3f} s")
    print(f"  first moving frame -> row inserted (writer clock): p50 {statistics.median(written):.3f} s, "
          f"p95 {percentile(written, 0.95):.3f} s")
    pipeline = p95 - args.min_length
    print(f"  p95 less the min_length_s wait: {pipeline:.3f} s  (target <= {TARGET_P95_S} s: "
          f"{'OK' if pipeline <= TARGET_P95_S else 'ABOVE TARGET'})")


if __name__ == "__main__":
    main()
