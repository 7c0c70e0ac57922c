"""The report cache: complete days come back from report_cache identical to a fresh computation."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta

import pytest
from click.testing import CliRunner

from monitor.counters import reports
from monitor.cli import main as cli
from monitor.counters.reports import build_report, fill_report_cache, render_report
from monitor.db.store import Writer, connect, store_report_cache
from test_reports import DAY1, DAY2, TZ, at, feed, setup  # noqa: F401  (setup is a fixture)

LATER = datetime.combine(DAY2 + timedelta(days=2), time(9), tzinfo=TZ)  # both days complete


def db_path(db):
    """The file of a connection (the fixture's config keeps the default relative storage path)."""
    return db.execute("pragma database_list").fetchone()[2]


def cache_rows(db):
    db = connect(db_path(db), readonly=True)
    try:
        return db.execute("select camera, counter, day, version from report_cache order by day, camera").fetchall()
    finally:
        db.conn.close()


def no_samples(*_args, **_kw):
    raise AssertionError("read per-second samples although the day is cached")


def test_cached_report_is_identical_to_computed(setup, monkeypatch):
    config, db = setup
    first = build_report(config, db, DAY1, DAY2, now=LATER)
    # quay-1 (samples) and quay-2 (none: cached as no rows) on both days; sanh has no counter.
    assert sorted((e.camera, e.day) for e in first.cache_entries) == [
        ("quay-1", "2026-11-24"), ("quay-1", "2026-11-25"), ("quay-2", "2026-11-24"), ("quay-2", "2026-11-25")]
    assert store_report_cache(db_path(db), first.cache_entries) == 4
    monkeypatch.setattr(reports, "zone_samples", no_samples)
    second = build_report(config, db, DAY1, DAY2, now=LATER)
    assert second.cache_entries == []
    assert second.rows == first.rows and len(first.rows) == 5
    for fmt in ("csv", "json", "html"):
        for language in ("vi", "en"):
            assert render_report(second, fmt, language) == render_report(first, fmt, language)


def test_only_complete_days_are_cached(setup):
    config, db = setup
    # 23:30 on DAY2: DAY1 is complete; DAY2 is today (samples up to midnight + 1 h still to come).
    report = build_report(config, db, DAY1, DAY2, now=datetime.combine(DAY2, time(23, 30), tzinfo=TZ))
    assert {e.day for e in report.cache_entries} == {"2026-11-24"}
    # 00:30 after DAY1: its rows still depend on samples up to 01:00.
    report = build_report(config, db, DAY1, DAY1, now=datetime.combine(DAY2, time(0, 30), tzinfo=TZ))
    assert report.cache_entries == []


def test_late_samples_make_the_cached_day_recomputed(setup):
    config, db = setup
    store_report_cache(db_path(db), build_report(config, db, DAY1, DAY2, now=LATER).cache_entries)
    # A camera's buffered samples for DAY1 10:00-10:10 arrive later: one more 5-min session.
    feed(Writer(db), at(DAY1, 10), 600, staff_away=[], spot_busy=[(100, 400)], queue_one=[(0, 100)])
    report = build_report(config, db, DAY1, DAY2, now=LATER)
    assert [(e.camera, e.day) for e in report.cache_entries] == [("quay-1", "2026-11-24")]
    day1 = next(r for r in report.rows if r.day == DAY1 and r.hour is None)
    assert day1.served == 4
    store_report_cache(db_path(db), report.cache_entries)
    again = build_report(config, db, DAY1, DAY2, now=LATER)
    assert again.cache_entries == [] and again.rows == report.rows


def test_other_version_or_opening_hours_are_recomputed(setup, monkeypatch):
    config, db = setup
    store_report_cache(db_path(db), build_report(config, db, DAY1, DAY1, now=LATER).cache_entries)
    monkeypatch.setattr(reports, "REPORT_CACHE_VERSION", reports.REPORT_CACHE_VERSION + 1)
    assert len(build_report(config, db, DAY1, DAY1, now=LATER).cache_entries) == 2
    monkeypatch.undo()
    assert build_report(config, db, DAY1, DAY1, now=LATER).cache_entries == []
    config.site.opening_hours.periods = ["08:00-11:00"]
    changed = build_report(config, db, DAY1, DAY1, now=LATER)
    assert len(changed.cache_entries) == 2  # the stored rows were computed for other opening periods


def test_database_without_the_cache_table_still_reports(setup):
    config, db = setup
    db.execute("drop table report_cache")
    report = build_report(config, db, DAY1, DAY2, now=LATER)
    assert len(report.rows) == 5 and report.cache_entries
    assert store_report_cache(db_path(db), report.cache_entries) == 0  # logged, not raised


def test_fill_report_cache_fills_missing_days_once(setup):
    config, db = setup
    assert fill_report_cache(config, db_path(db), now=LATER, days=3) == 6  # 3 days x 2 counters
    assert [(cam, day) for cam, _, day, _ in cache_rows(db)] == [
        ("quay-1", "2026-11-24"), ("quay-2", "2026-11-24"), ("quay-1", "2026-11-25"),
        ("quay-2", "2026-11-25"), ("quay-1", "2026-11-26"), ("quay-2", "2026-11-26")]
    assert fill_report_cache(config, db_path(db), now=LATER, days=3) == 0


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_cli_report_stores_and_reuses_the_cache(setup, tmp_path, fmt):
    _, db = setup
    cfg = tmp_path / "cameras.yaml"
    cfg.write_text(
        'site: {name: "Một cửa", language: en}\nstorage: {database: onestop.db}\ncameras:\n'
        "  - {id: quay-1, name: q, streams: {main: a.mp4}, zones: ["
        "{id: ghe-1, kind: staff_seat, points: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]},"
        " {id: cho-1, kind: service_spot, points: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]},"
        " {id: hang-cho, kind: waiting_area, points: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]}]}\n",
        encoding="utf-8")
    args = ["report", "-c", str(cfg), "--from", "2026-11-01", "--to", "2026-11-23", "--format", fmt]
    runner = CliRunner()
    first = runner.invoke(cli, [*args, "-o", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    assert len(cache_rows(db)) == 23  # complete days in the past, one row per counter-day
    second = runner.invoke(cli, [*args, "-o", str(tmp_path / "b")])
    assert second.exit_code == 0, second.output
    a, b = (tmp_path / "a").read_bytes(), (tmp_path / "b").read_bytes()
    if fmt == "json":
        a, b = ({k: v for k, v in json.loads(x).items() if k != "generated_at"} for x in (a, b))
    assert a == b
