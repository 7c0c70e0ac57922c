"""Queue tickets: checking rows, CSV import with the built-in mappings, and the office report beside the cameras."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, time
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.counters.ticket_feed import load_mapping, read_csv_rows
from monitor.counters.tickets import CheckContext, Row, agreement, check_rows, visits
from monitor.db.store import Writer, open_db
from monitor.db.tickets import TicketEvent, ticket_events
from monitor.site.config import load_config
from ticketsite import CONFIG, DAY, NOW, START, TRI2, TZ, at

def ctx(stored: list[TicketEvent] | None = None) -> CheckContext:
    return CheckContext(feed="kiosk", counters=["quay-1", "quay-2"], fields=["tu-phap"], tz=TZ, now=NOW,
                        skew_s=60, stored=stored or [])


def ev(ticket: str, event: str, t: float, **kw) -> dict:
    return {"ticket": ticket, "event": event, "time": t, **kw}


# ---------------------------------------------------------------- checking rows


def test_good_rows_are_kept_and_each_bad_row_gets_one_line():
    rows = [
        Row("row 1", [ev("A1", "issued", at(8), field="tu-phap")]),
        Row("row 2", [ev("A1", "called", at(8, 10), counter="quay-1")]),
        Row("row 3", [ev("A2", "called", at(8, 11), counter="quay-1")]),  # never issued
        Row("row 4", [ev("A3", "issued", at(8, 5)), ev("A3", "called", at(8, 1), counter="quay-1")]),
        Row("row 5", [ev("A1", "called", at(8, 10), counter="quay-1")]),  # same event again in one request
        Row("row 6", [ev("A4", "issued", at(8)), ev("A4", "called", at(8, 2), counter="quay-9")]),
        Row("row 7", [ev("A5", "issued", NOW + 600)]),  # the kiosk clock is ten minutes ahead
        Row("row 8", [ev("A6", "issued", "08:00", field="tu-phap")]),
        Row("row 9", [ev("A7", "issued", "2026-11-24T08:20:00", field="ho-tich")]),
        Row("row 10", [ev("A1", "service_end", at(8, 20), counter="quay-1")]),
    ]
    result = check_rows(rows, ctx())
    assert [e.key for e in result.good] == [("kiosk", "A1", "issued"), ("kiosk", "A1", "called"),
                                           ("kiosk", "A1", "service_end")]
    assert result.rows_ok == 3
    assert result.errors == [
        "row 3: ticket A2 called: out of order: no issued event for this ticket yet (send issued first)",
        "row 4: ticket A3: out of order: called at 2026-11-24 08:01:00 is before issued at 2026-11-24 08:05:00",
        "row 5: ticket A1 called: duplicate of row 2",
        "row 6: ticket A4 called: unknown counter 'quay-9' (known: quay-1, quay-2)",
        "row 7: ticket A5 issued: time 2026-11-24 17:10:00 is 600 s in the future; the feed's clock is off by "
        "more than clock_skew_s=60",
        "row 8: time '08:00' is not ISO 8601 like 2026-11-24T08:05:00+07:00",
        "row 9: ticket A7 issued: unknown field 'ho-tich' (known: tu-phap)",
    ]


def test_a_resent_event_is_no_error_and_a_changed_one_is():
    stored = [TicketEvent("kiosk", "A1", "issued", at(8)), TicketEvent("kiosk", "A1", "called", at(8, 10), counter="quay-1")]
    result = check_rows([Row("row 1", [ev("A1", "called", at(8, 10), counter="quay-1")]),
                         Row("row 2", [ev("A1", "service_start", at(8, 10, 30), counter="quay-1")])], ctx(stored))
    assert result.duplicates == 1 and result.rows_ok == 2 and result.errors == []
    assert [e.event for e in result.good] == ["service_start"]
    changed = check_rows([Row("row 1", [ev("A1", "called", at(8, 12), counter="quay-1")])], ctx(stored))
    assert changed.errors == ["row 1: ticket A1 called: conflicts with the stored event (at 2026-11-24 08:10:00, counter quay-1)"]


def test_a_row_is_all_or_nothing():
    result = check_rows([Row("line 2", [ev("B1", "issued", at(9)), ev("B1", "called", at(9, 5), counter="nope")])], ctx())
    assert result.good == [] and len(result.errors) == 1


def test_agreement_matches_sessions_to_tickets_by_start():
    events = [TicketEvent("k", "1", "issued", 0), TicketEvent("k", "1", "service_start", 600, counter="c"),
              TicketEvent("k", "1", "service_end", 900, counter="c"),
              TicketEvent("k", "2", "issued", 300), TicketEvent("k", "2", "service_start", 1010, counter="c"),
              TicketEvent("k", "2", "service_end", 1300, counter="c"),
              TicketEvent("k", "3", "issued", 400), TicketEvent("k", "3", "no_show", 1500)]
    v = visits(events)
    assert [x.wait_s for x in v] == [600, 710, None]
    ag = agreement([(600, 300, 600.0), (1000, 300, 700.0), (5000, 60, None)], v)
    assert (ag.ticket_served, ag.camera_served, ag.matched, ag.served_diff) == (2, 3, 2, 1)
    assert ag.wait_mae_s == pytest.approx(5) and ag.service_mae_s == pytest.approx(5)


# ---------------------------------------------------------------- CSV import

KIOSK_CSV = """\
date,ticket,field,issued,called,counter,service_start,service_end,status
2026-11-24,001,tu-phap,08:00:00,08:09:50,quay-1,08:10:00,08:15:00,served
2026-11-24,002,tu-phap,08:05:00,08:16:40,quay-1,08:16:50,08:21:40,served
2026-11-24,003,tu-phap,08:06:00,08:30:00,quay-7,08:31:00,08:35:00,served
2026-11-24,004,tu-phap,08:07:00,08:06:00,quay-1,,,served
2026-11-24,002,tu-phap,08:05:00,08:16:40,quay-1,08:16:50,08:21:40,served
2026-11-24,005,tu-phap,08:08:00,08:40:00,quay-1,,,no_show
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    path = tmp_path / "cameras.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_kiosk_import_keeps_good_lines_and_names_each_bad_one(site, tmp_path):
    export = tmp_path / "kiosk.csv"
    export.write_text(KIOSK_CSV, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["tickets", "import", str(export), "--mapping", "kiosk", "-c", str(site)])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line]
    assert errors == [
        f"{export}: line 4: ticket 2026-11-24/003 called: unknown counter 'quay-7' (known: quay-1)",
        f"{export}: line 5: ticket 2026-11-24/004: out of order: called at 2026-11-24 08:06:00 is before issued at 2026-11-24 08:07:00",
        f"{export}: line 6: ticket 2026-11-24/002 issued: duplicate of line 3",
    ]
    assert "3 of 6 lines accepted (11 events stored, 0 lines already imported), 3 rejected" in result.stdout
    db = open_db(tmp_path / "t.db")
    stored = ticket_events(db, at(0), at(23, 59))
    assert {(e.ticket, e.event) for e in stored if e.ticket.endswith("005")} == {
        ("2026-11-24/005", "issued"), ("2026-11-24/005", "called"), ("2026-11-24/005", "no_show")}
    again = runner.invoke(main, ["tickets", "import", str(export), "--mapping", "kiosk", "-c", str(site)])
    assert "3 of 6 lines accepted (0 events stored, 3 lines already imported), 3 rejected" in again.stdout
    assert len(ticket_events(db, at(0), at(23, 59))) == len(stored)


