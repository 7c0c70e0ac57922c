"""Soak: N cameras on the real GStreamer RTSP server for a set duration; memory growth and stream health.

Usage: python benchmarks/soak.py [--cameras 4] [--minutes 10] [--warmup 60] [--sample 60]

Runs `python -m monitor.cli run --no-web` on N cameras (main 1280x720 + sub 640x360, 10 fps, detect
at 5 fps, one zone each), waits `--warmup` seconds (imports, first clips, caches), then samples
every `--sample` seconds from /proc and the database: RSS of each worker and of the supervisor,
reconnects, frames analysed against the frames expected at detect_fps (the shortfall is reported as
short), the workers' own dropped-frame count and lag, events and clips. Prints RSS growth per worker
from the first to the last sample; the target is at most 5 % over an hour.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from conftest import RtspServer, have_gst_rtsp  # noqa: E402
from ingest import ensure_videos  # noqa: E402

DETECT_FPS = 5
TARGET_GROWTH = 0.05  # RSS may grow at most 5 % over an hour of running
ONLINE_TIMEOUT_S = 90.0  # spawning N workers that import av/cv2/numpy on a busy 2-core box
STOP_TIMEOUT_S = 40.0


def rss_kb(pid: int) -> int | None:
    """Resident set size of one process in kB, from /proc/PID/status (None if it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rows(db: Path, sql: str) -> list[dict]:
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql)]
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def config_text(server: RtspServer, cameras: int) -> str:
    cams = "".join(textwrap.dedent(f"""\
          - id: cam-{i}
            name: "Soak {i}"
            streams: {{main: "{server.url('/main')}", sub: "{server.url('/sub')}"}}
            zones:
              - {{id: seat, kind: staff_seat, points: [[0.1, 0.2], [0.4, 0.2], [0.4, 0.6], [0.1, 0.6]]}}
        """) for i in range(cameras))
    return (f'site: {{name: "soak"}}\nstorage: {{recordings: recordings, database: onestop.db}}\n'
            f"defaults: {{detect_fps: {DETECT_FPS}, pre_roll_s: 3, post_roll_s: 4}}\ncameras:\n"
            + textwrap.indent(cams, ""))


def snapshot(db: Path, supervisor: int) -> dict:
    cams = rows(db, "select id, pid, state, reconnects, frames, stats from cameras order by id")
    for c in cams:  # the worker's own counters (monitor/camera/stats.py): frames skipped for lag, current lag
        stats = json.loads(c.pop("stats") or "{}")
        c["worker_dropped"], c["lag_s"] = stats.get("dropped"), stats.get("lag_s")
    return {
        "t": time.time(),
        "cams": {c["id"]: {**c, "rss": rss_kb(c["pid"]) if c["pid"] else None} for c in cams},
        "supervisor_rss": rss_kb(supervisor),
        "events": rows(db, "select count(*) as n from events")[0]["n"],
        "clips": rows(db, "select count(*) as n from events where clip_state = 'complete'")[0]["n"],
    }


