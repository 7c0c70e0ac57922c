"""The simulated office's ticket export: derived from truth.json, readable by the kiosk mapping."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from click.testing import CliRunner

from monitor.cli import main
from monitor.counters.ticket_feed import load_mapping, read_csv_rows
from monitor.simulate.tickets import truth_ticket_rows, truth_tickets_csv

TRUTH = {"cameras": {
    "quay-1": {"citizens": [
        {"id": 1, "arrival_s": -20.0, "service_start_s": 30.0, "service_end_s": 200.5, "counter": "service-spot"},
        {"id": 2, "arrival_s": 50.0, "service_start_s": 215.0, "service_end_s": None, "counter": "service-spot"},
    ], "calls_s": [25.0, 208.0]},
    "quay-2": {"citizens": [
        {"id": 1, "arrival_s": 10.0, "service_start_s": None, "service_end_s": None, "counter": "service-spot"},
    ], "calls_s": []},
}}
START = datetime(2026, 11, 24, 8, 0)


def test_tickets_follow_the_truth_in_arrival_order_across_cameras():
    rows = truth_ticket_rows(TRUTH, START, {"quay-1": "q1"})
    assert [(r["ticket"], r["issued"], r["called"], r["counter"], r["service_start"], r["service_end"], r["status"])
            for r in rows] == [
        ("001", "07:59:40", "08:00:25", "q1", "08:00:30", "08:03:20", "served"),
        ("002", "08:00:10", "", "", "", "", "waiting"),  # quay-2's citizen was never called
        ("003", "08:00:50", "08:03:28", "q1", "08:03:35", "", "waiting"),  # still at the counter when the video ends
    ]


def test_the_export_reads_back_through_the_kiosk_mapping():
    rows = list(read_csv_rows(truth_tickets_csv(TRUTH, START), load_mapping("kiosk"), ZoneInfo("Asia/Ho_Chi_Minh")))
    assert [[e["event"] for e in r.events] for r in rows] == [
        ["issued", "called", "service_start", "service_end"], ["issued"], ["issued", "called", "service_start"]]


def test_from_truth_command(tmp_path):
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps(TRUTH), encoding="utf-8")
    out = tmp_path / "tickets.csv"
    result = CliRunner().invoke(main, ["tickets", "from-truth", str(truth), "--start", "2026-11-24T08:00", "-o", str(out)])
    assert result.exit_code == 0 and "(3 tickets)" in result.output
    assert out.read_text(encoding="utf-8").splitlines()[0] == "date,ticket,field,issued,called,counter,service_start,service_end,status"
    bad = CliRunner().invoke(main, ["tickets", "from-truth", str(truth), "--start", "morning", "-o", str(out)])
    assert bad.exit_code == 1 and "--start 'morning'" in bad.output
