"""Event clips from the main stream by stream copy: a pre-roll packet ring and an MP4 clip writer.

The worker demuxes main-stream packets with PyAV, stamps each with its wall-clock arrival time
``t`` (seconds) and feeds them to :class:`ClipRecorder`. Nothing here decodes or re-encodes video;
audio packets ride along in the ring and go to the clip as monitor/camera/clipaudio.py decides.
"""

from __future__ import annotations

import io
import logging
import os
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from monitor.camera.clipaudio import AudioInput, AudioMode, AudioTrack, audio_input

log = logging.getLogger(__name__)

# "Smart codec" cameras stretch the GOP to ~10 s; a stream with no keyframe for this long past the
# pre-roll is broken, and the ring is emptied rather than grown without bound.
MAX_GOP_S = 30.0
# A jump in packet timestamps larger than this (camera clock resync) is squeezed out of the clip
# timeline, so one bad timestamp cannot turn a 20 s clip into an hour of frozen video.
MAX_TIMESTAMP_GAP_S = 5.0
# Frame step assumed until two packets give a real one (25 fps is the camera default here).
DEFAULT_FRAME_S = 0.04

MP4_OPTIONS = {"movflags": "+faststart"}  # moov before mdat: browsers start playing at once
# The '.part' file is a fragmented MP4 (a moof per keyframe): a crash or kill leaves every fragment
# written so far playable, and the start-up check (monitor/upkeep/recovery.py) remuxes it into a clip.
# flush_packets: each fragment reaches the file at once instead of waiting in a 32 KB I/O buffer.
PART_OPTIONS = {"movflags": "frag_keyframe+empty_moov+default_base_moof", "flush_packets": "1"}


def is_flush(packet: av.Packet) -> bool:
    """Demuxers end with empty packets that carry no timestamp; they must never be muxed."""
    return packet.size == 0 or packet.pts is None


def is_audio(packet: av.Packet, audio_index: int | None) -> bool:
    """Whether the packet belongs to the input's audio stream (by index: packet.stream of a packet whose
    container has closed crashes the process, and the ring holds packets past a reconnect's close)."""
    return audio_index is not None and packet.stream_index == audio_index


def set_mp4_tag(stream: av.stream.Stream) -> None:
    """H.265 in MP4 as 'hvc1' (parameter sets in the header): Safari and hardware decoders need it."""
    if stream.type == "video" and stream.codec_context.codec.canonical_name == "hevc":
        stream.codec_tag = "hvc1"


def detach_stream(stream: av.video.stream.VideoStream) -> av.video.stream.VideoStream:
    """A copy of the stream's codec parameters that stays valid after its input container closes.

    Closing an input container frees its streams, and PyAV then crashes the process (SIGSEGV) on
    any use of them, add_stream_from_template() included. The copy lives in a private output
    container that is never written; the returned stream keeps that container alive.
    """
    holder = av.open(io.BytesIO(), "w", format="mp4")
    return holder.add_stream_from_template(stream)


