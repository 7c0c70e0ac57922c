"""The supervisor's periodic jobs, ticked with a fake clock and run inline: when they run, and what they do."""

from __future__ import annotations

import logging
import textwrap
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from monitor.db.store import open_db
from monitor.jobs import RETENTION_FIRST_S, DailyReportJob, PeriodicJob, RetentionJob
from monitor.site.config import load_config

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def inline(target, name):  # noqa: ANN001 - the Spawn signature
    target()


class Counting(PeriodicJob):
    name = "counting"

    def __init__(self, **kw):
        super().__init__(10.0, **kw)
        self.runs: list[float] = []
        self.fail = False

    def run(self, now: float) -> None:
        self.runs.append(now)
        if self.fail:
            raise RuntimeError("boom")


def test_a_job_runs_first_after_first_s_then_every_interval():
    job = Counting(first_s=5.0, spawn=inline)
    assert [t for t in (100.0, 104.9, 105.0, 110.0, 114.9, 115.0) if job.tick(t)] == [105.0, 115.0]
    assert job.runs == [105.0, 115.0]


def test_run_soon_runs_at_the_next_tick():
    job = Counting(spawn=inline)
    job.tick(0.0)
    job.run_soon()
    assert job.tick(1.0) and job.runs == [0.0, 1.0]
    assert not job.tick(2.0)  # the interval counts from that run


def test_a_job_does_not_start_while_its_last_run_goes_on():
    started = []
    job = Counting(spawn=lambda target, name: started.append(target))  # runs never finish by themselves
    assert job.tick(0.0) and not job.tick(10.0) and not job.tick(20.0)
    started[0]()  # the first run finishes
    assert job.tick(21.0) and job.runs == [0.0]


def test_a_failed_run_is_logged_and_the_job_runs_again(caplog):
    job = Counting(spawn=inline)
    job.fail = True
    with caplog.at_level(logging.ERROR):
        job.tick(0.0)
    assert [r.getMessage() for r in caplog.records] == ["counting: run failed"]
    assert caplog.records[0].exc_info is not None  # the traceback is in the log
    job.fail = False
    assert job.tick(10.0) and job.runs == [0.0, 10.0]


@pytest.fixture
def site(tmp_path):
    cfg = tmp_path / "cameras.yaml"
    cfg.write_text(textwrap.dedent("""\
        site: {name: "Một cửa", timezone: Asia/Ho_Chi_Minh,
               opening_hours: {days: [mon, tue, wed, thu, fri], periods: ["07:30-11:30", "13:30-17:00"]}}
        retention: {interval_min: 30}
        cameras:
          - {id: quay-1, name: "Quầy 1", streams: {main: a.mp4}}
        """), encoding="utf-8")
    config = load_config(cfg)
    open_db(config.storage.database).conn.close()
    return config


def at(*args: int) -> float:
    return datetime(*args, tzinfo=VN).timestamp()


def test_the_daily_report_is_written_once_after_closing_time(site):
    after = []
    job = DailyReportJob(lambda: site, after=lambda: after.append(1), spawn=inline)
    reports = site.path.parent / "reports"
    job.tick(at(2026, 11, 24, 17, 10))  # Tuesday, 10 min after closing: too early
    assert not reports.exists() and after == []
    job.tick(at(2026, 11, 24, 17, 16))
    assert sorted(p.name for p in reports.iterdir()) == ["2026-11-24-compliance.csv", "2026-11-24-compliance.html",
                                                         "2026-11-24.csv", "2026-11-24.html"]
    assert (reports / "2026-11-24-compliance.csv").read_text(encoding="utf-8-sig").startswith("counter,name,kind,")
    assert after == [1]
    job.tick(at(2026, 11, 24, 17, 18))
    assert after == [1]  # once a day
    assert not [p for p in reports.iterdir() if "week" in p.name]  # Tuesday: the week goes on
    job.tick(at(2026, 11, 27, 17, 16))  # Friday, the week's last open day: the week's summary too
    week = sorted(p.name for p in reports.iterdir() if "week" in p.name)
    assert week == ["2026-11-23-compliance-week.csv", "2026-11-23-compliance-week.html"]
    assert (reports / week[0]).read_text(encoding="utf-8-sig").startswith("counter,name,days_open,")
    job.tick(at(2026, 11, 29, 18, 0))  # Sunday: closed, no report
    assert len(list(reports.iterdir())) == 10  # Tuesday's 4, Friday's 4, the week's 2


def test_a_report_already_on_disk_is_not_written_again(site):
    reports = site.path.parent / "reports"
    reports.mkdir()
    (reports / "2026-11-24.csv").write_text("kept", encoding="utf-8")
    job = DailyReportJob(lambda: site, spawn=inline)
    job.tick(at(2026, 11, 24, 18, 0))  # a supervisor restarted after the report was written
    assert (reports / "2026-11-24.csv").read_text(encoding="utf-8") == "kept"


def test_retention_waits_for_start_up_then_follows_the_configured_interval(site):
    current = [site]
    job = RetentionJob(lambda: current[0], spawn=lambda target, name: None)
    assert not job.tick(0.0) and job.tick(RETENTION_FIRST_S)
    assert job.next_due == RETENTION_FIRST_S + 30 * 60
    job.running.clear()
    current[0] = site.model_copy(update={"retention": site.retention.model_copy(update={"interval_min": 5})})
    assert job.tick(job.next_due) and job.next_due == RETENTION_FIRST_S + 30 * 60 + 5 * 60