def test_opencps_export_maps_checkin_and_gate(site, tmp_path):
    export = tmp_path / "booking.csv"
    export.write_text("bookingId,codeNumber,serviceCode,checkinDate,gateNumber,state,modifiedDate\n"
                      "9001,A015,tu-phap,24/11/2026 08:00:00,quay-1,2,24/11/2026 08:12:30\n"
                      "9002,A016,tu-phap,24/11/2026 08:03:00,,0,24/11/2026 08:03:00\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["tickets", "import", str(export), "--mapping", "opencps", "-c", str(site)])
    assert result.exit_code == 0, result.output
    stored = ticket_events(open_db(tmp_path / "t.db"), at(0), at(23, 59))
    assert [(e.ticket, e.event, e.number, e.counter) for e in stored] == [
        ("9001", "issued", "A015", None), ("9002", "issued", "A016", None), ("9001", "called", None, "quay-1")]
    assert visits(stored)[0].wait_s == 750


def test_a_mapping_file_with_a_missing_column_is_one_line(site, tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("ticket: [so]\ntimes: {issued: gio_lay}\n", encoding="utf-8")
    export = tmp_path / "x.csv"
    export.write_text("so,gio\n1,08:00\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["tickets", "import", str(export), "--mapping", str(mapping), "-c", str(site)])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {export}: the file has no column 'gio_lay' (columns: so, gio)"


def test_the_built_in_mappings_print_and_load_back(tmp_path):
    for name in ("kiosk", "opencps"):
        out = CliRunner().invoke(main, ["tickets", "mapping", name])
        path = tmp_path / f"{name}.yaml"
        path.write_text(out.stdout, encoding="utf-8")
        assert load_mapping(str(path)) == load_mapping(name)
    rows = list(read_csv_rows(KIOSK_CSV, load_mapping("kiosk"), TZ))
    assert rows[0].events[0] == {"ticket": "2026-11-24/001", "event": "issued", "time": "2026-11-24T08:00:00",
                                 "number": "001", "field": "tu-phap"}


# ---------------------------------------------------------------- the office report


def _occupancy(db) -> None:  # noqa: ANN001
    """08:00-08:30: two citizens wait in the hall, then are served at the counter seen by another camera
    (from 07:59, an empty hall: someone there at the first sample would have waited from before it)."""
    msgs = []
    for s in range(-60, 1800):
        queue = 0.0 if s < 0 else 1.0 if s < 300 else 2.0 if s < 600 else 1.0 if s < 1000 else 0.0
        busy = 600 <= s < 900 or 1000 <= s < 1300
        msgs.append({"type": "occupancy", "camera": "sanh", "t": START + s,
                     "zones": {"cho": {"occupied": queue > 0, "count": queue}}})
        msgs.append({"type": "occupancy", "camera": "quay", "t": START + s,
                     "zones": {"ghe": {"occupied": True, "count": 1.0},
                               "ngoi": {"occupied": busy, "count": float(busy)}}})
    Writer(db).apply(msgs)


def _with_two_tickets(site: Path, tmp_path: Path):  # noqa: ANN202 - Config
    """The site's occupancy of 08:00-08:30 and kiosk tickets 001 and 002 imported."""
    config = load_config(site)
    db = open_db(config.storage.database)
    _occupancy(db)
    db.conn.close()
    export = tmp_path / "kiosk.csv"
    export.write_text("\n".join(KIOSK_CSV.splitlines()[:3]) + "\n", encoding="utf-8")
    assert CliRunner().invoke(main, ["tickets", "import", str(export), "--mapping", "kiosk", "-c", str(site)]).exit_code == 0
    return config


def test_office_report_puts_tickets_beside_the_cameras_with_an_agreement_row(site, tmp_path):
    _with_two_tickets(site, tmp_path)
    runner = CliRunner()
    out = runner.invoke(main, ["report", "--by", "office", "--from", "2026-11-24", "--to", "2026-11-24",
                               "--format", "csv", "-c", str(site)])
    assert out.exit_code == 0, out.output
    rows = list(csv.reader(io.StringIO(out.stdout_bytes.decode("utf-8-sig"))))
    head = rows[0]
    day_rows = {(r[2], r[3]): dict(zip(head, r)) for r in rows[1:] if r[1] == ""}
    counter = day_rows[("quầy", "quay-1")]
    assert (counter["Nguồn"], counter["Số lượt phục vụ"], counter["Thời gian chờ TB (giây)"], counter["Phục vụ TB (giây)"]) == \
        ("phiếu", "2", "655", "295")  # tickets: waits 600 and 710, service 300 and 290
    assert (counter["Camera: số lượt"], counter["Camera: chờ TB (giây)"], counter["Camera: phục vụ TB (giây)"]) == \
        ("2", "650", "300")  # camera: waits 600 and 700 (FIFO from the hall camera), service 300 and 300
    assert day_rows[("lĩnh vực", "tu-phap")]["Số lượt phục vụ"] == "2"
    assert day_rows[("hàng chờ", "sanh-cho")]["Hàng chờ tối đa (người)"] == "2.0"
    assert day_rows[("hàng chờ", "sanh-cho")]["Rời đi chưa được phục vụ"] == "0"
    assert counter["Rời đi chưa được phục vụ"] == ""  # a queue's figure
    agree = day_rows[("đối chiếu", "quay-1")]
    assert (agree["Chênh lệch lượt (camera − phiếu)"], agree["Sai số chờ TB (giây)"], agree["Sai số phục vụ TB (giây)"],
            agree["Số lượt khớp"]) == ("0", "5", "5", "2")
    doc = json.loads(runner.invoke(main, ["report", "--by", "office", "--from", "2026-11-24", "--to", "2026-11-24",
                                          "--format", "json", "-c", str(site)]).stdout)
    assert {r["level"] for r in doc["rows"]} == {"counter", "field", "queue", "agreement"}
    page = runner.invoke(main, ["report", "--by", "office", "--from", "2026-11-24", "--to", "2026-11-24",
                                "--format", "html", "-c", str(site)]).stdout
    assert "Quầy 1 – Tư pháp" in page and "đối chiếu" in page


def test_a_day_without_tickets_uses_the_cameras_alone(site):
    config = load_config(site)
    db = open_db(config.storage.database)
    _occupancy(db)
    db.conn.close()
    out = CliRunner().invoke(main, ["report", "--by", "office", "--from", "2026-11-24", "--to", "2026-11-24",
                                    "--format", "json", "-c", str(site)])
    rows = json.loads(out.stdout)["rows"]
    assert {r["source"] for r in rows} == {"camera"} and "agreement" not in {r["level"] for r in rows}
    day = next(r for r in rows if r["level"] == "counter" and r["hour"] is None)
    assert (day["served"], day["mean_wait_s"]) == (2, 650)


def test_without_office_sections_the_office_report_repeats_the_camera_report(tmp_path):
    """Migration: derived counters give the per-camera report's figures, day and hour, row for row."""
    from monitor.counters.office_report import build_office_report
    from monitor.counters.reports import build_report

    path = tmp_path / "cameras.yaml"
    path.write_text(CONFIG.split("  - id: sanh\n")[0].replace(
        "      - {id: ngoi, kind: service_spot, points: " + TRI2 + "}",
        "      - {id: ngoi, kind: service_spot, points: " + TRI2 + "}\n"
        "      - {id: hang, kind: waiting_area, points: [[0.0, 0.6], [0.3, 0.6], [0.3, 0.9]]}"), encoding="utf-8")
    config = load_config(path)
    db = open_db(config.storage.database)
    msgs = []
    for s in range(5400):  # 08:00-09:30, a staff break at 08:40-08:45
        queue = float((s // 400) % 3)
        msgs.append({"type": "occupancy", "camera": "quay", "t": START + s, "zones": {
            "ghe": {"occupied": not 2400 <= s < 2700, "count": 1.0},
            "ngoi": {"occupied": (s % 600) > 250, "count": 1.0},
            "hang": {"occupied": queue > 0, "count": queue}}})
    Writer(db).apply(msgs)
    camera = build_report(config, db, DAY, DAY).rows
    office = [r for r in build_office_report(config, db, DAY, DAY).rows if r.level == "counter"]
    assert len(camera) == len(office) > 2
    for c, o in zip(camera, office, strict=True):
        assert (o.hour, o.served, o.mean_service_s, o.median_service_s, o.mean_wait_s, o.max_wait_s) == \
            (c.hour, c.served, c.mean_service_s, c.median_service_s, c.mean_wait_s, c.max_wait_s)
        assert (o.mean_queue, o.max_queue, o.absence_min, o.utilisation) == \
            pytest.approx((c.mean_queue, c.max_queue, c.absence_min, c.utilisation))


def test_ticket_events_after_now_do_not_count_yet(site, tmp_path):
    """Tickets imported ahead (the looping demo) or a feed clock a little fast: the report counts what has happened."""
    from datetime import datetime

    from monitor.counters.office_report import build_office_report

    config = _with_two_tickets(site, tmp_path)
    db = open_db(config.storage.database)

    def served(now: datetime) -> int:
        rows = build_office_report(config, db, DAY, DAY, now=now).rows
        return next(r.served for r in rows if r.level == "counter" and r.id == "quay-1" and r.hour is None)

    assert served(datetime(2026, 11, 25, tzinfo=TZ)) == 2
    # at 08:12 ticket 001 is being served (since 08:10, counted at its start); 002 is called only at 08:16:40
    assert served(datetime(2026, 11, 24, 8, 12, tzinfo=TZ)) == 1
    db.conn.close()
