"""Continuous-recording segments on a real H.264 file: cut on keyframes at about segment_s, contiguous
starts, the opening-hours window, the disk guard, and no '.part' left behind."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import av
import pytest

from media import VideoSpec, make_video
from monitor.camera.segments import (CHAIN_TOLERANCE_S, SegmentPolicy, SegmentRecorder, WantedCache, chained_start,
                                     should_cut)
from monitor.camera.rendition import video_codec
from monitor.site.config import OpeningHours
from monitor.site.recording import continuous_wanted
from monitor.upkeep.recovery import probe_clip

FPS = 25
SECONDS = 30
BASE = 1_790_000_000.0  # wall-clock time of the file's first frame


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    """30 s, 320x180, 25 fps, keyframe every second (media.VideoSpec defaults)."""
    return make_video(tmp_path_factory.mktemp("media") / "seg.mp4", VideoSpec(seconds=SECONDS, width=320, height=180))


def record(video: Path, folder: Path, segment_s: float, wanted=lambda t: True, allowed=lambda t: True,
           arrival=lambda media_s: BASE + media_s):
    """Feed the whole file through a SegmentRecorder (t = arrival(pts in seconds)); returns the closed segments."""
    policy = SegmentPolicy(segment_s=segment_s, path_for=lambda start: folder / f"{start:.3f}.mp4",
                           wanted=wanted, allowed=allowed, camera="cam")
    recorder = SegmentRecorder(policy)
    closed = []
    with av.open(str(video)) as container:
        recorder.use_stream(container.streams.video[0])
        for packet in container.demux(video=0):
            if packet.pts is None:
                continue
            info = recorder.on_packet(packet, arrival(float(packet.pts * packet.time_base)))
            closed += [info] if info else []
    last = recorder.close()
    return closed + ([last] if last else [])


@pytest.mark.parametrize(("duration", "key", "segment_s", "cut"), [
    (59.96, True, 60, False),  # not long enough yet
    (60.0, True, 60, True),
    (75.0, False, 60, False),  # long enough, but only a keyframe can start a segment
    (75.0, True, 60, True),
])
def test_a_segment_is_cut_at_the_first_keyframe_past_its_length(duration, key, segment_s, cut):
    assert should_cut(duration, key, segment_s) is cut


@pytest.mark.parametrize(("previous_end", "arrival", "earliest", "start"), [
    (None, 100.0, None, 100.0),  # the first segment after a (re)start: its arrival time
    (100.0, 100.3, None, 100.0),  # follows on: arrival jitter does not open a gap
    (100.0, 99.8, None, 100.0),  # ...nor an overlap
    (100.0, 100.0 + CHAIN_TOLERANCE_S + 0.5, None, 101.5),  # drifted: the start moves by the drift
    (100.0, 100.0 + CHAIN_TOLERANCE_S + 0.5, 0.1, 100.0),  # late, but the previous packets came on time
    (100.0, 100.0 + CHAIN_TOLERANCE_S + 0.9, CHAIN_TOLERANCE_S + 0.5, 101.5),  # drift without the delay
    (100.0, 98.5, 0.0, 98.5),  # camera clock fast: this packet came early
])
def test_a_contiguous_segment_starts_where_the_previous_ended(previous_end, arrival, earliest, start):
    assert chained_start(previous_end, arrival, earliest) == pytest.approx(start)


def test_wanted_is_asked_once_per_second():
    asked = []
    cache = WantedCache(lambda t: asked.append(t) or True)
    for t in (10.0, 10.2, 10.9, 11.0, 11.5):
        assert cache(t)
    assert asked == [10.0, 11.0]


def test_segments_are_cut_on_keyframes_and_hold_every_frame(video, tmp_path):
    segments = record(video, tmp_path, segment_s=4)
    # keyframes every 1 s: a cut at exactly 4 s, seven 4 s segments and the 2 s rest
    assert [round(s.duration, 3) for s in segments] == [4.0] * 7 + [2.0]
    assert sum(s.packets for s in segments) == SECONDS * FPS
    assert segments[0].start == BASE
    for a, b in zip(segments, segments[1:]):
        assert b.start == pytest.approx(a.end)  # no gap, no overlap on the timeline
    for s in segments:
        assert s.path.is_file() and s.bytes == s.path.stat().st_size
        assert probe_clip(s.path) == pytest.approx(s.duration, abs=1 / FPS)  # each plays on its own
        assert video_codec(s.path) == "h264"
    assert not list(tmp_path.glob("*.part"))


def test_packets_delayed_by_a_busy_machine_do_not_break_the_timeline(video, tmp_path):
    def stalled(media_s: float) -> float:  # stalls 1.5 s just before the cut at 8 s, then catches up by 10 s
        return BASE + media_s + (max(0.0, 1.5 - (media_s - 7.9) * 0.75) if 7.9 <= media_s < 10 else 0.0)

    segments = record(video, tmp_path, segment_s=4, arrival=stalled)
    assert [round(s.start - BASE, 3) for s in segments] == [0.0, 4.0, 8.0, 12.0, 16.0, 20.0, 24.0, 28.0]


def test_a_camera_clock_that_drifts_moves_the_segments_with_it(video, tmp_path):
    segments = record(video, tmp_path, segment_s=4, arrival=lambda media_s: BASE + media_s * 1.05)  # 5 % slow
    starts = [s.start - BASE for s in segments]
    drifted = [s.start - (BASE + media) for s, media in zip(segments, range(0, SECONDS, 4))]
    assert starts[0] == 0.0 and all(b > a for a, b in zip(starts, starts[1:]))
    # it strays from the arrival clock by the tolerance at most, plus one segment's drift (measured a segment late)
    assert max(abs(d - 0.05 * media) for d, media in zip(drifted, range(0, SECONDS, 4))) <= CHAIN_TOLERANCE_S + 0.2 + 1e-9


def test_a_segment_ends_when_the_window_closes_and_restarts_when_it_opens(video, tmp_path):
    def open_hours(t: float) -> bool:  # open for the first 10 s and again from 20 s
        return not BASE + 10 <= t < BASE + 20

    segments = record(video, tmp_path, segment_s=6, wanted=open_hours)
    assert [(round(s.start - BASE, 3), round(s.duration, 3)) for s in segments] == [
        (0.0, 6.0), (6.0, 4.0), (20.0, 6.0), (26.0, 4.0)]


def test_no_segment_starts_while_the_disk_is_full(video, tmp_path):
    assert record(video, tmp_path, segment_s=4, allowed=lambda t: False) == []
    assert not list(tmp_path.iterdir())


def test_segment_length_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="segment_s"):
        SegmentRecorder(SegmentPolicy(0, lambda s: tmp_path / "x.mp4", lambda t: True))


HOURS_TZ = "Asia/Ho_Chi_Minh"


@pytest.mark.parametrize(("mode", "local", "wanted"), [
    ("opening_hours", "2026-11-24 07:29:59", False),  # a Tuesday, before opening
    ("opening_hours", "2026-11-24 07:30:00", True),
    ("opening_hours", "2026-11-24 12:00:00", False),  # the lunch break
    ("opening_hours", "2026-11-24 16:59:59", True),
    ("opening_hours", "2026-11-28 09:00:00", False),  # Saturday
    ("always", "2026-11-28 03:00:00", True),
    ("events", "2026-11-24 09:00:00", False),  # clips only
])
def test_the_mode_decides_when_continuous_footage_is_wanted(mode, local, wanted):
    tz = ZoneInfo(HOURS_TZ)
    t = datetime.fromisoformat(local).replace(tzinfo=tz).timestamp()
    hours = OpeningHours(periods=["07:30-11:30", "13:30-17:00"])
    assert continuous_wanted(mode, hours, tz, t) is wanted