class PacketRing:
    """Main-stream packets covering at least pre_roll_s, always starting at a keyframe."""

    def __init__(self, pre_roll_s: float):
        if pre_roll_s < 0:
            raise ValueError(f"pre_roll_s must be >= 0, got {pre_roll_s}")
        self.pre_roll_s = float(pre_roll_s)
        self._entries: deque[tuple[av.Packet, float]] = deque()
        self._keys: deque[tuple[int, float]] = deque()  # (sequence number, t) of each keyframe
        self._first_seq = 0  # sequence number of _entries[0]
        self._next_seq = 0

    def push(self, packet: av.Packet, t: float, audio: bool = False) -> None:
        """Add a packet; drop what lies before the newest keyframe at or before t - pre_roll_s."""
        if is_flush(packet):
            return
        video_key = packet.is_keyframe and not audio  # audio packets are all "keyframes"
        if not self._entries and not video_key:
            return  # nothing decodable until the first keyframe
        if not self._entries:
            self._first_seq = self._next_seq
        if video_key:
            self._keys.append((self._next_seq, t))
        self._entries.append((packet, t))
        self._next_seq += 1
        self._trim(t)

    def _trim(self, t: float) -> None:
        cutoff = t - self.pre_roll_s
        while len(self._keys) >= 2 and self._keys[1][1] <= cutoff:
            self._keys.popleft()
            self._drop_to(self._keys[0][0])
        while self._entries and t - self._entries[0][1] > self.pre_roll_s + MAX_GOP_S:
            if len(self._keys) < 2:
                log.warning("no keyframe for %.0f s: emptying the pre-roll ring", MAX_GOP_S)
                self.clear()
                return
            self._keys.popleft()
            self._drop_to(self._keys[0][0])

    def _drop_to(self, seq: int) -> None:
        for _ in range(seq - self._first_seq):
            self._entries.popleft()
        self._first_seq = seq

    def since(self, t: float) -> list[tuple[av.Packet, float]]:
        """Packets from the newest keyframe with time <= t (else the oldest keyframe) to the end."""
        start_seq = self._first_seq
        for seq, key_t in reversed(self._keys):
            if key_t <= t:
                start_seq = seq
                break
        entries = list(self._entries)
        return entries[start_seq - self._first_seq :]

    def clear(self) -> None:
        """Forget every packet, e.g. after a reconnect (new stream, new timestamps)."""
        self._entries.clear()
        self._keys.clear()
        self._first_seq = self._next_seq

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        """Payload bytes held (what the ring costs in memory, give or take the packet objects)."""
        return sum(packet.size for packet, _ in self._entries)

    @property
    def span_s(self) -> float:
        """Time covered: newest t minus oldest t."""
        if not self._entries:
            return 0.0
        return self._entries[-1][1] - self._entries[0][1]


@dataclass(frozen=True)
class ClipInfo:
    path: Path
    duration_s: float  # from packet timestamps
    packets: int
    bytes: int  # size of the final file
    started_at: float  # wall-clock t of the first packet in the clip
    ended_at: float  # wall-clock t of the last packet in the clip


