"""Start-up check of segments: a crash's '.part' becomes a segment with a row (or is removed when nothing
in it plays), a renamed file whose message was lost is adopted, a row whose file is gone is dropped."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import av
import pytest

from media import VideoSpec, make_video
from monitor.camera.recorder import ClipWriter
from monitor.db.segments import all_segments
from monitor.db.store import Writer, open_db
from monitor.layout import segment_path
from monitor.messages import SegmentReady
from monitor.site.config import load_config
from monitor.upkeep.recovery import recover

START = 1_790_000_000.0


@pytest.fixture
def site(tmp_path: Path):
    cfg = tmp_path / "cameras.yaml"
    cfg.write_text(textwrap.dedent("""\
        site: {name: t}
        cameras: []
        """), encoding="utf-8")
    config = load_config(cfg)
    db = open_db(config.storage.database)
    yield config, db, Path(config.storage.recordings)
    db.conn.close()


def crashed_part(video: Path, final: Path, seconds: float) -> Path:
    """The '.part' a killed worker leaves: a copy taken while the writer still had it open."""
    with av.open(str(video)) as container:
        writer = ClipWriter(container.streams.video[0], final)
        for packet in container.demux(video=0):
            if packet.pts is not None and float(packet.pts * packet.time_base) < seconds:
                writer.write(packet, float(packet.pts * packet.time_base))
        left = final.with_name(final.name + ".crash")
        shutil.copy(writer.part_path, left)
        writer.abort()
    part = final.with_name(final.name + ".part")
    left.rename(part)
    return part


def test_recovery_finalises_adopts_and_drops_segments(site, tmp_path):
    config, db, rec = site
    tz = config.site.tz
    video = make_video(tmp_path / "v.mp4", VideoSpec(seconds=6, width=320, height=180))
    crashed = segment_path(rec, "cam", START, tz)
    part = crashed_part(video, crashed, 4.0)
    junk = segment_path(rec, "cam", START + 300, tz).with_suffix(".mp4.part")
    junk.write_bytes(b"\0" * 4096)
    orphan = segment_path(rec, "cam", START + 60, tz)
    shutil.copy(video, orphan)
    Writer(db).apply([SegmentReady(camera="cam", t=START, path="cam/gone/segments/000000-000.mp4", start=START - 600,
                                   duration=60.0, bytes=1)])

    summary = recover(config, db)

    assert (summary.segments_finalised, summary.segments_discarded, summary.segments_adopted,
            summary.segment_rows_deleted) == (1, 1, 2, 1)
    assert not part.exists() and not junk.exists()
    rows = {s.path: s for s in all_segments(db)}
    assert sorted(rows) == sorted(str(p.relative_to(rec)) for p in (crashed, orphan))
    first = rows[str(crashed.relative_to(rec))]
    assert first.start == pytest.approx(START, abs=0.001) and first.camera == "cam"
    assert 3.0 <= first.duration <= 4.0  # the fragments written before the "crash"
    assert rows[str(orphan.relative_to(rec))].duration == pytest.approx(6.0, abs=0.05)
    again = recover(config, db)  # a second run has nothing to do
    assert (again.segments_finalised, again.segments_discarded, again.segments_adopted,
            again.segment_rows_deleted) == (0, 0, 0, 0)
