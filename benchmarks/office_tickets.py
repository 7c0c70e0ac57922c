"""A simulated office day with its ticket feed: the office report, tickets beside the cameras, and their agreement.

Usage: python benchmarks/office_tickets.py [--minutes 6] [--seed 3] [--sim DIR] [--format csv|html|json]

Renders the simulator's office (or reuses --sim DIR), analyses each camera's sub stream offline,
stores the per-second samples as if the video began at 08:00 on a Tuesday, imports the ticket
export derived from truth.json (`onestop tickets from-truth`), and prints `onestop report --by
office` for that day: per counter, the ticket figures (served, wait, service) with the camera's
beside them, and the agreement row (served difference, wait MAE, service MAE).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.counters.analyze import detect_seconds
from monitor.counters.office_report import build_office_report, render_office_report
from monitor.counters.ticket_feed import ingest, load_mapping, read_csv_rows
from monitor.db.store import Writer, open_db
from monitor.simulate import SimConfig, simulate_office
from monitor.simulate.tickets import truth_tickets_csv
from monitor.site.config import load_config

START = datetime(2026, 11, 24, 8, 0)  # a Tuesday morning, inside the default opening hours


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=6.0)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--sim", type=Path, help="A folder written by onestop simulate (rendered if missing).")
    ap.add_argument("--format", default="csv", choices=["csv", "html", "json"])
    args = ap.parse_args()
    folder = args.sim or Path(tempfile.mkdtemp(prefix="office-tickets-"))
    if not (folder / "truth.json").exists():
        print(simulate_office(folder, SimConfig(minutes=args.minutes, seed=args.seed)), file=sys.stderr)
    config = load_config(folder / "cameras.yaml")
    tz = ZoneInfo(config.site.timezone)
    t0 = START.replace(tzinfo=tz).timestamp()
    db_path = folder / "office-tickets.db"
    db_path.unlink(missing_ok=True)
    db = open_db(db_path)
    started = time.monotonic()
    for cam in config.cameras:
        per_second, _, _ = detect_seconds(Path(cam.stream_url("sub") or cam.stream_url("main")), cam, config)
        Writer(db).apply([{"type": "occupancy", "camera": cam.id, "t": int(t0) + int(r["t"]), "zones": r["zones"]}
                          for r in per_second])
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    rows = list(read_csv_rows(truth_tickets_csv(truth, START), load_mapping("kiosk"), tz))
    result = ingest(db, config, "kiosk", rows, now=t0 + 86400)
    print(f"analysed {len(config.cameras)} cameras in {time.monotonic() - started:.0f} s; "
          f"{result.rows_ok} tickets imported, {len(result.errors)} refused", file=sys.stderr)
    for line in result.errors:
        print(line, file=sys.stderr)
    report = build_office_report(config, db, START.date(), START.date())
    sys.stdout.buffer.write(render_office_report(report, args.format, "en"))


if __name__ == "__main__":
    main()
