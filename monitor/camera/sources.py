"""Stream sources for the per-camera worker: RTSP (reconnect with back-off, stall watchdog) and files
(paced at real time, optionally looping). One `StreamSource` yields packets, decoded frames and status."""

from __future__ import annotations

import logging
import multiprocessing.synchronize
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

import av
import av.audio.stream
import av.container
import av.video.stream
import cv2
import numpy as np

from monitor.site.config import redact

log = logging.getLogger(__name__)

RTSP_CONNECT_TIMEOUT_S = 5.0  # a camera on the LAN answers DESCRIBE/SETUP well within this; longer hides outages
RTSP_READ_TIMEOUT_S = 8.0  # doubles as the stall watchdog: a stalled camera must be noticed within 10 s
BACKOFF_START_S, BACKOFF_MAX_S = 1.0, 30.0  # retry fast after a blip; at most every 30 s for a dead camera
FRAME_EPSILON_S = 1e-3  # float slack when picking frames at detect_fps (pts are exact multiples of 1/fps)

State = Literal["connecting", "online", "reconnecting", "stopped"]
Stop = threading.Event | multiprocessing.synchronize.Event

# Anything user:pass@ shaped inside a message (FFmpeg errors quote the URL they failed on).
_USERINFO_ANYWHERE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/\s'\"@]*@")


class SourceError(Exception):
    """A stream that opened but cannot be used (no video, stalled, ended)."""


# The exceptions a stream can throw while opening, demuxing or decoding, named once.
STREAM_ERRORS: tuple[type[BaseException], ...] = (av.FFmpegError, OSError, SourceError)


@dataclass
class SourcePacket:
    """One demuxed packet (video, or the first audio stream's), stamped with its wall-clock time."""

    packet: av.Packet
    t: float
    stream: av.video.stream.VideoStream  # the connection's video stream, also for audio packets
    keyframe: bool
    audio: av.audio.stream.AudioStream | None = None  # the connection's audio stream, if it has one


@dataclass
class SourceFrame:
    """One decoded frame picked for detection, stamped with its wall-clock time."""

    frame: av.VideoFrame
    t: float
    pts_s: float | None = None  # presentation time in seconds (the worker's lag measure for live streams)


@dataclass
class SourceStatus:
    """A state change of the source; info holds codec, width, height, fps while online."""

    state: State
    error: str | None
    reconnects: int
    info: dict = field(default_factory=dict)
    retry_in_s: float | None = None  # set on "reconnecting": the back-off before the next attempt


def redact_text(text: str, url: str) -> str:
    """text (a log line or error message) with every trace of the URL's credentials removed."""
    if url:
        text = text.replace(url, redact(url))
    return _USERINFO_ANYWHERE.sub(r"\1***@", text)


