"""Continuous recording from a real RTSP camera: in `opening_hours` mode (open now) the worker writes
consecutive segments by stream copy whose durations add up to the recorded time within two frames, each
readable by ffprobe, stored through the writer; event clips keep working beside them."""

from __future__ import annotations

import textwrap
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from harness import WorkerThread, ffprobe
from monitor.camera.sources import SourcePacket
from monitor.camera.worker import CameraWorker
from monitor.db.segments import all_segments
from monitor.db.store import Writer, open_db
from monitor.messages import ClipReady, SegmentReady
from monitor.site.config import load_config
from support import require_ffprobe

pytestmark = [pytest.mark.rtsp]

SEGMENT_S = 4.0
RECORD_S = 15.0  # three whole segments and a part
FRAME_S = 1 / 25  # tests/conftest.py videos: 25 fps, keyframe every second


class PtsWorker(CameraWorker):
    """Notes the stream time of every video packet that went into a segment."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.recorded: list[float] = []

    def on_packet(self, item: SourcePacket) -> None:
        super().on_packet(item)
        packet = item.packet
        video = item.audio is None or packet.stream_index != item.audio.index
        if video and packet.pts is not None and self.segments.recording and not self.finished:
            self.recorded.append(float(packet.pts * packet.time_base))


def noon_zone() -> str:
    """An Etc/GMT zone where it is about noon now, so '06:00-18:00' is open for the whole test."""
    offset = 12 - datetime.now(timezone.utc).hour  # -11..12 hours east of UTC
    return f"Etc/GMT{-offset:+d}"  # POSIX sign: Etc/GMT-7 is UTC+7


def test_opening_hours_mode_records_consecutive_segments_from_rtsp(rtsp_server, tmp_path: Path):
    require_ffprobe()
    server = rtsp_server(loop=True)
    (tmp_path / "cameras.yaml").write_text(textwrap.dedent(f"""\
        site:
          name: t
          timezone: {noon_zone()}
          opening_hours: {{days: [mon, tue, wed, thu, fri, sat, sun], periods: ["06:00-18:00"]}}
        defaults: {{segment_s: {SEGMENT_S}}}
        cameras:
          - id: cam
            name: Cam
            recording: opening_hours
            streams: {{main: "{server.url('/main')}", sub: "{server.url('/sub')}"}}
        """), encoding="utf-8")
    config = load_config(tmp_path / "cameras.yaml")
    run = WorkerThread(PtsWorker, config, config.cameras[0])
    worker = run.worker
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (len(worker.recorded) < 2
                                           or worker.recorded[-1] - worker.recorded[0] < RECORD_S):
        time.sleep(0.2)
    assert run.stop(20)
    sent = run.messages()

    segments = [m for m in sent if isinstance(m, SegmentReady)]
    recorded_s = max(worker.recorded) - min(worker.recorded) + FRAME_S
    assert recorded_s >= RECORD_S
    rec = Path(config.storage.recordings)
    probed = [ffprobe(rec / s.path) for s in segments]
    assert all(codec == "h264" for codec, _ in probed)
    print(f"\n{len(segments)} segments: " + ", ".join(f"{d:.3f} s" for _, d in probed)
          + f"; sum {sum(d for _, d in probed):.3f} s, recorded {recorded_s:.3f} s")
    assert len(segments) >= 4
    assert sum(d for _, d in probed) == pytest.approx(recorded_s, abs=2 * FRAME_S)
    assert sum(s.duration for s in segments) == pytest.approx(recorded_s, abs=2 * FRAME_S)
    for s, (_, d) in zip(segments[:-1], probed):  # whole segments: cut at the first keyframe past SEGMENT_S
        assert SEGMENT_S <= d < SEGMENT_S + 1.0 + FRAME_S
    for a, b in zip(segments, segments[1:]):
        assert b.start == pytest.approx(a.start + a.duration, abs=1e-6)  # consecutive on the timeline
        assert Path(a.path).parent.name == "segments"
    assert not list(rec.rglob("*.part"))

    db = open_db(tmp_path / "check.db")
    Writer(db).apply(sent)
    stored = all_segments(db)
    assert [s.path for s in stored] == [s.path for s in segments]
    assert all(s.bytes == (rec / s.path).stat().st_size for s in stored)
    db.conn.close()
    # motion at 12-16 s of the looping test video: the event clip is recorded beside the segments
    assert any(isinstance(m, ClipReady) for m in sent)