class ClipWriter:
    """Writes one clip by stream copy: temporary '<name>.mp4.part' then renamed to '<name>.mp4' on close."""

    def __init__(self, template: av.video.stream.VideoStream, final_path: Path, audio: AudioInput | None = None):
        """template: the input stream while its container is open, or detach_stream() of it."""
        self.path = Path(final_path)
        self.part_path = self.path.with_name(self.path.name + ".part")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._template_tb: Fraction | None = template.time_base
        self._out = av.open(str(self.part_path), "w", format="mp4", options=PART_OPTIONS)
        try:
            self._stream = self._out.add_stream_from_template(template)
            set_mp4_tag(self._stream)
            self._audio = AudioTrack(self._out, audio) if audio is not None else None
            self._audio_index = audio.index if audio is not None else None
        except BaseException:
            self._out.close()
            raise
        self._closed = False
        self._tb: Fraction | None = None  # time base of the written timestamps (input packets')
        self._origin = 0  # input dts that becomes 0 in the clip
        self._last_dts: int | None = None
        self._step = 0  # last positive dts step, in _tb units
        self._end = 0  # largest pts + duration written, in _tb units
        self.packets = 0
        self.fixed_timestamps = 0  # packets whose dts was moved to keep the timeline monotonic
        self.started_at: float | None = None
        self.ended_at: float | None = None

    def __enter__(self) -> ClipWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()
        elif not self._closed:
            self.close()

    def write(self, packet: av.Packet, t: float) -> None:
        """Mux one packet, rebased so the clip starts at 0; skips packets before the first keyframe."""
        if self._closed:
            raise ValueError(f"clip {self.path} is already closed")
        if is_flush(packet):
            return
        if is_audio(packet, self._audio_index):
            if self._audio is not None and self._tb is not None:  # from the clip's first video packet on
                try:
                    self._audio.write(self._out, packet, float(self._origin * self._tb))
                except av.FFmpegError as err:  # the clip goes on without this packet: audio never breaks it
                    log.debug("%s: audio packet skipped: %s", self.path.name, err)
            return
        if self.packets == 0 and not packet.is_keyframe:
            return
        pts = packet.pts
        dts = packet.dts if packet.dts is not None else pts
        if self._tb is None:
            self._tb = packet.time_base or self._template_tb
            self._origin = dts
            self._step = max(1, round(DEFAULT_FRAME_S / self._tb))
            self.started_at = t
        dts = self._fix_dts(dts - self._origin)
        pts = max(pts - self._origin, dts)  # the muxer refuses pts < dts
        # A new packet sharing the data (no copy): the caller's packet, which may also sit in the
        # pre-roll ring, must keep its own timestamps; mux() rescales the packet it is given.
        out = av.Packet(packet)
        out.pts, out.dts, out.time_base = pts, dts, self._tb
        out.duration = packet.duration
        out.is_keyframe = packet.is_keyframe
        out.stream = self._stream
        self._out.mux(out)
        self._end = max(self._end, pts + (packet.duration or self._step))
        self.packets += 1
        self.ended_at = t

    def _fix_dts(self, dts: int) -> int:
        """Keep dts strictly increasing and without long gaps by moving the origin at a jump."""
        last = self._last_dts
        if last is not None:
            delta = dts - last
            if delta <= 0 or delta * self._tb > MAX_TIMESTAMP_GAP_S:
                shift = last + self._step - dts
                self._origin -= shift
                dts += shift
                self.fixed_timestamps += 1
            else:
                self._step = delta
        self._last_dts = dts
        return dts

    @property
    def duration_s(self) -> float:
        """Duration written so far, from packet timestamps."""
        if self._tb is None:
            return 0.0
        return float(self._end * self._tb)

    def close(self) -> ClipInfo:
        """Finish the file and rename it into place; raises ValueError (and removes it) if empty."""
        if self._closed:
            raise ValueError(f"clip {self.path} is already closed")
        if self.packets == 0:
            self.abort()
            raise ValueError(f"clip {self.path} has no packets (no keyframe arrived)")
        self._closed = True
        try:
            if self._audio is not None:
                self._audio.close(self._out)
            self._out.close()  # flushes the interleaving queue and the last fragment
            finalize_part(self.part_path, self.path)
        except BaseException:
            self.part_path.unlink(missing_ok=True)
            raise
        if self.fixed_timestamps:
            log.info("%s: fixed %d out-of-order timestamps", self.path.name, self.fixed_timestamps)
        return ClipInfo(
            path=self.path,
            duration_s=self.duration_s,
            packets=self.packets,
            bytes=self.path.stat().st_size,
            started_at=self.started_at,
            ended_at=self.ended_at,
        )

    def abort(self) -> None:
        """Close and delete the temporary file."""
        if not self._closed:
            self._closed = True
            try:
                self._out.close()
            except av.FFmpegError:
                pass  # the file is deleted anyway
        self.part_path.unlink(missing_ok=True)


def remux(src: Path, dst: Path) -> int:
    """Stream-copy the video (and audio) of src into a faststart MP4 at dst, up to the first unreadable packet.

    Returns the video packets written (0: nothing readable, and dst is not created).
    """
    written = 0
    with av.open(str(src)) as inp:
        if not inp.streams.video:
            return 0
        sources = [inp.streams.video[0], *inp.streams.audio[:1]]
        out = av.open(str(dst), "w", format="mp4", options=MP4_OPTIONS)
        try:
            targets = {}
            for stream in sources:
                targets[stream.index] = out.add_stream_from_template(stream)
                set_mp4_tag(targets[stream.index])
            try:
                for packet in inp.demux(*sources):
                    video = packet.stream.type == "video"
                    if is_flush(packet) or (written == 0 and not (video and packet.is_keyframe)):
                        continue
                    packet.stream = targets[packet.stream.index]
                    out.mux(packet)
                    written += video
            except (av.FFmpegError, OSError) as err:  # a fragment cut short by a crash ends the clip there
                log.info("%s: read stopped after %d packets: %s", src.name, written, err)
        finally:
            if written:
                out.close()
            else:
                _close_quietly(out)
                dst.unlink(missing_ok=True)
    return written


