"""One opening-hours model: OpeningHours.spans(day, tz) gives a local day's open periods as unix-second intervals."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from monitor.site.config import ConfigError, OpeningHours, load_config

VN = ZoneInfo("Asia/Ho_Chi_Minh")  # UTC+7 all year: no daylight saving time to step over
MONDAY = date(2024, 6, 3)


def local(day: date, hh: int, mm: int = 0) -> float:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=VN).timestamp()


def spans(hours: OpeningHours, day: date) -> list[tuple[float, float]]:
    return [(iv.start, iv.end) for iv in hours.spans(day, VN)]


@pytest.mark.parametrize(("day", "hours", "expected"), [
    pytest.param(MONDAY, OpeningHours(), [((7, 30), (11, 30)), ((13, 30), (17, 0))], id="lunch-break"),
    pytest.param(date(2024, 6, 8), OpeningHours(), [], id="saturday-closed"),
    pytest.param(date(2024, 6, 9), OpeningHours(), [], id="sunday-closed"),
    pytest.param(date(2024, 6, 8), OpeningHours(days=["sat"], periods=["07:30-11:30"]), [((7, 30), (11, 30))],
                 id="saturday-morning-open"),
    pytest.param(MONDAY, OpeningHours(days=["tue"]), [], id="closed-monday"),
    pytest.param(date(2024, 6, 4), OpeningHours(periods=["13:30-17:00", "07:00-11:00"]),
                 [((7, 0), (11, 0)), ((13, 30), (17, 0))], id="periods-sorted"),
    pytest.param(MONDAY, OpeningHours(periods=["07:30-11:30", "11:30-12:00"]), [((7, 30), (12, 0))],
                 id="touching-periods-merge"),
    pytest.param(MONDAY, OpeningHours(periods=[]), [], id="no-periods"),
])
def test_spans(day, hours, expected):
    assert spans(hours, day) == [(local(day, *a), local(day, *b)) for a, b in expected]


def test_spans_is_in_the_zone_given():
    # 07:30 in Ho Chi Minh City is 00:30 UTC; the same hours in UTC start seven hours later
    assert OpeningHours().spans(MONDAY, VN)[0].start == datetime(2024, 6, 3, 0, 30, tzinfo=ZoneInfo("UTC")).timestamp()
    assert OpeningHours().spans(MONDAY, ZoneInfo("UTC"))[0].start - OpeningHours().spans(MONDAY, VN)[0].start == 7 * 3600


def test_spans_and_is_open_agree():
    hours = OpeningHours()
    for iv in hours.spans(MONDAY, VN):
        assert hours.is_open(datetime.fromtimestamp(iv.start, VN))
        assert not hours.is_open(datetime.fromtimestamp(iv.end, VN))  # the end is exclusive


def test_spans_follow_an_edited_period():
    hours = OpeningHours()
    hours.periods = ["08:00-11:00"]  # the report cache test edits a loaded config like this
    assert spans(hours, MONDAY) == [(local(MONDAY, 8), local(MONDAY, 11))]


def test_an_unknown_day_name_is_a_config_error_naming_the_line(tmp_path):
    cfg = tmp_path / "cameras.yaml"
    cfg.write_text("site:\n  name: x\n  opening_hours:\n    days: [mon, tues]\n"
                   "cameras:\n  - {id: a, name: A, streams: {main: a.mp4}}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    problem = info.value.problems[0]
    assert problem.startswith(f"{cfg}:4: site.opening_hours.days[1]: ")
    assert "'tues'" in problem and "mon" in problem and "sun" in problem
