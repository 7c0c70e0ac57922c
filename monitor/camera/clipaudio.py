"""The audio track of a clip: AAC copied as it comes, G.711 (and any other codec) made AAC or left out.

Browsers play AAC in MP4; the MP4 muxer cannot even store G.711 (PCMA/PCMU, what many cameras send).
`defaults.audio` chooses: "aac" (default) copies AAC and transcodes anything else to AAC, "keep" copies
AAC and leaves other codecs out (no CPU spent on audio), "drop" records video only.
Transcoding 8 kHz G.711 costs little: 0.19 s CPU per minute of audio (0.3 % of a core) while a clip records.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import av
import av.audio.stream

log = logging.getLogger(__name__)

AudioMode = Literal["aac", "keep", "drop"]
AAC_RATE = 16_000  # transcoded G.711 (8 kHz speech) loses nothing at 16 kHz, and every browser plays it
AAC_BIT_RATE = 32_000  # mono speech


def audio_action(codec: str | None, mode: AudioMode) -> Literal["copy", "transcode", "none"]:
    """What a clip does with a camera's audio of this codec (None: the stream has no audio)."""
    if codec is None or mode == "drop":
        return "none"
    if codec == "aac":
        return "copy"
    return "transcode" if mode == "aac" else "none"


@dataclass(frozen=True)
class AudioInput:
    """A camera's audio as a clip needs it, valid after the input container closes."""

    index: int  # the input stream's index: how its packets are told from the video's
    codec: str
    sample_rate: int
    layout: str
    action: Literal["copy", "transcode"]
    template: av.audio.stream.AudioStream | None  # copy: the codec parameters, kept in a private container


def audio_input(stream: av.audio.stream.AudioStream | None, mode: AudioMode) -> AudioInput | None:
    """What clips of this connection record of its audio stream; None: no audio track."""
    if stream is None:
        return None
    ctx = stream.codec_context
    action = audio_action(ctx.name, mode)
    if action == "none":
        if mode != "drop":
            log.info("audio %s is not recorded (defaults.audio: %s)", ctx.name, mode)
        return None
    template = None
    if action == "copy":
        template = av.open(io.BytesIO(), "w", format="mp4").add_stream_from_template(stream)
    return AudioInput(stream.index, ctx.name, ctx.sample_rate, ctx.layout.name, action, template)


class AudioTrack:
    """The audio stream of one output clip, fed with the input's audio packets."""

    def __init__(self, out: av.container.OutputContainer, source: AudioInput):
        self.action = source.action
        self.packets = 0
        self._last_pts: int | None = None
        self._next_sample: int | None = None  # transcoding: the next output sample number
        if source.template is not None:
            self.stream = out.add_stream_from_template(source.template)
            self._decoder = self._resampler = None
        else:
            self.stream = out.add_stream("aac", rate=AAC_RATE, layout="mono")
            self.stream.bit_rate = AAC_BIT_RATE
            self._decoder = av.CodecContext.create(source.codec, "r")
            self._decoder.sample_rate = source.sample_rate
            self._decoder.layout = source.layout
            self._resampler = av.AudioResampler(format="fltp", layout="mono", rate=AAC_RATE)

    def write(self, out: av.container.OutputContainer, packet: av.Packet, start_s: float) -> None:
        """Mux the packet (copied or transcoded) at its time minus start_s, the clip's first video time."""
        tb = packet.time_base
        if packet.pts is None or tb is None:
            return
        at_s = float(packet.pts * tb) - start_s
        if at_s < 0:  # before the clip's first keyframe
            return
        if self.action == "copy":
            self._copy(out, packet, tb, round(at_s / tb))
        else:
            self._transcode(out, packet, at_s)

    def _copy(self, out: av.container.OutputContainer, packet: av.Packet, tb: Fraction, pts: int) -> None:
        if self._last_pts is not None and pts <= self._last_pts:
            return  # the muxer refuses timestamps that go back (a camera clock resync)
        self._last_pts = pts
        copy = av.Packet(packet)
        copy.pts = copy.dts = pts
        copy.time_base = tb
        copy.duration = packet.duration
        copy.stream = self.stream
        out.mux(copy)
        self.packets += 1

    def _transcode(self, out: av.container.OutputContainer, packet: av.Packet, at_s: float) -> None:
        assert self._decoder is not None and self._resampler is not None
        try:
            frames = self._decoder.decode(packet)
        except av.FFmpegError as err:  # one damaged packet: a short silence, never a broken clip
            log.debug("audio decode error: %s", err)
            return
        if self._next_sample is None:
            self._next_sample = round(at_s * AAC_RATE)
        for frame in frames:
            frame.pts = None
            for resampled in self._resampler.resample(frame):
                self._encode(out, resampled)

    def _encode(self, out: av.container.OutputContainer, frame: av.AudioFrame | None) -> None:
        if frame is not None:
            frame.pts, frame.time_base = self._next_sample, Fraction(1, AAC_RATE)
            self._next_sample = (self._next_sample or 0) + frame.samples
        for encoded in self.stream.encode(frame):
            out.mux(encoded)
            self.packets += 1

    def close(self, out: av.container.OutputContainer) -> None:
        """Flush the encoder (transcoding) before the container closes."""
        if self.action == "transcode" and self._next_sample is not None:
            assert self._resampler is not None
            for resampled in self._resampler.resample(None):
                self._encode(out, resampled)
            self._encode(out, None)
