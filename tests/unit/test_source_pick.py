"""StreamSource picks frames at detect_fps by the stream's timestamps, whenever they arrive."""

from fractions import Fraction
from types import SimpleNamespace

from monitor.camera.sources import StreamSource


def _stream(pts: list[int | None]) -> SimpleNamespace:
    frames = [SimpleNamespace(pts=p) for p in pts]
    codec = SimpleNamespace(decode=lambda packet: frames)
    return SimpleNamespace(codec_context=codec, time_base=Fraction(1, 90000), average_rate=Fraction(10), guessed_rate=None)


def _picked(src: StreamSource, pts: list[int | None], t: float) -> list[float | None]:
    return [f.pts_s for f in src._frames(_stream(pts), None, t, None)]  # type: ignore[arg-type]


def test_a_burst_of_queued_frames_is_thinned_by_timestamp() -> None:
    # a busy worker reads 0.6 s of a 10 fps stream at once: detect_fps=5 keeps every other frame
    src = StreamSource("rtsp://camera/sub", "cam/sub", packets=False, decode=True, detect_fps=5)
    assert _picked(src, [k * 9000 for k in range(6)], t=1000.0) == [0.0, 0.2, 0.4]
    assert _picked(src, [k * 9000 for k in range(6, 9)], t=1000.01) == [0.6, 0.8]


def test_frames_without_timestamps_go_by_arrival_and_a_reset_starts_again() -> None:
    src = StreamSource("rtsp://camera/sub", "cam/sub", packets=False, decode=True, detect_fps=5)
    assert _picked(src, [None, 9000], t=1000.0) == [None]  # the second one arrives with the first
    assert _picked(src, [18000], t=1000.2) == [0.2]
    assert _picked(src, [0], t=1000.3) == [0.0]  # the stream started again: timestamps went back


def test_a_camera_repeating_one_timestamp_is_thinned_by_arrival() -> None:
    src = StreamSource("rtsp://camera/sub", "cam/sub", packets=False, decode=True, detect_fps=5)
    picked = [p for k in range(10) for p in _picked(src, [9000], t=1000.0 + k / 10)]
    assert len(picked) == 5
