"""Pure parts of the supervisor: when the daily report is due, and the writer's bad-message isolation."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from monitor.db.durable import DurableWriter
from monitor.db.store import Writer, get_event, open_db
from monitor.jobs import report_due
from monitor.site.config import OpeningHours

HOURS = OpeningHours(days=["mon", "tue", "wed", "thu", "fri"], periods=["07:30-11:30", "13:30-17:00"])
VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    "now, written, expected",
    [
        (datetime(2026, 11, 24, 17, 14), set(), None),  # Tuesday, 14 min after closing: too early
        (datetime(2026, 11, 24, 17, 15), set(), date(2026, 11, 24)),
        (datetime(2026, 11, 24, 23, 59), set(), date(2026, 11, 24)),
        (datetime(2026, 11, 24, 18, 0), {date(2026, 11, 24)}, None),  # already written
        (datetime(2026, 11, 24, 9, 0), set(), None),  # still open
        (datetime(2026, 11, 29, 18, 0), set(), None),  # Sunday: closed
    ],
)
def test_report_due(now, written, expected):
    assert report_due(now.replace(tzinfo=VN), HOURS, written) == expected


def test_report_due_without_periods():
    no_periods = OpeningHours(days=HOURS.days, periods=[])
    assert report_due(datetime(2026, 11, 24, 20, 0, tzinfo=VN), no_periods, set()) is None


def test_a_bad_message_loses_only_itself(tmp_path):
    db = open_db(tmp_path / "w.db")
    batch = [
        {"type": "event_start", "camera": "c", "id": "ok-1", "start": 1.0, "t": 1.0},
        {"type": "event_end", "camera": "c"},  # malformed
        {"type": "event_start", "camera": "c", "id": "ok-2", "start": 2.0, "t": 2.0},
    ]
    assert DurableWriter(Writer(db)).write(batch) == 1
    assert get_event(db, "ok-1") and get_event(db, "ok-2")
    db.conn.close()


class _ClosedWhileWaiting:
    """A web server whose select() finds its listening socket closed by the stop (the race, made certain)."""

    def run(self) -> None:
        raise OSError(9, "Bad file descriptor")


def test_the_web_thread_ends_quietly_when_the_stop_closed_its_socket():
    import errno
    import threading
    from types import SimpleNamespace

    from monitor.supervisor import Supervisor

    closing = SimpleNamespace(server=_ClosedWhileWaiting(), web_closing=threading.Event())
    closing.web_closing.set()
    Supervisor.serve_web(closing)  # no exception: the stop closed it
    running = SimpleNamespace(server=_ClosedWhileWaiting(), web_closing=threading.Event())
    with pytest.raises(OSError) as err:  # not stopping: a real failure still surfaces
        Supervisor.serve_web(running)
    assert err.value.errno == errno.EBADF


def test_registering_cameras_waits_for_a_writer_that_commits_in_between(tmp_path):
    # the supervisor re-registers cameras from its own connection on a reload while the writer thread
    # commits: a read-then-write transaction must take the write lock first, not fail "database is locked"
    import threading
    import time

    path = tmp_path / "w.db"
    Writer(open_db(path)).register_cameras([("a", "A", True)])
    writer = open_db(path)
    writer.conn.execute("BEGIN IMMEDIATE")
    writer.execute("update cameras set updated = 1 where id = 'a'")

    def commit_soon():
        time.sleep(0.3)
        writer.conn.execute("COMMIT")

    t = threading.Thread(target=commit_soon)
    t.start()
    reloaded = open_db(path)
    Writer(reloaded).register_cameras([("a", "A renamed", True), ("b", "B", True)])
    t.join()
    assert [(r["id"], r["name"]) for r in reloaded.query("select id, name from cameras order by id")] == [
        ("a", "A renamed"), ("b", "B")]
