"""Hub retention: minute roll-ups and message ids go after N days, daily rows and closed alerts after years,
run by the hub service's periodic job; the dashboard's figures of kept days are unchanged."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub_sites import TZ, counter_day, offline_event, site_config
from monitor.cli.main import main as cli
from monitor.hub import stats
from monitor.hub.retention import HubRetention, HubRetentionJob, prune_hub
from monitor.hub.store import ingest, open_hub_db
from monitor.ops.hubmessages import alert_message, report_messages, rollup_messages, site_counters

TODAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=TZ).timestamp()
DAY_S = 86400
AGES = (0, 10, 34, 36, 100, 400, 5 * 365 + 10)  # days before TODAY with data


def fill(path: Path) -> None:
    """One site, one counter: a roll-up minute and a final day row on each day of AGES, an alert closed on each."""
    db = open_hub_db(path)
    ref = site_counters(site_config("xa-a"))[0]
    with db.conn:
        for age in AGES:
            minute = NOW - age * DAY_S
            rows = {"spot": [{"minute": minute, "samples": 60, "occupied_s": 30, "count_mean": 1.0, "count_max": 1}]}
            day = TODAY - timedelta(days=age)
            msgs = rollup_messages("xa-a", ref, rows)
            msgs += report_messages("xa-a", [replace(counter_day(ref, [60.0 * (age % 7 + 1)]), day=day)], minute, True)
            msgs += [alert_message("xa-a", offline_event(kind, "cam1", "Quầy 1", minute - 600, minute - 300 + 200 * k))
                     for k, kind in enumerate(("raised", "closed"))]
            for msg in msgs:  # received when the site sent it
                assert ingest(db, msg.topic, msg.payload.encode(), minute) == "stored"
    db.conn.close()


def count(db, sql: str) -> int:
    return db.execute(sql).fetchone()[0]


def test_prune_keeps_rollups_days_and_daily_rows_years(tmp_path: Path) -> None:
    fill(tmp_path / "hub.db")
    db = open_hub_db(tmp_path / "hub.db")
    kept_period = stats.period_figures(db, None, TODAY - timedelta(days=365), TODAY)
    deleted = prune_hub(db, NOW, HubRetention(rollup_days=35, daily_years=5))
    assert deleted == {"rollups": 4, "messages": 4 * 4, "report_rows": 1, "alerts": 1}
    assert count(db, "select count(*) from rollups") == 3  # ages 0, 10, 34
    assert count(db, "select min(minute) from rollups") == NOW - 34 * DAY_S
    assert count(db, "select count(*) from report_rows") == len(AGES) - 1  # all but the one over five years old
    assert count(db, "select min(day) from report_rows") == (TODAY - timedelta(days=400)).isoformat()
    assert count(db, "select count(*) from alerts") == len(AGES) - 1
    assert stats.period_figures(db, None, TODAY - timedelta(days=365), TODAY) == kept_period
    assert prune_hub(db, NOW, HubRetention(35, 5)) == {"rollups": 0, "messages": 0, "report_rows": 0, "alerts": 0}
    assert prune_hub(db, NOW, HubRetention(rollup_days=5, daily_years=1)) == {
        "rollups": 2, "messages": 2 * 4, "report_rows": 1, "alerts": 1}  # ages 10 and 34; 400
    db.conn.close()


def test_an_open_alert_is_kept_however_old(tmp_path: Path) -> None:
    db = open_hub_db(tmp_path / "hub.db")
    old = NOW - 10 * 365 * DAY_S
    msg = alert_message("xa-a", offline_event("raised", "cam1", "Quầy 1", old - 600, old))
    with db.conn:
        ingest(db, msg.topic, msg.payload.encode(), old)
    assert prune_hub(db, NOW, HubRetention(1, 1))["alerts"] == 0
    assert count(db, "select count(*) from alerts") == 1


def test_retention_job_runs_hourly_from_the_hub_service(tmp_path: Path) -> None:
    fill(tmp_path / "hub.db")
    runs: list[str] = []

    def inline(target, name: str) -> None:
        runs.append(name)
        target()

    job = HubRetentionJob(tmp_path / "hub.db", HubRetention(35, 5), spawn=inline)
    assert not job.tick(NOW)  # the first run waits a minute after start-up
    assert job.tick(NOW + 60) and job.last["rollups"] == 4
    assert not job.tick(NOW + 120)  # then once an hour
    assert job.tick(NOW + 60 + 3600) and job.last["rollups"] == 0
    assert runs == ["hub-retention", "hub-retention"]


@pytest.mark.parametrize("args, bad", [
    (["--keep-rollups-days", "0"], "--keep-rollups-days"), (["--keep-daily-years", "101"], "--keep-daily-years"),
    (["--topic-root", "d/#"], "--topic-root"), (["--topic-root", "onestop/+"], "--topic-root"),
])
def test_bad_retention_or_topic_root_is_refused_with_the_option_named(tmp_path: Path, args: list[str], bad: str) -> None:
    result = CliRunner().invoke(cli, ["hub", "run", "--db", str(tmp_path / "hub.db"), *args])
    assert result.exit_code == 2 and bad in result.output and "Traceback" not in result.output


def test_retention_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="rollup_days 0"):
        HubRetention(rollup_days=0)
