"""Tiered retention: continuous segments kept continuous_days, event clips clips_days; over the disk budget
the oldest segments go before any clip; footage overlapping a held span is never deleted. The planner is
pure (clock passed in); one test runs the executor on real files and rows, with held spans passed in."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from monitor.db.segments import Segment, all_segments
from monitor.db.store import Writer, open_db
from monitor.messages import SegmentReady
from monitor.site.config import load_config
from monitor.upkeep.prune import run_retention
from monitor.upkeep.retention import DAY_S, ClipFile, Policy, is_held, plan_retention

NOW = 1_800_000_000.0
MB = 1024**2
POLICY = Policy(clips_s=30 * DAY_S, samples_s=14 * DAY_S, rollups_s=400 * DAY_S, reports_s=400 * DAY_S,
                max_bytes=None, min_free_bytes=0, continuous_s=7 * DAY_S)


def seg(i: int, age_days: float, mb: float = 10, camera: str = "cam") -> Segment:
    start = NOW - age_days * DAY_S
    return Segment(i, camera, start, start + 60, f"{camera}/d/segments/{i}.mp4", int(mb * MB))


def clip(name: str, age_days: float, mb: float = 10, camera: str = "cam") -> ClipFile:
    start = NOW - age_days * DAY_S
    return ClipFile(name, start, "complete", f"{camera}/d/{name}.mp4", None, int(mb * MB), 0, camera, start + 30)


SEGMENTS = [seg(1, 10), seg(2, 5), seg(3, 2), seg(4, 1)]
CLIPS = [clip("e40", 40), clip("e20", 20), clip("e3", 3)]
HOLD_SEG2 = [("cam", NOW - 5 * DAY_S + 30, NOW - 5 * DAY_S + 40)]  # inside segment 2
HOLD_E20 = [("cam", NOW - 20 * DAY_S - 100, NOW - 20 * DAY_S)]  # touches clip e20's start


@pytest.mark.parametrize(("changes", "free_mb", "held", "segs", "over_segs", "clips", "over_clips"), [
    ({}, 10_000, [], [1], [], ["e40"], []),  # by age: each tier its own days
    ({"continuous_s": 3 * DAY_S}, 10_000, [], [1, 2], [], ["e40"], []),
    ({"max_bytes": 40 * MB}, 10_000, [], [1], [2], ["e40"], []),  # 50 MB after expiry: a segment goes, not a clip
    ({"max_bytes": 15 * MB}, 10_000, [], [1], [2, 3, 4], ["e40"], ["e20"]),  # segments all gone, then clips
    ({"min_free_bytes": 30 * MB}, 0, [], [1], [2], ["e40"], []),  # free 0 + 20 (expired) + 10 (segment 2) >= 30
    ({"max_bytes": 20 * MB}, 10_000, HOLD_SEG2, [1], [3, 4], ["e40"], ["e20"]),  # held segment stays
    ({}, 10_000, [("cam", NOW - 11 * DAY_S, NOW - 9 * DAY_S)], [], [], ["e40"], []),  # old but held
    ({"clips_s": 10 * DAY_S}, 10_000, HOLD_E20, [1], [], ["e40"], []),  # a held clip outlives clips_days
    ({}, 10_000, [("other", 0, NOW)], [1], [], ["e40"], []),  # another camera's hold holds nothing here
    ({"max_bytes": 0}, 10_000, [("cam", 0, NOW)], [], [], [], []),  # everything held: nothing goes, whatever the budget
])
def test_tier_plan(changes, free_mb, held, segs, over_segs, clips, over_clips):
    plan = plan_retention(CLIPS, int(free_mb * MB), NOW, Policy(**{**POLICY.__dict__, **changes}), SEGMENTS, held)
    assert [s.id for s in plan.expired_segments] == segs
    assert [s.id for s in plan.over_budget_segments] == over_segs
    assert [c.event_id for c in plan.expired] == clips
    assert [c.event_id for c in plan.over_budget] == over_clips


def test_the_plan_counts_held_bytes_and_segments_in_use():
    plan = plan_retention(CLIPS, 10**12, NOW, POLICY, SEGMENTS, HOLD_SEG2 + HOLD_E20)
    assert plan.used_bytes == 70 * MB
    assert plan.held_bytes == 20 * MB
    assert plan.freed_bytes == 20 * MB  # segment 1 and clip e40


@pytest.mark.parametrize(("span", "held"), [
    ((0, 10), True), ((10, 20), True), ((20, 30), True), ((-5, -1), False), ((21, 30), False)])
def test_a_span_holds_what_it_overlaps(span, held):
    assert is_held([("cam", *span)], "cam", 10.0, 20.0) is held


def test_the_run_deletes_expired_segment_files_and_rows_but_not_held_ones(tmp_path: Path):
    cfg = tmp_path / "cameras.yaml"
    cfg.write_text(textwrap.dedent("""\
        site: {name: t}
        retention: {continuous_days: 3}
        cameras: []
        """), encoding="utf-8")
    config = load_config(cfg)
    db = open_db(config.storage.database)
    rec = Path(config.storage.recordings)
    for i, age in enumerate((9, 5, 1)):
        path = rec / "cam" / f"d{i}" / "segments" / "000000-000.mp4"
        path.parent.mkdir(parents=True)
        path.write_bytes(b"x" * 1000)
        Writer(db).apply([SegmentReady(camera="cam", t=NOW, path=str(path.relative_to(rec)),
                                       start=NOW - age * DAY_S, duration=60.0, bytes=1000)])
    held = [("cam", NOW - 5 * DAY_S + 10, NOW - 5 * DAY_S + 20)]
    dry = {s.kind: s.count for s in run_retention(config, now=NOW, dry_run=True, held=held).summaries}
    assert dry["continuous segments"] == 1
    done = {s.kind: s.count for s in run_retention(config, now=NOW, held=held).summaries}
    assert done["continuous segments"] == 1
    assert [s.path for s in all_segments(db)] == ["cam/d1/segments/000000-000.mp4", "cam/d2/segments/000000-000.mp4"]
    assert sorted(str(p.relative_to(rec)) for p in rec.rglob("*.mp4")) == [s.path for s in all_segments(db)]
    assert run_retention(config, now=NOW + DAY_S).summaries[0].count == 1  # hold released: the held one goes
    assert sorted(p.name for p in (rec / "cam").iterdir()) == ["d2"]  # emptied day folders are removed
    db.conn.close()
