"""The staffing-compliance report: a table of seat and queue scripts over two opening periods, and the
day read from a real database through the Writer."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from alertkit import OPEN, counter_site, feed
from monitor.counters.compliance import counter_compliance, day_compliance, render_csv, render_html
from monitor.db.store import connect
from monitor.records import Interval, ZoneSamples

MORNING = Interval(OPEN, OPEN + 4 * 3600)  # 07:30-11:30
AFTERNOON = Interval(OPEN + 6 * 3600, OPEN + 9.5 * 3600)  # 13:30-17:00


def track(segments: list[tuple[float, float, float]], until: float = 9.5 * 3600) -> ZoneSamples:
    t = np.arange(OPEN, OPEN + until, dtype=np.int64)
    v = np.zeros(t.size, np.float32)
    for a, b, value in segments:
        v[(t >= OPEN + a) & (t < OPEN + b)] = value
    return ZoneSamples(t, v > 0, v)


def items(seat, queue=None, absence_min=15.0):
    found = counter_compliance(("q1", "Quầy 1", "cam"), track(seat), None if queue is None else track(queue),
                               [MORNING, AFTERNOON], absence_min)
    return [(i.kind, i.at - OPEN, round(i.minutes, 1)) for i in found]


H = 3600
CASES = [
    # seated 07:40-11:30 and 13:30-16:30: 10 min late, on time at noon, 30 min early in the afternoon
    ([(600, 4 * H, 1), (6 * H, 9 * H, 1)], None,
     [("first_staffed", 600, 10.0), ("last_staffed", 4 * H, 0.0), ("first_staffed", 6 * H, 0.0),
      ("last_staffed", 9 * H, 30.0)]),
    # a 20-min absence at 09:00 is listed; a 10-min one at 10:00 is not
    ([(0, 1.5 * H, 1), (1.5 * H + 1200, 2.5 * H, 1), (2.5 * H + 600, 4 * H, 1), (6 * H, 9.5 * H, 1)], None,
     [("first_staffed", 0, 0.0), ("absence", 1.5 * H, 20.0), ("last_staffed", 4 * H, 0.0),
      ("first_staffed", 6 * H, 0.0), ("last_staffed", 9.5 * H, 0.0)]),
    # nobody all afternoon
    ([(0, 4 * H, 1)], None,
     [("first_staffed", 0, 0.0), ("last_staffed", 4 * H, 0.0), ("not_staffed", 6 * H, 210.0)]),
    # the seat empty 08:00-08:20 while two wait 08:10-08:30: 10 empty minutes with people waiting
    ([(0, 1800, 1), (3000, 4 * H, 1), (6 * H, 9.5 * H, 1)], [(2400, 3600, 2)],
     [("first_staffed", 0, 0.0), ("absence", 1800, 20.0), ("empty_while_waiting", 2400, 10.0),
      ("last_staffed", 4 * H, 0.0), ("first_staffed", 6 * H, 0.0), ("last_staffed", 9.5 * H, 0.0)]),
    # someone waiting during the 20 s the officer's seat is empty: too short to be a line of the report
    ([(0, 1800, 1), (1820, 4 * H, 1), (6 * H, 9.5 * H, 1)], [(1790, 1850, 1)],
     [("first_staffed", 0, 0.0), ("last_staffed", 4 * H, 0.0), ("first_staffed", 6 * H, 0.0),
      ("last_staffed", 9.5 * H, 0.0)]),
]


@pytest.mark.parametrize("seat, queue, expected", CASES)
def test_counter_compliance(seat, queue, expected):
    assert items(seat, queue) == expected


def test_an_officer_the_camera_never_sees_is_not_reported_absent():
    """Citizens served at the counter all day while its staff seat never reads occupied: the officer is hidden
    from the camera (analytics.staff_hidden), one line per period says so, and no absence is theirs."""
    spot = track([(600, 1800, 1), (2000, 3000, 1), (6 * H, 7 * H, 1)])
    found = counter_compliance(("q1", "Quầy 1", "cam"), track([]), None, [MORNING, AFTERNOON], 15.0, spot)
    assert [(i.kind, i.at - OPEN, i.minutes) for i in found] == [("staff_hidden", 0, 0.0), ("staff_hidden", 6 * H, 0.0)]
    nobody = counter_compliance(("q1", "Quầy 1", "cam"), track([]), None, [MORNING, AFTERNOON], 15.0, track([]))
    assert [i.kind for i in nobody] == ["not_staffed", "not_staffed"]  # nobody came to the counter: not staffed


def test_a_day_from_the_database_and_its_files(tmp_path):
    config, writer = counter_site(tmp_path, "")
    feed(writer, OPEN - 60, OPEN + 300, seat=False, queue=1)  # 5 min late, one person waiting meanwhile
    feed(writer, OPEN + 300, OPEN + 900, seat=True, queue=0)
    writer.db.conn.close()
    db = connect(config.storage.database, readonly=True)
    found = day_compliance(config, db, date(2026, 11, 24))
    db.conn.close()
    got = [(i.counter, i.kind, i.at - OPEN, round(i.minutes, 1)) for i in found]
    assert got[:3] == [("quay-1", "empty_while_waiting", 0, 5.0), ("quay-1", "first_staffed", 300, 5.0),
                       ("quay-1", "last_staffed", 900, 225.0)]
    assert got[3:] == [("quay-1", "not_staffed", 6 * H, 210.0)]
    csv_text = render_csv(found, config.site.tz).decode("utf-8-sig")
    assert csv_text.splitlines()[1] == "quay-1,Quầy 1,empty_while_waiting,07:30:00,5.0,07:30:00-11:30:00"
    assert csv_text.splitlines()[0] == "counter,name,kind,time,minutes,period"
    assert "<td>first_staffed</td><td>07:35:00</td>" in render_html(found, config.site.tz, "x").decode("utf-8")


@pytest.mark.parametrize("name, day", [("2026-11-24-compliance.csv", "2026-11-24"), ("2026-11-24.html", "2026-11-24"),
                                       ("2026-11-23-compliance-week.html", "2026-11-23"),
                                       ("2026-11-24-other.csv", None)])
def test_retention_knows_the_compliance_files_as_report_files(name, day):
    from monitor.upkeep.retention import REPORT_FILE

    m = REPORT_FILE.match(name)
    assert (m.group(1) if m else None) == day
