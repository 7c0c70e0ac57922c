"""Retention: the planner (table-driven, pure) and the executor keeping rows and files consistent."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from monitor.site.config import load_config
from monitor.upkeep.prune import apply_plan, run_retention
from monitor.upkeep.retention import DAY_S, ClipFile, Policy, plan_retention
from monitor.db.store import Writer, connect, open_db

NOW = 1_800_000_000.0
MB = 1024**2
POLICY = Policy(clips_s=30 * DAY_S, samples_s=14 * DAY_S, rollups_s=400 * DAY_S, reports_s=400 * DAY_S,
                max_bytes=None, min_free_bytes=0)


def clip(name: str, age_days: float, mb: float = 10, state: str = "complete", thumb_mb: float = 0) -> ClipFile:
    return ClipFile(name, NOW - age_days * DAY_S, state, f"c/{name}.mp4", f"c/{name}.jpg",
                    int(mb * MB), int(thumb_mb * MB))


CLIPS = [clip("old", 40), clip("mid", 10), clip("new", 1), clip("rec", 45, state="recording"),
         clip("failed", 35, mb=0, state="failed")]


@pytest.mark.parametrize(
    "policy_changes, free_mb, expired, over_budget",
    [
        ({}, 10_000, ["old", "failed"], []),  # age only; a clip still recording is never touched
        ({"clips_s": 50 * DAY_S}, 10_000, [], []),  # nothing that old
        ({"max_bytes": 30 * MB}, 10_000, ["old", "failed"], []),  # mid + new + rec = 30 MB after expiry
        ({"max_bytes": 25 * MB}, 10_000, ["old", "failed"], ["mid"]),  # the oldest complete clip goes first
        ({"max_bytes": 1 * MB}, 10_000, ["old", "failed"], ["mid", "new"]),  # cannot delete 'rec': stop at the end
        ({"min_free_bytes": 25 * MB}, 10, ["old", "failed"], ["mid"]),  # 10 + 10 (old) + 10 (mid) >= 25
        ({"min_free_bytes": 15 * MB}, 10, ["old", "failed"], []),  # expiry alone frees enough
        ({"clips_s": 100 * DAY_S, "min_free_bytes": 100 * MB}, 0, [], ["old", "mid", "new"]),
    ],
)
def test_plan(policy_changes, free_mb, expired, over_budget):
    policy = Policy(**{**POLICY.__dict__, **policy_changes})
    plan = plan_retention(CLIPS, int(free_mb * MB), NOW, policy)
    assert [c.event_id for c in plan.expired] == expired
    assert [c.event_id for c in plan.over_budget] == over_budget
    assert plan.samples_before == NOW - 14 * DAY_S and plan.rollups_before == NOW - 400 * DAY_S


def test_max_recordings_counts_thumbnails_but_frees_only_clips():
    clips = [clip("a", 3, mb=10, thumb_mb=5), clip("b", 2, mb=10, thumb_mb=5)]
    plan = plan_retention(clips, 10**12, NOW, Policy(**{**POLICY.__dict__, "max_bytes": 25 * MB}))
    assert [c.event_id for c in plan.over_budget] == ["a"]  # 30 -> 20 MB
    assert plan.freed_bytes == 10 * MB and plan.used_bytes == 30 * MB


@pytest.fixture
def site(tmp_path: Path):
    cfg = tmp_path / "cameras.yaml"
    cfg.write_text(textwrap.dedent("""\
        site: {name: t}
        retention: {clips_days: 30, samples_days: 14, rollups_days: 60, reports_days: 60, max_recordings_gb: 0.00002}
        cameras: []
        """), encoding="utf-8")
    config = load_config(cfg)
    db = open_db(config.storage.database)
    w = Writer(db)
    rec = Path(config.storage.recordings)
    for name, age, size in (("old", 40, 5000), ("mid", 10, 15000), ("new", 1, 8000)):
        start = NOW - age * DAY_S
        path = rec / "cam" / "day" / f"{name}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
        path.with_suffix(".jpg").write_bytes(b"j" * 100)
        w.apply([{"type": "event_start", "camera": "cam", "id": name, "start": start, "clip": True, "t": start},
                 {"type": "clip", "camera": "cam", "id": name, "path": f"cam/day/{name}.mp4", "state": "complete",
                  "duration": 5.0, "t": start},
                 {"type": "thumbnail", "camera": "cam", "id": name, "path": f"cam/day/{name}.jpg", "t": start}])
    for age in (70, 20, 1):  # one sample per age: 70 days (gone with roll-ups), 20 (samples only), 1 (kept)
        t = int(NOW - age * DAY_S)
        w.apply([{"type": "occupancy", "camera": "cam", "t": t, "zones": {"z": {"occupied": True, "count": 1.0}}}])
    reports = config.base_dir / "reports"
    reports.mkdir()
    for day in ("2026-11-01", "2027-01-10"):
        (reports / f"{day}.csv").write_text("x")
    yield config, db, rec
    db.conn.close()


def test_dry_run_changes_nothing_and_the_run_removes_exactly_that(site):
    config, db, rec = site
    before = sorted(p.name for p in rec.rglob("*"))
    dry = {s.kind: s for s in run_retention(config, now=NOW, dry_run=True).summaries}
    assert sorted(p.name for p in rec.rglob("*")) == before
    assert dry["events with clips"].count == 1 and dry["events with clips"].bytes == 5100
    # cap 0.00002 GB = 21,474 bytes: after 'old' goes, mid + new = 23,200 bytes -> 'mid' (oldest) goes
    assert dry["clips over disk budget"].count == 1 and dry["clips over disk budget"].bytes == 15000
    assert dry["occupancy samples"].count == 2 and dry["occupancy roll-ups"].count == 1
    assert dry["report files"].count == 1  # 2026-11-01 is before NOW - 60 days (2026-11-15)
    done = {s.kind: (s.count, s.bytes) for s in run_retention(config, now=NOW).summaries}
    assert done == {k: (s.count, s.bytes) for k, s in dry.items()}
    rows = {r[0]: r[1:] for r in db.execute("select id, clip_state, clip_path, thumb_path from events")}
    assert rows == {"mid": ("pruned", None, "cam/day/mid.jpg"), "new": ("complete", "cam/day/new.mp4", "cam/day/new.jpg")}
    assert sorted(p.name for p in rec.rglob("*.*")) == ["mid.jpg", "new.jpg", "new.mp4"]
    assert db.execute("select count(*) from occupancy").fetchone()[0] == 1
    assert db.execute("select count(*) from occupancy_minute").fetchone()[0] == 2
    assert [p.name for p in (config.base_dir / "reports").iterdir()] == ["2027-01-10.csv"]
    again = run_retention(config, now=NOW)
    assert all(s.count == 0 for s in again.summaries)


def test_every_row_left_points_at_a_file_after_a_run(site):
    config, db, rec = site
    plan_db = connect(config.storage.database)
    from monitor.upkeep.retention import current_plan

    apply_plan(config, plan_db, current_plan(config, plan_db, NOW), dry_run=False)
    plan_db.conn.close()
    for path, in db.execute("select clip_path from events where clip_state = 'complete'"):
        assert (rec / path).is_file()
