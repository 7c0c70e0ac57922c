"""Continuous recording: the main stream cut into segments of about `segment_s`, by stream copy.

Each segment is a ClipWriter (monitor/camera/recorder.py): a fragmented '<name>.mp4.part' while it is
written, remuxed into a faststart '<name>.mp4' when it closes, so a crash never leaves a half-file that
counts (recovery finalises or removes the '.part'). A segment starts on a keyframe and is cut at the
first keyframe at or past `segment_s`, so every segment plays on its own and together they hold every
packet. Segments run while the camera's mode wants footage (opening hours, or always); event clips
are recorded beside them by ClipRecorder, unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av

from monitor.camera.clipaudio import AudioInput, AudioMode, audio_input
from monitor.camera.recorder import ClipWriter, is_audio, is_flush, detach_stream

log = logging.getLogger(__name__)

# A segment that follows the previous one without a break starts where that one ended (its timestamp
# duration), so the timeline has no gaps or overlaps from arrival jitter; when the camera's clock has
# drifted from ours by more than this, the start moves by the drift.
CHAIN_TOLERANCE_S = 1.0


@dataclass(frozen=True)
class SegmentInfo:
    """One finished segment."""

    path: Path
    start: float  # wall-clock time of its first frame
    duration: float  # from packet timestamps
    bytes: int
    packets: int

    @property
    def end(self) -> float:
        return self.start + self.duration


def should_cut(duration_s: float, keyframe: bool, segment_s: float) -> bool:
    """Whether a video packet starts a new segment: a keyframe once the open one holds segment_s."""
    return keyframe and duration_s >= segment_s


def chained_start(previous_end: float | None, arrival: float, earliest: float | None = None,
                  tolerance: float = CHAIN_TOLERANCE_S) -> float:
    """A new segment's start: the previous segment's end when it follows it, moved by the clocks' drift.

    previous_end: the end of the segment just cut, or None after a break (then the arrival time is the start).
    earliest: the smallest lateness (arrival time less its place on the timeline) of the previous segment's
    packets. A loaded machine or network only ever delays packets, so the smallest lateness of the packets,
    this one's included, is the drift between the camera's clock and ours, free of that delay.
    """
    if previous_end is None:
        return arrival
    drift = arrival - previous_end if earliest is None else min(earliest, arrival - previous_end)
    return previous_end if abs(drift) <= tolerance else previous_end + drift


class WantedCache:
    """A `wanted(t)` rule asked at most once per whole second (it is asked for every packet)."""

    def __init__(self, wanted: Callable[[float], bool]):
        self._wanted = wanted
        self._second: int | None = None
        self._value = False

    def __call__(self, t: float) -> bool:
        second = int(t // 1)
        if second != self._second:
            self._second, self._value = second, self._wanted(t)
        return self._value


@dataclass(frozen=True)
class SegmentPolicy:
    """What the recorder needs to know beyond the packets."""

    segment_s: float
    path_for: Callable[[float], Path]  # segment start -> final path (monitor.layout.segment_path)
    wanted: Callable[[float], bool]  # whether continuous footage is wanted at t (the camera's mode)
    allowed: Callable[[float], bool] = lambda t: True  # whether the disk lets a new segment start
    audio: AudioMode = "aac"
    camera: str = ""


class SegmentRecorder:
    """Feeds every main-stream packet into consecutive segments; returns each segment as it closes.

    Call use_stream() after every (re)connect while the input container is open, as for ClipRecorder.
    """

    def __init__(self, policy: SegmentPolicy):
        if policy.segment_s <= 0:
            raise ValueError(f"segment_s must be > 0, got {policy.segment_s}")
        self.policy = policy
        self._wanted = WantedCache(policy.wanted)
        self._template: av.video.stream.VideoStream | None = None
        self._audio: AudioInput | None = None
        self._audio_index: int | None = None
        self._writer: ClipWriter | None = None
        self._start = 0.0
        self._last_end: float | None = None  # end of the segment just cut: where a contiguous next one starts
        self._earliest: float | None = None  # smallest lateness of the open segment's video packets
        self._last_earliest: float | None = None  # ... and of the segment just cut
        self.failed = 0

    @property
    def recording(self) -> bool:
        """True while a segment is open."""
        return self._writer is not None

    def use_stream(self, stream: av.video.stream.VideoStream,
                   audio: av.audio.stream.AudioStream | None = None) -> SegmentInfo | None:
        """Switch to a new input stream: close the open segment and copy the codec parameters."""
        previous = self.close()
        self._template = detach_stream(stream)
        self._audio = audio_input(audio, self.policy.audio)
        self._audio_index = audio.index if audio is not None else None
        return previous

    def on_packet(self, packet: av.Packet, t: float) -> SegmentInfo | None:
        """Record one packet that arrived at t; returns the segment this packet closed, if any."""
        if is_flush(packet):
            return None
        if is_audio(packet, self._audio_index):
            if self._writer is not None and self._audio is not None:
                self._write(packet, t)
            return None
        if (self._template is None or not self._template.codec_context.width) and packet.stream is not None \
                and packet.is_keyframe:
            self._template = detach_stream(packet.stream)  # parameters known only now (see ClipRecorder)
        closed = None
        if self._writer is not None:
            if not self._wanted(t):
                return self._finish(chain=False)
            if should_cut(self._writer.duration_s, packet.is_keyframe, self.policy.segment_s):
                closed = self._finish(chain=True)
        if self._writer is None:
            if not (packet.is_keyframe and self._wanted(t) and self._open(t)):
                return closed
        assert self._writer is not None
        late = t - (self._start + self._writer.duration_s)  # duration_s: where this packet falls on the timeline
        self._earliest = late if self._earliest is None else min(self._earliest, late)
        self._write(packet, t)
        return closed

    def _open(self, t: float) -> bool:
        if self._template is None or not self.policy.allowed(t):
            return False
        start = chained_start(self._last_end, t, self._last_earliest)
        self._last_end = self._last_earliest = self._earliest = None
        path = self.policy.path_for(start)
        try:
            self._writer = ClipWriter(self._template, path, self._audio)
        except (av.FFmpegError, OSError):
            log.exception("%s: cannot open segment %s", self.policy.camera, path.name)
            self.failed += 1
            return False
        self._start = start
        return True

    def _write(self, packet: av.Packet, t: float) -> None:
        assert self._writer is not None
        try:
            self._writer.write(packet, t)
        except av.FFmpegError:
            log.exception("%s: writing segment %s failed", self.policy.camera, self._writer.path.name)
            self._writer.abort()
            self._writer = None
            self.failed += 1

    def _finish(self, chain: bool) -> SegmentInfo | None:
        writer, self._writer = self._writer, None
        if writer is None:
            return None
        try:
            clip = writer.close()
        except (av.FFmpegError, OSError, ValueError):
            log.exception("%s: closing segment %s failed", self.policy.camera, writer.path.name)
            writer.abort()
            self.failed += 1
            return None
        info = SegmentInfo(clip.path, self._start, clip.duration_s, clip.bytes, clip.packets)
        self._last_end = info.end if chain else None
        self._last_earliest = self._earliest if chain else None
        self._earliest = None
        log.info("%s: segment %s, %.2f s, %d bytes", self.policy.camera, info.path.name, info.duration, info.bytes)
        return info

    def close(self) -> SegmentInfo | None:
        """Close the open segment now (shutdown, reconnect, stream lost)."""
        return self._finish(chain=False)