def wait_online(db: Path, cameras: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + ONLINE_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("onestop exited during start-up")
        cams = rows(db, "select state, pid from cameras")
        if len(cams) == cameras and all(c["state"] == "online" and c["pid"] for c in cams):
            return
        time.sleep(1)
    raise SystemExit(f"cameras not online after {ONLINE_TIMEOUT_S:.0f} s")


def _delta(a: int | None, b: int | None) -> int | str:
    return b - a if a is not None and b is not None else "-"


def report(first: dict, last: dict, minutes: float, log: Path) -> None:
    elapsed = last["t"] - first["t"]
    print(f"\nsoak: {len(last['cams'])} cameras, measured over {elapsed / 60:.1f} min (target duration {minutes} min)")
    print(f"{'camera':<8} {'pid':>7} {'RSS start':>10} {'RSS end':>10} {'growth':>8} {'reconn':>7} "
          f"{'frames':>7} {'expected':>8} {'short':>6} {'dropped':>8} {'lag s':>6}")
    growths = []
    for cam, end in last["cams"].items():
        start = first["cams"][cam]
        same = start["pid"] == end["pid"]
        growth = (end["rss"] - start["rss"]) / start["rss"] if same and start["rss"] and end["rss"] else None
        if growth is not None:
            growths.append(growth)
        frames = (end["frames"] or 0) - (start["frames"] or 0) if same else None
        expected = int(elapsed * DETECT_FPS)
        print(f"{cam:<8} {end['pid']:>7} {start['rss'] or 0:>8}kB {end['rss'] or 0:>8}kB "
              f"{'restarted' if growth is None else f'{growth * 100:+.1f}%':>8} "
              f"{(end['reconnects'] or 0) - (start['reconnects'] or 0):>7} {frames if frames is not None else '-':>7} "
              f"{expected:>8} {expected - frames if frames is not None else '-':>6} "
              f"{_delta(start.get('worker_dropped'), end.get('worker_dropped')) if same else '-':>8} "
              f"{end['lag_s'] if end.get('lag_s') is not None else '-':>6}")
    sup0, sup1 = first["supervisor_rss"], last["supervisor_rss"]
    print(f"supervisor RSS {sup0} kB -> {sup1} kB ({(sup1 - sup0) / sup0 * 100:+.1f}%)")
    print(f"events {last['events'] - first['events']}, complete clips {last['clips'] - first['clips']} during the window")
    text = log.read_text(errors="replace")
    print(f"log: {text.count('dropped')} 'dropped' lines, {text.count('worker exited')} worker restarts, "
          f"{text.count('Traceback')} tracebacks")
    if growths:
        worst = max(growths)
        hourly = worst * 3600 / elapsed if elapsed > 0 else worst
        print(f"worst worker RSS growth {worst * 100:+.2f}% in {elapsed / 60:.1f} min "
              f"(linear per hour {hourly * 100:+.2f}%, target <= {TARGET_GROWTH * 100:.0f}% per hour)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cameras", type=int, default=4)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=60, help="seconds before the first sample")
    ap.add_argument("--sample", type=float, default=60, help="seconds between samples")
    args = ap.parse_args()
    if not have_gst_rtsp():
        raise SystemExit("GStreamer RTSP server missing: apt-get install python3-gi gir1.2-gst-rtsp-server-1.0")
    cache = Path(tempfile.gettempdir()) / "onestop-bench"
    cache.mkdir(exist_ok=True)
    main_mp4, sub_mp4 = ensure_videos(cache, 60, (1280, 720), False, 0)
    server = RtspServer({"/main": main_mp4, "/sub": sub_mp4}, loop=True).start()
    with tempfile.TemporaryDirectory(prefix="onestop-soak-") as tmp:
        folder = Path(tmp)
        (folder / "cameras.yaml").write_text(config_text(server, args.cameras), encoding="utf-8")
        log = folder / "onestop.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "run", "--no-web", "-c",
                                     str(folder / "cameras.yaml")], stdout=out, stderr=subprocess.STDOUT,
                                    cwd=ROOT, start_new_session=True)
        db = folder / "onestop.db"
        try:
            wait_online(db, args.cameras, proc)
            time.sleep(args.warmup)
            first = snapshot(db, proc.pid)
            end = time.time() + args.minutes * 60
            while time.time() < end:
                time.sleep(min(args.sample, max(0.0, end - time.time())))
                snap = snapshot(db, proc.pid)
                rss = ", ".join(f"{c}:{v['rss']}" for c, v in snap["cams"].items())
                print(f"t+{(snap['t'] - first['t']) / 60:5.1f} min  RSS kB {rss}  supervisor {snap['supervisor_rss']}",
                      flush=True)
            report(first, snapshot(db, proc.pid), args.minutes, log)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