def grey_small(frame: av.VideoFrame, width: int) -> np.ndarray:
    """The small grey detection image, straight from the Y plane, resized to width (height even)."""
    if frame.format.name in ("yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "gray"):
        plane = frame.planes[0]
        rows = np.frombuffer(plane, np.uint8)[: plane.line_size * frame.height]
        y = rows.reshape(frame.height, plane.line_size)[:, : frame.width]
    else:
        y = frame.to_ndarray(format="gray")
    height = max(2, int(round(frame.height * width / frame.width / 2)) * 2)
    return cv2.resize(y, (width, height), interpolation=cv2.INTER_AREA)


def tune_decoder(stream: av.video.stream.VideoStream) -> None:
    """Decode for detection: one thread, and no deblocking filter (set before the first decode).

    One thread: a 640x360 stream gains nothing from more, and CPU is compared to `ffmpeg -threads 1`.
    Deblocking smooths block edges that the grey image, downscaled 2x with area averaging and
    blurred, no longer shows (mean change 0.7 grey levels); skipping it saves ~18 % of the decode.
    """
    ctx = stream.codec_context
    ctx.thread_count = 1
    ctx.thread_type = "SLICE"
    ctx.options = {**ctx.options, "skip_loop_filter": "all"}


def bgr(frame: av.VideoFrame) -> np.ndarray:
    """The full frame as a BGR array (thumbnails)."""
    return frame.to_ndarray(format="bgr24")


def _seconds(value: int | None, time_base: Fraction | None) -> float | None:
    if value is None or time_base is None:
        return None
    return float(value * time_base)


class _FilePacer:
    """Wall-clock times for a file's timestamps: start + (pts - first pts) + the length of earlier laps."""

    def __init__(self, start: float, time_base: Fraction):
        self.start, self.time_base = start, time_base
        self.first: float | None = None
        self.offset = 0.0  # seconds of earlier laps
        self.lap_end = 0.0  # end of the last packet of this lap, relative to the first pts

    def packet_time(self, packet: av.Packet) -> float:
        pts = _seconds(packet.pts if packet.pts is not None else packet.dts, self.time_base) or 0.0
        if self.first is None:
            self.first = pts
        self.lap_end = max(self.lap_end, pts - self.first + (_seconds(packet.duration, self.time_base) or 0.0))
        return self.start + self.offset + pts - self.first

    def frame_time(self, pts: int) -> float:
        seconds = float(pts * self.time_base)
        return self.start + self.offset + seconds - (self.first if self.first is not None else seconds)

    def next_lap(self) -> None:
        self.offset += max(self.lap_end, 1e-3)
        self.lap_end = 0.0


class StreamSource:
    """Opens one stream and yields its packets, frames and status until `stop` is set."""

    def __init__(
        self,
        url: str,
        label: str,
        *,
        packets: bool,
        decode: bool,
        detect_fps: float | None = None,
        loop: bool = False,
        is_file: bool = False,
        stop: Stop | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] | None = None,
    ):
        if detect_fps is not None and detect_fps <= 0:
            raise ValueError(f"detect_fps must be positive, got {detect_fps}")
        self.url, self.label = url, label
        self.packets, self.decode = packets, decode
        self.period = 1.0 / detect_fps if detect_fps else 0.0
        self.loop, self.is_file = loop, is_file
        self.stop = stop if stop is not None else threading.Event()
        self.clock, self._sleep = clock, sleep
        self.reconnects = 0
        self.decoded = 0  # frames decoded so far (the sub-stream's input rate on the health page)
        self.state: State | None = None
        self._was_online = False
        self._last_video = 0.0  # clock() of the last video packet (RTSP stall watchdog)
        self._picked: tuple[float, float | None] | None = None  # (t, live pts) of the last frame yielded
        self._container: av.container.InputContainer | None = None

    # -- public ---------------------------------------------------------------------------------

    def items(self) -> Iterator[SourcePacket | SourceFrame | SourceStatus]:
        """Packets, frames and status changes until stop is set (or a non-looping file ends)."""
        try:
            yield from self._run()
        finally:
            self._close()

    # -- the connect / read / back-off loop -------------------------------------------------------

    def _run(self) -> Iterator[SourcePacket | SourceFrame | SourceStatus]:
        backoff = BACKOFF_START_S
        yield self._status("connecting")
        while not self.stop.is_set():
            delivered = False
            try:
                log.debug("%s: opening %s", self.label, redact(self.url))
                self._container = self._open()
                for item in self._read(self._container):
                    if not delivered:
                        delivered = True
                        if self._was_online:
                            self.reconnects += 1
                        self._was_online = True
                        yield self._status("online", info=self._info())
                    yield item
                    if self.stop.is_set():
                        break
                else:
                    if self.is_file and not self.loop:
                        log.info("%s: end of file", self.label)
                        yield self._status("stopped")
                        return
                    if not self.stop.is_set():
                        raise SourceError("end of stream")
            except STREAM_ERRORS as err:
                if self.stop.is_set():
                    break
                if delivered:
                    backoff = BACKOFF_START_S
                error = redact_text(f"{type(err).__name__}: {err}", self.url)
                log.warning("%s: %s; retrying in %.0f s", self.label, error, backoff)
                yield self._status("reconnecting", error=error, retry_in_s=backoff)
                self._close()
                if self._wait(backoff):
                    break
                backoff = min(backoff * 2, BACKOFF_MAX_S)
            finally:
                self._close()
        yield self._status("stopped")

    def _open(self) -> av.container.InputContainer:
        if self.is_file:
            container = av.open(self.url)
        else:
            container = av.open(
                self.url,
                options={
                    "rtsp_transport": "tcp",  # UDP loses packets (grey smears) on busy office networks
                    "timeout": str(int(RTSP_READ_TIMEOUT_S * 1_000_000)),  # socket I/O, microseconds
                },
                # Reads are bounded by the socket time-out above, not by PyAV's read time-out: that one
                # takes the GIL on every socket read (hundreds a second on a main stream), which
                # the detection thread of the same worker then pays for in GIL hand-offs.
                timeout=(RTSP_CONNECT_TIMEOUT_S, None),
            )
        if not container.streams.video:
            container.close()
            raise SourceError("no video stream")
        if self.decode:
            tune_decoder(container.streams.video[0])
        return container

    def _read(self, container: av.container.InputContainer) -> Iterator[SourcePacket | SourceFrame]:
        """Every item of one connection (a file: every lap); returns at EOF or stop, raises on errors."""
        stream = container.streams.video[0]
        # audio only where clips are recorded; detection demuxes the video alone
        audio = container.streams.audio[0] if self.packets and container.streams.audio else None
        pacer = _FilePacer(self.clock(), stream.time_base) if self.is_file else None
        self._last_video = self.clock()
        self._picked = None
        last_t = self.clock()
        while True:
            for packet in container.demux(*[s for s in (stream, audio) if s is not None]):
                if self.stop.is_set():
                    return
                if audio is not None and packet.stream.index == audio.index:
                    if packet.size:  # stamped like the last video packet: it only orders the ring
                        yield SourcePacket(packet, last_t, stream, False, audio)
                    continue
                t = self._stamp(packet, stream, pacer)
                if t is None:
                    continue
                if pacer is not None and self._wait_until(t):
                    return
                last_t = t
                if self.packets:
                    yield SourcePacket(packet, t, stream, bool(packet.is_keyframe), audio)
                if self.decode:
                    yield from self._frames(stream, packet, t, pacer)
            if pacer is None:
                return
            if self.decode:
                yield from self._frames(stream, None, 0.0, pacer)  # the decoder's last frames
            if not self.loop:
                return
            pacer.next_lap()
            container.seek(0)
            stream.codec_context.flush_buffers()
            log.debug("%s: looping file (offset %.2f s)", self.label, pacer.offset)

    def _stamp(self, packet: av.Packet, stream: av.video.stream.VideoStream,
               pacer: _FilePacer | None) -> float | None:
        """The wall-clock time of a video packet; None for packets to skip. Runs the stall watchdog."""
        if pacer is None:
            now = self.clock()
            # Also catches FFmpeg's RTSP demuxer handing out a packet it had queued when its read
            # time-out fired (it then waits a second full time-out before failing).
            if now - self._last_video >= RTSP_READ_TIMEOUT_S:
                raise SourceError(f"stalled: no video for {now - self._last_video:.0f} s")
        if packet.stream.index != stream.index or packet.size == 0:  # other streams, EOF flush packets
            return None
        if pacer is None:
            self._last_video = now
            return now
        return pacer.packet_time(packet)

    def _frames(self, stream: av.video.stream.VideoStream, packet: av.Packet | None, t: float,
                pacer: _FilePacer | None) -> Iterator[SourceFrame]:
        """Decode packet (None drains) and yield the frames picked at detect_fps."""
        try:
            frames = stream.codec_context.decode(packet)
        except av.InvalidDataError as err:  # a damaged packet: skip it, the next keyframe recovers
            log.debug("%s: decode error: %s", self.label, err)
            return
        for frame in frames:
            self.decoded += 1
            if pacer is not None and frame.pts is not None:
                t = pacer.frame_time(frame.pts)
            pts = _seconds(frame.pts, stream.time_base)
            # Frames are picked by the stream's own timestamps where it has them: a worker that was
            # busy (a detector sweep, a loaded machine) reads the packets queued meanwhile at almost
            # the same arrival time, and picking by arrival then skipped some (16 busy cameras on 2
            # cores analysed 94 % of the frames asked for). Half a frame interval of slack; a
            # timestamp going backwards (a new stream, a wrap) starts the count again; frames without
            # one, or with the same one as the last pick (a camera that stamps badly), go by arrival.
            rate = stream.average_rate or stream.guessed_rate
            slack = 0.5 / float(rate) if rate else FRAME_EPSILON_S
            key = pts if pacer is None else None
            if self._picked is None:
                due = True
            elif key is not None and self._picked[1] is not None and key != self._picked[1]:
                due = key < self._picked[1] or key >= self._picked[1] + self.period - slack
            else:
                due = t >= self._picked[0] + self.period - slack
            if due:
                self._picked = (t, key)
                yield SourceFrame(frame, t, pts)

    # -- helpers ----------------------------------------------------------------------------------

    def _info(self) -> dict:
        container = self._container
        if container is None:
            return {}
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        return {
            "codec": stream.codec_context.name,
            "width": stream.codec_context.width,
            "height": stream.codec_context.height,
            "fps": round(float(rate), 3) if rate else None,
        }

    def _status(self, state: State, error: str | None = None, info: dict | None = None,
                retry_in_s: float | None = None) -> SourceStatus:
        if state != self.state:
            log.info("%s: %s", self.label, state)
        self.state = state
        return SourceStatus(state, error, self.reconnects, info or {}, retry_in_s)

    def _wait(self, seconds: float) -> bool:
        """Wait (on the stop event) for seconds; True when stop is set."""
        if seconds > 0:
            if self._sleep is not None:
                self._sleep(seconds)
            else:
                self.stop.wait(seconds)
        return self.stop.is_set()

    def _wait_until(self, t: float) -> bool:
        """Wait until clock() >= t; True when stop is set."""
        return self._wait(t - self.clock())

    def _close(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
            except STREAM_ERRORS as err:
                log.debug("%s: close: %s", self.label, redact_text(str(err), self.url))
            self._container = None
