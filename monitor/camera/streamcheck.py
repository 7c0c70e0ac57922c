"""Open a stream once with PyAV and report what it carries: codec, size, frame rate and one JPEG frame."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import av
import cv2

from monitor.camera.sources import bgr, redact_text

TEST_CONNECT_S = 5.0  # a camera on the LAN answers DESCRIBE/SETUP in well under a second
TEST_READ_S = 5.0  # per read: a live stream sends a packet at least every frame interval
TEST_TOTAL_S = 12.0  # the whole test, in the web request's thread: wait for one keyframe (cameras send one every 1-4 s)
PREVIEW_WIDTH = 640  # the picture shown on the add-camera and zone pages
JPEG_QUALITY = 80


class StreamCheckError(Exception):
    """The stream could not be opened or gave no picture; the message is one line without credentials."""


@dataclass(frozen=True)
class StreamInfo:
    """What a stream test found."""

    codec: str
    width: int
    height: int
    fps: float | None
    jpeg: bytes


def check_stream(url: str, total_s: float = TEST_TOTAL_S) -> StreamInfo:
    """Open url (rtsp:// or a file path), decode the first picture within total_s seconds."""
    rtsp = "://" in url
    deadline = time.monotonic() + total_s
    try:
        options = {"rtsp_transport": "tcp", "timeout": str(int(TEST_READ_S * 1_000_000))} if rtsp else {}
        with av.open(url, options=options, timeout=(TEST_CONNECT_S, TEST_READ_S)) as container:
            if not container.streams.video:
                raise StreamCheckError("the stream has no video")
            stream = container.streams.video[0]
            for packet in container.demux(stream):
                for frame in packet.decode():
                    return _info(stream, frame)
                if time.monotonic() > deadline:
                    break
    except StreamCheckError:
        raise
    except (av.FFmpegError, OSError) as err:
        raise StreamCheckError(_one_line(redact_text(f"{type(err).__name__}: {err}", url))) from None
    raise StreamCheckError(f"no picture within {total_s:.0f} s")


def _info(stream: av.video.stream.VideoStream, frame: av.VideoFrame) -> StreamInfo:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    image = bgr(frame)
    h, w = image.shape[:2]
    if w > PREVIEW_WIDTH:
        image = cv2.resize(image, (PREVIEW_WIDTH, max(1, round(h * PREVIEW_WIDTH / w))), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise StreamCheckError("the picture could not be encoded as JPEG")
    return StreamInfo(codec=stream.codec_context.name, width=frame.width, height=frame.height,
                      fps=round(float(rate), 2) if rate else None, jpeg=jpeg.tobytes())


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def is_jpeg(path: Path) -> bool:
    """Whether a file starts like a JPEG (a thumbnail or live snapshot worth showing)."""
    try:
        with open(path, "rb") as f:
            return f.read(2) == b"\xff\xd8"
    except OSError:
        return False
