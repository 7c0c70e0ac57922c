"""The development scenes through the live path, scored as the acceptance scores `onestop analyze`.

Usage: python benchmarks/live_accuracy.py [--score-py ../shared/devscenes/score.py] [--scenes office-2c office-4c]
           [--rtsp] [--late DIR] [--markers FACTOR] [--keep DIR] [--no-analyze]

--keep DIR keeps each scene's two JSONs (live and analyze), the database and cameras.yaml. --late DIR plays each
scene from a third of the way in instead, as `accuracy.py --kinds late` cuts it (officers seated, citizens
waiting: the workers start mid-morning), the cut videos made once into DIR. --markers FACTOR sets every
person_height to FACTOR times score.py's (a user who set the markers wrong): the workers' height check should
correct them a minute in (each camera's last heartbeat's height_factor and height_corrected are printed).

`onestop analyze` is what score.py measures; a supervisor sees something else: what the camera workers
stored, second by second, while the video came in at real time, and what the office report makes of it.
This plays every development scene beside score.py to one `onestop run --no-web` (one camera per scene,
the zones of score.py's own `zones(truth, floor=True)`, as `benchmarks/accuracy.py` gives them to
analyze), each file once at real time (a file source: the worker paces it; with --rtsp, from the GStreamer
RTSP test server, tests/rtsp_server.py, as a camera sends it). When every scene has played, onestop is
stopped (the workers flush the seconds they hold) and, per scene:
- `per_second` is the stored occupancy table, t counted from the camera's first stored second;
- `sessions`, `absences` and `waiting.mean_wait_s` come from the office report's analysis
  (monitor.counters.site.analyse_office over the stored samples, the report's AnalyticsParams, the
  derived office: one queue per camera; the mean wait as the report's queue row gives it);
and score.py scores that JSON. Beside it, `onestop analyze` of the same file (unless --no-analyze).

What differs by design: the live report has no start or end of a video. A session under way when the worker
started begins at the worker's first second (analyze dates it back by an estimate of its age), and one begun
in the last 20 s is not a session yet (it needs min_session_s; analyze keeps the one the file's end cut).
The stored seconds lag the video by the fraction of a second at which the first frame came (under 1 s;
score.py forgives seat changes within its tolerance). Over RTSP the first stored second is not the file's
first (the stream begins at a keyframe after the connect): the stored seconds are moved by the whole
seconds (0..MAX_SHIFT_S, shown as `shift`) that make their counts agree best with analyze's. The server
starts a file again when the camera reconnects after its end: the seconds past the first play are left out.
Runs as long as the longest scene plays (12 minutes for the development scenes), plus a minute.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from accuracy import DEFAULT_SCORE_PY, METRICS, ROOT, analyze, late_cut, load_module
from benchlib import db_rows

START_TIMEOUT_S = 90.0  # every camera's first stored second
END_SLACK_S = 45.0  # past the longest scene: the workers' 15 s hold, a reconnect, the writer's batches
STOP_TIMEOUT_S = 60.0
MAX_SHIFT_S = 5  # an RTSP stream's first frames: up to a keyframe interval (2 s in the scenes) and the connect


def site_config(folder: Path, scenes: list[tuple[str, Path, dict]], scorer, sources: dict[str, str],
                markers: float = 1.0) -> Path:
    """cameras.yaml: one camera per scene (its id the scene's name) with score.py's floor zones; markers: every
    person_height times this (a user who set the markers that far off)."""
    cameras = []
    for name, _, truth in scenes:
        streams = {"main": sources[name]}
        if not sources[name].startswith("rtsp://"):
            streams["loop"] = False
        zones = scorer.zones(truth, floor=True)
        for z in zones:
            if z.get("person_height"):
                z["person_height"] = [round(min(v * markers, 1.0), 4) for v in z["person_height"]]
        cameras.append({"id": name, "name": name, "streams": streams, "zones": zones})
    cfg = {"site": {"name": "live accuracy", "language": "en"},
           "storage": {"recordings": str(folder / "recordings"), "database": str(folder / "onestop.db")},
           "cameras": cameras}
    path = folder / "cameras.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def stored_span(db: Path) -> dict[str, tuple[int, int]]:
    """Each camera's first and last stored second."""
    return {cam: (int(t0), int(t1)) for cam, t0, t1 in db_rows(db, "select camera, min(t), max(t) from occupancy group by camera")}


def play(cfg: Path, db: Path, durations: dict[str, float], log: Path) -> dict[str, int]:
    """Run onestop until every camera stored its scene's length (at most the longest scene plus END_SLACK_S);
    returns each camera's first stored second."""
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "run", "-c", str(cfg), "--no-web"], cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        started = time.monotonic()
        while len(span := stored_span(db)) < len(durations):
            if proc.poll() is not None:
                raise RuntimeError(f"onestop exited ({proc.returncode}) before every camera stored a second")
            if time.monotonic() - started > START_TIMEOUT_S:
                raise RuntimeError(f"no stored second from {sorted(set(durations) - set(span))} in {START_TIMEOUT_S:.0f} s")
            time.sleep(1.0)
        first = {cam: t0 for cam, (t0, _) in span.items()}
        deadline = time.monotonic() + max(durations.values()) + END_SLACK_S
        while time.monotonic() < deadline:
            last = {cam: t1 for cam, (_, t1) in stored_span(db).items()}
            # done when each camera has reached its length less the 15 s its worker holds back
            if all(last.get(c, 0) - first[c] >= d - 16 for c, d in durations.items()):
                time.sleep(5.0)
                break
            if proc.poll() is not None:
                raise RuntimeError(f"onestop exited ({proc.returncode}) while playing")
            time.sleep(2.0)
        return first
    finally:
        proc.send_signal(signal.SIGTERM)  # the workers send the seconds they hold back
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def stored_result(cfg: Path, db_path: Path, camera: str, t0: int, duration: float) -> dict:
    """The stored seconds and the office report's analysis of one camera, as `onestop analyze --json` fields."""
    from monitor.counters.office_report import office_samples
    from monitor.counters.site import analyse_office, queue_window
    from monitor.db.store import open_db
    from monitor.records import Interval
    from monitor.site.config import load_config
    from monitor.site.office import derive_office

    office = derive_office([load_config(cfg).camera(camera)])  # the report's office, this camera's part of it
    end = t0 + int(math.ceil(duration))
    window = Interval(float(t0), float(end))
    db = open_db(db_path)
    try:
        rows = db.execute("select t, zone, occupied, count from occupancy where camera = ? and t >= ? and t < ? "
                          "order by t", [camera, t0, end]).fetchall()
        samples = office_samples(db, office, window)
    finally:
        db.conn.close()
    per: dict[int, dict] = {}
    for t, zone, occupied, count in rows:
        per.setdefault(int(t) - t0, {})[zone] = {"occupied": bool(occupied), "count": float(count)}
    analysis = analyse_office(office, samples, [window])
    sessions = [{"counter": c.spot[1], "start_s": iv.start - t0, "end_s": iv.end - t0}
                for c in office.counters for iv in analysis.sessions[c.id]]
    absences = [{"zone": c.seat[1], "start_s": iv.start - t0, "end_s": iv.end - t0}
                for c in office.counters for iv in analysis.absences[c.id]]
    mean_wait = queue_window(analysis, office.queues[0].id, window).mean_wait_s if office.queues else None
    return {"camera": camera, "duration_s": duration, "per_second": [{"t": t, "zones": z} for t, z in sorted(per.items())],
            "sessions": sorted(sessions, key=lambda s: (s["start_s"], s["counter"])), "absences": absences,
            "waiting": {"mean_wait_s": mean_wait if mean_wait is not None else 0.0}, "seconds_stored": len(per)}


