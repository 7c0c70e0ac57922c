"""Reports from a real SQLite file filled through the Writer with hand-made per-second samples."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import textwrap
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from monitor.cli import main as cli
from monitor.site.config import Camera, Config, Site, Streams, Zone
from monitor.counters.render import headers, render_report
from monitor.counters.reports import build_report, write_daily_report
from monitor.db.store import Writer, connect

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY1, DAY2 = date(2026, 11, 24), date(2026, 11, 25)  # Tuesday, Wednesday
TRI = [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]


def at(day: date, hh: int, mm: int = 0) -> int:
    return int(datetime.combine(day, time(hh, mm), tzinfo=TZ).timestamp())


def make_config(tmp_path) -> Config:
    def cam(cid, zones):
        return Camera(id=cid, name=cid, streams=Streams(main="a.mp4"),
                      zones=[Zone(id=z, kind=k, points=TRI) for z, k in zones])

    return Config(
        site=Site(name="UBND Phường Bến Nghé"),
        cameras=[
            cam("quay-1", [("ghe-1", "staff_seat"), ("cho-1", "service_spot"), ("hang-cho", "waiting_area")]),
            cam("quay-2", [("ghe-2", "staff_seat"), ("cho-2", "service_spot")]),  # never sends samples
            cam("sanh", [("cua", "motion")]),  # no counter
        ],
    )


def inside(s: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= s < b for a, b in spans)


def feed(w: Writer, start: int, seconds: int, staff_away, spot_busy, queue_one) -> None:
    """One occupancy message per second for quay-1 from `start`; spans are offsets [a, b) in seconds."""
    msgs = []
    for s in range(seconds):
        msgs.append({"type": "occupancy", "camera": "quay-1", "t": start + s, "zones": {
            "ghe-1": {"occupied": not inside(s, staff_away), "count": 0.0 if inside(s, staff_away) else 1.0},
            "cho-1": {"occupied": inside(s, spot_busy), "count": 1.0 if inside(s, spot_busy) else 0.0},
            "hang-cho": {"occupied": inside(s, queue_one), "count": 1.0 if inside(s, queue_one) else 0.0},
        }})
    w.apply(msgs)


@pytest.fixture
def setup(db, tmp_path):
    w = Writer(db)
    # Day 1, 08:00-09:00: three 5-min sessions; waits 50, 100, 100 s; the officer away 5 min.
    feed(w, at(DAY1, 8), 3600, staff_away=[(1800, 2100)],
         spot_busy=[(100, 400), (600, 900), (2400, 2700)], queue_one=[(50, 100), (500, 600), (2300, 2400)])
    # Day 2, 08:00-09:30: a 30 s break (too short to count) and a 2-min absence at 09:06;
    # a session from 08:59 to 09:01 belongs to hour 8. Nobody waits.
    feed(w, at(DAY2, 8), 5400, staff_away=[(1000, 1030), (4000, 4120)],
         spot_busy=[(200, 500), (3540, 3660)], queue_one=[])
    return make_config(tmp_path), db


def rows_by_key(report):
    return {(r.day, r.hour, r.camera, r.counter): r for r in report.rows}


def test_rows_have_served_counts_absences_and_waits(setup):
    config, db = setup
    report = build_report(config, db, DAY1, DAY2, now=datetime(2026, 11, 26, 8, 0, tzinfo=TZ))
    rows = rows_by_key(report)
    # quay-2 has no samples and sanh has no counter: no rows for them. Hours without samples are left out.
    assert [(r.day, r.hour) for r in report.rows] == [(DAY1, None), (DAY1, 8), (DAY2, None), (DAY2, 8), (DAY2, 9)]
    d1 = rows[(DAY1, None, "quay-1", "cho-1")]
    assert (d1.served, d1.absence_min) == (3, 5.0)
    assert d1.mean_service_s == pytest.approx(300) and d1.p90_service_s == pytest.approx(300)
    assert d1.mean_wait_s == pytest.approx(250 / 3, abs=2) and d1.max_wait_s == pytest.approx(100, abs=2)
    assert d1.max_queue == 1.0 and 0 < d1.mean_queue < 0.1
    assert d1.utilisation == pytest.approx(900 / (7.5 * 3600))
    h8 = rows[(DAY1, 8, "quay-1", "cho-1")]
    assert (h8.served, h8.absence_min) == (3, 5.0) and h8.utilisation == pytest.approx(0.25)

    d2 = rows[(DAY2, None, "quay-1", "cho-1")]
    assert (d2.served, d2.absence_min, d2.max_queue) == (2, 2.0, 0.0)
    assert rows[(DAY2, 8, "quay-1", "cho-1")].served == 2  # the 08:59 session counts in hour 8, once
    h9 = rows[(DAY2, 9, "quay-1", "cho-1")]
    assert (h9.served, h9.absence_min) == (0, 2.0)
    assert report.site == "UBND Phường Bến Nghé" and report.camera is None


def test_camera_filter(setup):
    config, db = setup
    assert build_report(config, db, DAY1, DAY2, camera="quay-2").rows == []
    assert {r.camera for r in build_report(config, db, DAY1, DAY1, camera="quay-1").rows} == {"quay-1"}


def test_csv_is_excel_friendly_in_vietnamese(setup):
    config, db = setup
    data = render_report(build_report(config, db, DAY1, DAY2), "csv", "vi")
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data and data.count(b"\n") == data.count(b"\r\n")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    head = table[0]
    for name in ("Ngày", "Giờ", "Quầy", "Số lượt phục vụ", "Thời gian phục vụ TB (giây)",
                 "Thời gian chờ TB (giây)", "Vắng mặt (phút)", "Tỷ lệ sử dụng (%)"):
        assert name in head
    assert any(h.startswith("Hàng chờ TB") for h in head)
    recs = [dict(zip(head, r)) for r in table[1:]]
    day1 = next(r for r in recs if r["Ngày"] == "24/11/2026" and r["Giờ"] == "")
    assert (day1["Quầy"], day1["Số lượt phục vụ"], day1["Vắng mặt (phút)"]) == ("cho-1", "3", "5")
    assert day1["Thời gian phục vụ TB (giây)"] == "300"
    assert {r["Giờ"] for r in recs} == {"", "08:00", "09:00"}


def test_csv_in_english(setup):
    config, db = setup
    data = render_report(build_report(config, db, DAY1, DAY1), "csv", "en")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert table[0] == headers("en")
    assert table[0][:5] == ["Date", "Hour", "Camera", "Counter", "Served"]
    assert table[1][0] == "2026-11-24"


def test_json_has_metadata_and_english_keys(setup):
    config, db = setup
    doc = json.loads(render_report(build_report(config, db, DAY1, DAY2, camera="quay-1"), "json", "vi"))
    assert (doc["site"], doc["date_from"], doc["date_to"], doc["camera"]) == (
        "UBND Phường Bến Nghé", "2026-11-24", "2026-11-25", "quay-1")
    first = doc["rows"][0]
    assert set(first) == {"day", "hour", "camera", "counter", "served", "mean_service_s", "median_service_s",
                          "p90_service_s", "mean_wait_s", "max_wait_s", "mean_queue", "max_queue",
                          "absence_min", "utilisation"}
    assert sum(r["served"] for r in doc["rows"] if r["hour"] is None) == 5


@pytest.mark.parametrize("language, title", [("vi", "Báo cáo quầy một cửa"), ("en", "One-stop counter report")])
def test_html_is_standalone_with_svg_charts(setup, language, title):
    config, db = setup
    page = render_report(build_report(config, db, DAY1, DAY2), "html", language).decode("utf-8")
    assert page.startswith("<!DOCTYPE html>") and f"<title>{title}" in page
    assert page.count("<svg") == 4 and "<rect" in page and "<polyline" in page
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "UBND Phường Bến Nghé" in page


def test_empty_report_renders(setup):
    config, db = setup
    report = build_report(config, db, date(2026, 11, 1), date(2026, 11, 2))
    assert report.rows == []
    assert "<html" in render_report(report, "html", "vi").decode()
    assert render_report(report, "csv", "en").decode("utf-8-sig").count("\r\n") == 1


@pytest.mark.parametrize("args, message", [
    ((DAY2, DAY1, None), r"first day 2026-11-25 is after last day 2026-11-24"),
    ((date(2025, 1, 1), date(2026, 1, 2), None), r"367 days; at most 366"),
    ((DAY1, DAY1, "quay-9"), r"unknown camera 'quay-9' \(known: quay-1, quay-2, sanh\)"),
])
def test_bad_arguments_raise_one_line_value_errors(setup, args, message):
    config, db = setup
    with pytest.raises(ValueError, match=message) as err:
        build_report(config, db, *args)
    assert "\n" not in str(err.value)


def test_unknown_format_and_language(setup):
    config, db = setup
    report = build_report(config, db, DAY1, DAY1)
    with pytest.raises(ValueError, match="unknown report format 'xlsx'"):
        render_report(report, "xlsx", "vi")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        render_report(report, "csv", "fr")  # type: ignore[arg-type]


def test_write_daily_report_writes_both_files_atomically(setup, tmp_path):
    config, db = setup
    out = tmp_path / "reports"
    paths = write_daily_report(config, db, DAY1, out)
    assert [p.name for p in paths] == ["2026-11-24.csv", "2026-11-24.html"]
    assert sorted(p.name for p in out.iterdir()) == ["2026-11-24.csv", "2026-11-24.html"]  # no temp file left
    assert paths[0].read_bytes().startswith(b"\xef\xbb\xbf")
    assert "<svg" in paths[1].read_text(encoding="utf-8")
    write_daily_report(config, db, DAY1, out)  # rewriting replaces in place
    assert len(list(out.iterdir())) == 2


def test_cli_report(setup, tmp_path):
    _, db = setup
    cfg = tmp_path / "cameras.yaml"
    cfg.write_text(textwrap.dedent("""\
        site: {name: "Một cửa", language: en}
        storage: {database: onestop.db}
        cameras:
          - id: quay-1
            name: "Quầy 1"
            streams: {main: a.mp4}
            zones:
              - {id: ghe-1, kind: staff_seat, points: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]}
              - {id: cho-1, kind: service_spot, points: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]}
              - {id: hang-cho, kind: waiting_area, points: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]}
        """), encoding="utf-8")
    runner = CliRunner()
    ok = runner.invoke(cli, ["report", "-c", str(cfg), "--from", "2026-11-24", "--to", "2026-11-25",
                             "--format", "json", "-o", str(tmp_path / "r.json")])
    assert ok.exit_code == 0, ok.output
    assert len(json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["rows"]) == 5
    bad = runner.invoke(cli, ["report", "-c", str(cfg), "--from", "2026-11-24", "--to", "2026-11-25",
                              "--camera", "quay-9"])
    assert bad.exit_code == 1 and "unknown camera 'quay-9' (known: quay-1)" in bad.output
    ro = connect(tmp_path / "onestop.db", readonly=True)  # the CLI reads through a read-only connection
    assert build_report(make_config(tmp_path), ro, DAY1, DAY1).rows
    ro.conn.close()


def test_cli_html_report_in_vietnamese_without_flask(setup, tmp_path):
    """`onestop report --format html` renders the Jinja template with the Babel catalogue, never loading Flask."""
    _, db = setup
    cfg = tmp_path / "cameras.yaml"
    cfg.write_text('site: {name: "Một cửa", language: vi}\nstorage: {database: onestop.db}\n'
                   'cameras:\n  - {id: quay-1, name: "Quầy 1", streams: {main: a.mp4}}\n', encoding="utf-8")
    out = tmp_path / "r.html"
    code = ("import sys; from monitor.cli import main; sys.argv = ['onestop'] + sys.argv[1:]\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "assert 'flask' not in sys.modules, 'the report loaded Flask'")
    done = subprocess.run([sys.executable, "-c", code, "report", "-c", str(cfg), "--from", "2026-11-24",
                           "--to", "2026-11-24", "--format", "html", "-o", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    page = out.read_text(encoding="utf-8")
    assert "<title>Báo cáo quầy một cửa — Một cửa" in page and "Kỳ báo cáo: 24/11/2026" in page


def test_waits_are_matched_over_the_counters_the_waiting_area_serves(db, tmp_path):
    """Two counters under one camera share its waiting area: citizens sit down at 08:00, 08:01:40 and
    08:02:30; counter 2 calls at 08:04:40 and 08:05:50, counter 1 at 08:05. Counter 1's wait is 200 s,
    not the 300 s of the first arrival."""
    config = Config(site=Site(name="UBND"), cameras=[Camera(id="quay", name="quay", streams=Streams(main="a.mp4"), zones=[
        Zone(id=z, kind=k, points=TRI) for z, k in (("ghe-1", "staff_seat"), ("cho-1", "service_spot"),
                                                    ("ghe-2", "staff_seat"), ("cho-2", "service_spot"),
                                                    ("hang-cho", "waiting_area"))])])
    start = at(DAY1, 8)
    msgs = []
    for s in range(-60, 900):  # the minute before: an empty hall (people there at the first sample waited from before)
        waiting = (0 <= s < 280) + (100 <= s < 300) + (150 <= s < 350)
        msgs.append({"type": "occupancy", "camera": "quay", "t": start + s, "zones": {
            "ghe-1": {"occupied": True, "count": 1.0}, "ghe-2": {"occupied": True, "count": 1.0},
            "cho-1": {"occupied": 300 <= s < 600, "count": float(300 <= s < 600)},
            "cho-2": {"occupied": inside(s, [(280, 330), (350, 500)]), "count": float(inside(s, [(280, 330), (350, 500)]))},
            "hang-cho": {"occupied": waiting > 0, "count": float(waiting)},
        }})
    Writer(db).apply(msgs)
    rows = rows_by_key(build_report(config, db, DAY1, DAY1))
    assert rows[(DAY1, None, "quay", "cho-2")].mean_wait_s == pytest.approx((280 + 200) / 2)
    assert rows[(DAY1, None, "quay", "cho-1")].mean_wait_s == pytest.approx(200)
