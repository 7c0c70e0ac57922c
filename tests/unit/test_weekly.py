"""The weekly staffing-compliance summary: the pure fold over daily items (a table), and a week read from a
real database through the daily computation, with its CSV and HTML."""

from __future__ import annotations

from datetime import date

import pytest

from alertkit import OPEN, counter_site, feed
from monitor.counters.compliance import ComplianceItem
from monitor.counters.weekly import WeekRow, render_week_csv, render_week_html, week_compliance, week_of, week_summary
from monitor.db.store import connect
from monitor.records import Interval

H = 3600
P = Interval(0, 4 * H)
MON, TUE = date(2026, 11, 23), date(2026, 11, 24)


def item(kind: str, minutes: float, counter: str = "q1") -> ComplianceItem:
    return ComplianceItem(counter, "Quầy 1", "cam", kind, 0.0, minutes, P)


@pytest.mark.parametrize("days, expected", [
    ({}, (0, 0, 0, 0, 0, 0.0, 0.0)),
    # 16 min late (> 15) on Monday, 15 min on Tuesday (not late): one late day
    ({MON: [item("first_staffed", 16)], TUE: [item("first_staffed", 15)]}, (2, 1, 0, 0, 0, 0.0, 0.0)),
    # two late periods on one day are one late day; leaving 31 min early counts, 30 does not
    ({MON: [item("first_staffed", 20), item("first_staffed", 40), item("last_staffed", 31)],
      TUE: [item("last_staffed", 30)]}, (2, 1, 1, 0, 0, 0.0, 0.0)),
    ({MON: [item("absence", 20), item("absence", 16.5), item("not_staffed", 240), item("empty_while_waiting", 7)],
      TUE: [item("empty_while_waiting", 3), item("absence", 99, counter="other")]}, (2, 0, 0, 1, 2, 36.5, 10.0)),
    # the camera never saw the officer on Monday morning and afternoon while citizens were served
    ({MON: [item("staff_hidden", 0), item("staff_hidden", 0)], TUE: [item("first_staffed", 0)]}, (2, 0, 0, 0, 0, 0.0, 0.0)),
])
def test_week_summary(days, expected):
    [row] = week_summary(days, [("q1", "Quầy 1")], late_min=15, early_min=30)
    assert (row.days_open, row.days_late, row.days_left_early, row.periods_not_staffed, row.absences,
            row.absence_min, row.empty_waiting_min) == expected
    assert row.periods_not_visible == sum(i.kind == "staff_hidden" for items in days.values() for i in items)


def test_week_of_is_the_monday():
    assert [week_of(date(2026, 11, d)) for d in (23, 26, 29, 30)] == [MON, MON, MON, date(2026, 11, 30)]


def test_a_week_from_the_database(tmp_path):
    config, writer = counter_site(tmp_path, "")
    mon = OPEN - 86400
    feed(writer, mon, mon + 1200, seat=False, queue=2)  # Monday: 20 min late while two wait
    feed(writer, mon + 1200, mon + 4 * H, seat=True, queue=0)
    feed(writer, OPEN, OPEN + 1.5 * H, seat=True, queue=0)  # Tuesday: away 09:00-09:20, gone at 10:50
    feed(writer, OPEN + 1.5 * H, OPEN + 1.5 * H + 1200, seat=False, queue=0)
    feed(writer, OPEN + 1.5 * H + 1200, OPEN + 3 * H + 1200, seat=True, queue=0)
    writer.db.conn.close()
    db = connect(config.storage.database, readonly=True)
    rows = week_compliance(config, db, week_of(TUE))
    db.conn.close()
    # Mon-Fri open; every afternoon and Wednesday to Friday without anyone: 8 periods not staffed
    assert rows == [WeekRow("quay-1", "Quầy 1", 5, 1, 1, 8, 1, pytest.approx(20.0), pytest.approx(20.0), 0)]
    csv_lines = render_week_csv(rows).decode("utf-8-sig").splitlines()
    assert csv_lines == ["counter,name,days_open,days_late,days_left_early,periods_not_staffed,absences,absence_min,"
                         "empty_waiting_min,periods_not_visible", "quay-1,Quầy 1,5,1,1,8,1,20,20,0"]
    assert "<td>Quầy 1</td><td>5</td>" in render_week_html(rows, "Tuần <48>").decode()
    assert "Tuần &lt;48&gt;" in render_week_html(rows, "Tuần <48>").decode()


@pytest.mark.parametrize("days, day, expected", [
    ("[mon, tue, wed, thu, fri]", date(2026, 11, 27), True),  # Friday
    ("[mon, tue, wed, thu, fri]", date(2026, 11, 26), False),  # Thursday: Friday is still to come
    ("[mon, tue, wed, thu, fri]", date(2026, 11, 28), False),  # Saturday: closed
    ("[mon, tue, wed, thu, fri, sat]", date(2026, 11, 28), True),  # a Saturday morning office
])
def test_the_week_summary_is_due_after_the_last_open_day(tmp_path, days, day, expected):
    from monitor.counters.weekly import last_open_day
    from monitor.site.config import load_config

    (tmp_path / "cameras.yaml").write_text(f"site: {{name: t, opening_hours: {{days: {days}}}}}\ncameras: []\n",
                                           encoding="utf-8")
    assert last_open_day(load_config(tmp_path / "cameras.yaml"), day) is expected