def best_shift(live: dict, offline: dict, most: int = MAX_SHIFT_S) -> int:
    """How many seconds of the file came before the camera's first stored second: the shift (0..most) that
    makes the stored per-zone counts agree best with analyze's (an RTSP stream begins at a keyframe)."""
    def counts(result: dict) -> dict[tuple[int, str], float]:
        return {(row["t"], z): float(v["count"]) for row in result["per_second"] for z, v in row["zones"].items()}

    ours, theirs = counts(live), counts(offline)

    def gap(shift: int) -> float:
        diffs = [abs(v - theirs[(t + shift, z)]) for (t, z), v in ours.items() if (t + shift, z) in theirs]
        return sum(diffs) / len(diffs) if diffs else math.inf

    return min(range(most + 1), key=gap)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--score-py", type=Path, default=DEFAULT_SCORE_PY)
    ap.add_argument("--scenes", nargs="+", help="Scene folders beside score.py (default: all of them).")
    ap.add_argument("--rtsp", action="store_true", help="Serve the files from the GStreamer RTSP test server.")
    ap.add_argument("--keep", type=Path, help="Keep the live JSON (and analyze's) of each scene here.")
    ap.add_argument("--no-analyze", action="store_true", help="Do not run `onestop analyze` beside it.")
    ap.add_argument("--late", type=Path, metavar="DIR",
                    help="Play each scene from a third of the way in instead (officers seated, citizens waiting: a "
                         "worker started mid-morning), as `accuracy.py --kinds late` cuts them (made once into DIR).")
    ap.add_argument("--markers", type=float, default=1.0, metavar="FACTOR",
                    help="Set every person_height to FACTOR times score.py's (markers set wrong); the workers' height "
                         "check corrects them (their heartbeat's height_factor, height_corrected are printed).")
    args = ap.parse_args()
    if not 0.2 <= args.markers <= 3.0:
        raise SystemExit(f"--markers: {args.markers} is outside 0.2..3 (a factor on score.py's person_height)")
    try:
        scorer = load_module(args.score_py, "devscore")
    except FileNotFoundError as err:
        raise SystemExit(f"--score-py: {err}") from None
    names = args.scenes or sorted(p.name for p in args.score_py.parent.iterdir() if (p / "truth.json").is_file())
    scenes = []
    for name in names:
        d = args.score_py.parent / name
        if not (d / "scene.mp4").is_file():
            raise SystemExit(f"--scenes: no {d / 'scene.mp4'}")
        scenes.append((name, d / "scene.mp4", json.loads((d / "truth.json").read_text(encoding="utf-8"))))
    if args.late:
        scenes = [(f"{name}-late", *late_cut(name, video, truth, args.late)) for name, video, truth in scenes]
    durations = {name: float(truth["duration_s"]) for name, _, truth in scenes}
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    server = None
    with tempfile.TemporaryDirectory(prefix="onestop-live-") as tmp:
        folder = Path(tmp)
        if args.rtsp:
            sys.path.insert(0, str(ROOT / "tests"))
            from support import RtspServer

            try:
                server = RtspServer({f"/{name}": video for name, video, _ in scenes}).start()
            except RuntimeError as err:  # no GStreamer RTSP server (python3-gi, gir1.2-gst-rtsp-server-1.0)
                raise SystemExit(f"--rtsp: {str(err).splitlines()[0]}") from None
            sources = {name: server.url(f"/{name}") for name, _, _ in scenes}
        else:
            sources = {name: str(video.resolve()) for name, video, _ in scenes}
        try:
            cfg = site_config(folder, scenes, scorer, sources, args.markers)
            t = time.perf_counter()
            try:
                first = play(cfg, folder / "onestop.db", durations, folder / "onestop.log")
            except RuntimeError as err:  # the log goes with the temporary folder: its end first
                sys.stderr.write((folder / "onestop.log").read_text(encoding="utf-8", errors="replace")[-3000:])
                raise SystemExit(f"error: {err}") from None
            print(f"played {len(scenes)} scene(s) {'over RTSP' if args.rtsp else 'from files'} in "
                  f"{time.perf_counter() - t:.0f} s", flush=True)
            for cam, stats in db_rows(folder / "onestop.db", "select id, stats from cameras order by id"):
                last = json.loads(stats) if stats else {}
                print(f"  {cam}: height_factor {last.get('height_factor')}, height_corrected {last.get('height_corrected')}")
        finally:
            if server is not None:
                server.stop()
        print(f"\n  {'scene':<12} {'path':<8} " + " ".join(f"{m:>12.12}" for m in METRICS) + "  seconds  shift")
        for name, video, truth in scenes:
            live = stored_result(cfg, folder / "onestop.db", name, first[name], durations[name])
            rows = [("live", live, live["seconds_stored"], 0)]
            if not args.no_analyze:
                out = (args.keep or folder) / f"{name}-analyze.json"
                one = folder / f"{name}.yaml"
                cam = yaml.safe_load(cfg.read_text(encoding="utf-8"))
                cam["cameras"] = [dict(c, streams={"main": str(video.resolve())}) for c in cam["cameras"] if c["id"] == name]
                one.write_text(yaml.safe_dump(cam, sort_keys=False, allow_unicode=True), encoding="utf-8")
                result, _ = analyze(video, one, name, out)
                shift = best_shift(live, result)
                if shift:
                    live = stored_result(cfg, folder / "onestop.db", name, first[name] - shift, durations[name])
                rows = [("live", live, live["seconds_stored"], shift), ("analyze", result, len(result["per_second"]), 0)]
            if args.keep:
                (args.keep / f"{name}-live.json").write_text(json.dumps(live), encoding="utf-8")
                shutil.copy(folder / "onestop.db", args.keep / "onestop.db")
                shutil.copy(cfg, args.keep / "cameras.yaml")
            for path, result, n, shift in rows:
                m = scorer.score(truth, result)
                print(f"  {name:<12} {path:<8} " + " ".join(f"{m[k]:12.3f}" for k in METRICS) + f"  {n:7d}  {shift:5d}",
                      flush=True)

if __name__ == "__main__":
    main()