def _close_quietly(container: av.container.OutputContainer) -> None:
    try:
        container.close()
    except (av.FFmpegError, OSError, ValueError):
        pass  # closing an output with no packets may fail; the file is removed anyway


def finalize_part(part: Path, final: Path) -> int:
    """Turn a fragmented '.part' into the faststart clip at final (via a temp file); returns packets.

    Raises ValueError when nothing in part is readable; part is removed whenever final is written.
    """
    tmp = final.with_name(final.name + ".tmp")
    try:
        packets = remux(part, tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if not packets:
        raise ValueError(f"{part.name} holds no readable video")
    os.replace(tmp, final)
    part.unlink(missing_ok=True)
    return packets


class ClipRecorder:
    """Glue for the worker: owns a PacketRing and at most one open ClipWriter; decides when a clip ends.

    A clip runs from the keyframe at or before event_start - pre_roll_s until the first packet that
    arrives at or after event_end + post_roll_s, or until it holds max_clip_s of video. If start() is
    called before any keyframe is buffered, the clip opens at the next keyframe.

    Call use_stream() after every (re)connect, while the new input container is open; without it
    the codec parameters are copied from the first packet's stream (its container must be open then).
    """

    def __init__(
        self,
        pre_roll_s: float,
        post_roll_s: float,
        max_clip_s: float,
        *,
        ring_s: float | None = None,
        camera: str = "",
        audio: AudioMode = "aac",
    ):
        if post_roll_s < 0 or max_clip_s <= 0:
            raise ValueError(f"need post_roll_s >= 0 and max_clip_s > 0, got {post_roll_s}, {max_clip_s}")
        self.pre_roll_s = float(pre_roll_s)
        self.post_roll_s = float(post_roll_s)
        self.max_clip_s = float(max_clip_s)
        self.camera = camera
        # ring_s > pre_roll_s lets a start() that arrives late (event confirmed after a delay)
        # still reach back a full pre-roll before the event.
        self.ring = PacketRing(pre_roll_s if ring_s is None else max(ring_s, pre_roll_s))
        self._template: av.video.stream.VideoStream | None = None  # from detach_stream()
        self.audio_mode: AudioMode = audio
        self._audio: AudioInput | None = None  # what clips of this connection do with its audio
        self._audio_index: int | None = None  # the connection's audio stream, recorded or not
        self._writer: ClipWriter | None = None
        self._pending: Path | None = None  # start() seen, waiting for a keyframe
        self._stop_t: float | None = None
        self._failed: list[Path] = []

    @property
    def recording(self) -> bool:
        """True while a clip is open or waiting for its first keyframe."""
        return self._writer is not None or self._pending is not None

    def use_stream(self, stream: av.video.stream.VideoStream,
                   audio: av.audio.stream.AudioStream | None = None) -> ClipInfo | None:
        """Switch to a new input stream: close the open clip, empty the ring, copy the codec parameters."""
        previous = self.close()
        self.ring.clear()
        self._template = detach_stream(stream)
        self._audio = audio_input(audio, self.audio_mode)
        self._audio_index = audio.index if audio is not None else None
        return previous

    def on_packet(self, packet: av.Packet, t: float) -> ClipInfo | None:
        """Buffer the packet and record it; returns the ClipInfo of a clip that ended here."""
        if is_audio(packet, self._audio_index):
            self._on_audio(packet, t)
            return None
        if (self._template is None or not self._template.codec_context.width) and packet.stream is not None \
                and packet.is_keyframe and not is_flush(packet):
            # a stream opened before its parameters were probed has no size yet, and the MP4 muxer
            # refuses it ("dimensions not set"): copy again once the decoder or parser knows them
            self._template = detach_stream(packet.stream)
        self.ring.push(packet, t)
        if not self.recording or is_flush(packet):
            return None
        if self._stop_t is not None and t >= self._stop_t:
            return self.close()
        if self._writer is None:
            if not packet.is_keyframe or not self._open(self._pending):
                return None
        try:
            self._writer.write(packet, t)
        except av.FFmpegError:
            log.exception("%s: writing clip %s failed", self.camera, self._writer.path.name)
            self._discard()
            return None
        if self._writer.duration_s >= self.max_clip_s:
            log.info("%s: clip %s reached %.0f s", self.camera, self._writer.path.name, self.max_clip_s)
            return self.close()
        return None

    def _on_audio(self, packet: av.Packet, t: float) -> None:
        if self._audio is None:
            return
        self.ring.push(packet, t, audio=True)
        if self._writer is not None:
            self._writer.write(packet, t)

    def start(self, final_path: Path, event_start: float) -> ClipInfo | None:
        """Open a clip with pre-roll from event_start; returns the ClipInfo of a clip it had to close."""
        previous = self.close()
        self._stop_t = None
        buffered = self.ring.since(event_start - self.pre_roll_s)
        if not buffered or self._template is None:
            self._pending = Path(final_path)
            return previous
        if not self._open(Path(final_path)):
            return previous
        try:
            for packet, t in buffered:
                self._writer.write(packet, t)
        except av.FFmpegError:
            log.exception("%s: writing pre-roll of %s failed", self.camera, Path(final_path).name)
            self._discard()
        return previous

    def stop(self, event_end: float) -> None:
        """Keep recording until event_end + post_roll_s, then close the clip."""
        if self.recording:
            self._stop_t = event_end + self.post_roll_s

    def close(self) -> ClipInfo | None:
        """Close any open clip now (shutdown, reconnect); None if there was none or it was empty."""
        writer, self._writer = self._writer, None
        if self._pending is not None:
            log.info("%s: clip %s ended before a keyframe arrived", self.camera, self._pending.name)
            self._failed.append(self._pending)
        self._pending = None
        self._stop_t = None
        if writer is None:
            return None
        try:
            info = writer.close()
        except (av.FFmpegError, OSError, ValueError):
            log.exception("%s: closing clip %s failed", self.camera, writer.path.name)
            self._failed.append(writer.path)
            writer.abort()
            return None
        log.info("%s: clip %s, %.1f s, %d bytes", self.camera, info.path.name, info.duration_s, info.bytes)
        return info

    def _open(self, path: Path) -> bool:
        self._pending = None
        if self._template is None:
            return False
        try:
            self._writer = ClipWriter(self._template, path, self._audio)
        except (av.FFmpegError, OSError):
            log.exception("%s: cannot open clip %s", self.camera, path.name)
            self._failed.append(path)
            self._stop_t = None
            return False
        return True

    def take_failed(self) -> list[Path]:
        """Clips given up since the last call (write errors, or no keyframe before the stop time)."""
        failed, self._failed = self._failed, []
        return failed

    def _discard(self) -> None:
        if self._writer is not None:
            self._failed.append(self._writer.path)
            self._writer.abort()
        self._writer = None
        self._pending = None
        self._stop_t = None


def write_thumbnail(bgr: np.ndarray, path: Path, width: int = 320, quality: int = 80) -> Path:
    """Write a JPEG of the frame scaled to `width` (aspect kept) atomically; returns the path."""
    if bgr.ndim not in (2, 3) or bgr.dtype != np.uint8 or width <= 0:
        raise ValueError(f"need a uint8 image and width > 0, got {bgr.dtype} {bgr.shape}, {width}")
    h, w = bgr.shape[:2]
    height = max(1, round(h * width / w))
    interpolation = cv2.INTER_AREA if width < w else cv2.INTER_LINEAR
    small = cv2.resize(bgr, (width, height), interpolation=interpolation)
    ok, jpeg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError(f"JPEG encoding failed for {path}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(jpeg.tobytes())
    os.replace(tmp, path)
    return path
