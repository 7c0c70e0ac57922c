"""Privacy masks: the pixels inside a polygon are blurred, the ones outside are untouched, in a frame, a
live JPEG and a re-encoded clip; the config field refuses bad polygons with one line naming the field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from media import VideoSpec, make_video
from monitor.camera.privacy import JPEG_QUALITY, PrivacyMask, apply_yuv420, mask_clip, mask_jpeg
from monitor.site.config import ConfigError, load_config

SQUARE = [(0.25, 0.25), (0.75, 0.25), (0.75, 0.75), (0.25, 0.75)]


def checkerboard(h: int = 240, w: int = 320, cell: int = 4) -> np.ndarray:
    """Fine detail everywhere: a blur shows as a collapse of the local contrast."""
    yy, xx = np.mgrid[0:h, 0:w]
    board = (((yy // cell) + (xx // cell)) % 2 * 255).astype(np.uint8)
    return np.dstack([board, board, 255 - board])


def contrast(img: np.ndarray) -> float:
    return float(img.astype(np.float64).std())


def sharpness_gray(img: np.ndarray) -> float:
    """Mean absolute Laplacian of a grey picture: the fine detail (edges) a blur removes."""
    return float(np.abs(cv2.Laplacian(img, cv2.CV_64F)).mean())


def test_inside_is_blurred_and_outside_is_unchanged():
    frame = checkerboard()
    mask = PrivacyMask([SQUARE])
    out = mask.apply(frame)
    inside = mask.pixels(320, 240)
    assert inside.sum() == pytest.approx(0.25 * 320 * 240, rel=0.03)
    assert np.array_equal(out[~inside], frame[~inside])
    core = out[80:160, 100:220]  # well inside the square
    assert contrast(core) < 0.05 * contrast(frame[80:160, 100:220])
    assert np.array_equal(frame, checkerboard())  # the input frame is not written to


def test_no_polygons_change_nothing():
    frame = checkerboard()
    assert PrivacyMask([]).apply(frame) is frame and not PrivacyMask([])


@pytest.mark.parametrize("poly", [[(0.1, 0.1), (0.2, 0.2)], [(0.1, 0.1), (1.2, 0.1), (0.5, 0.5)]])
def test_bad_polygons_are_refused(poly):
    with pytest.raises(ValueError, match=r"privacy_masks\[0\]"):
        PrivacyMask([poly])


def test_a_live_jpeg_is_masked():
    frame = checkerboard()
    ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 95])
    masked = cv2.imdecode(np.frombuffer(mask_jpeg(buf.tobytes(), PrivacyMask([SQUARE])), np.uint8), cv2.IMREAD_COLOR)
    plain = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    assert contrast(masked[80:160, 100:220]) < 0.1 * contrast(plain[80:160, 100:220])
    # outside: exactly what re-encoding the plain picture gives, away from the 16-px JPEG blocks the mask touches
    ok, again = cv2.imencode(".jpg", plain, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    expected = cv2.imdecode(again, cv2.IMREAD_COLOR)
    assert np.array_equal(masked[:40], expected[:40]) and np.array_equal(masked[:, :64], expected[:, :64])
    assert mask_jpeg(b"not a jpeg", PrivacyMask([SQUARE])) is None


def test_a_clip_is_re_encoded_with_the_mask(tmp_path: Path):
    src = make_video(tmp_path / "in.mp4", VideoSpec(2, 320, 240))
    dst = tmp_path / "out.mp4"
    mask = PrivacyMask([SQUARE])
    assert mask_clip(src, dst, mask) == 50
    with av.open(str(src)) as a, av.open(str(dst)) as b:
        before = next(a.decode(video=0)).to_ndarray(format="yuv420p").astype(int)
        after = next(b.decode(video=0)).to_ndarray(format="yuv420p").astype(int)
        assert b.streams.video[0].frames == 50 and float(b.duration / av.time_base) == pytest.approx(2.0, abs=0.1)
    y_before, y_after = before[:240].astype(np.uint8), after[:240].astype(np.uint8)
    core = (slice(90, 150), slice(110, 210))
    assert sharpness_gray(y_before[core]) > 1.0
    assert sharpness_gray(y_after[core]) < 0.4 * sharpness_gray(y_before[core])
    # inside, the clip shows the blurred picture (up to encoder loss), not the original
    want = apply_yuv420(before.astype(np.uint8), mask)[:240].astype(int)
    assert np.abs(after[:240][core] - want[core]).mean() < 0.3 * np.abs(before[:240][core] - want[core]).mean()
    # outside: only the encoder's loss (CRF 20), and no colour shift
    assert np.abs(after[:50] - before[:50]).mean() < 2 and abs((after[:50] - before[:50]).mean()) < 0.5


def _config(tmp_path: Path, masks: str) -> Path:
    (tmp_path / "cameras.yaml").write_text(textwrap.dedent(f"""\
        site: {{name: t}}
        cameras:
          - id: cam
            name: Cam
            streams: {{main: a.mp4}}
            privacy_masks: {masks}
        """), encoding="utf-8")
    return tmp_path / "cameras.yaml"


def test_the_config_field_is_read_and_checked(tmp_path: Path):
    assert load_config(_config(tmp_path, "[[[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]]")).camera("cam").privacy_masks == [
        [(0.1, 0.1), (0.5, 0.1), (0.5, 0.5)]]
    with pytest.raises(ConfigError) as err:
        load_config(_config(tmp_path, "[[[0.1, 0.1], [1.5, 0.1], [0.5, 0.5]]]"))
    lines = str(err.value).splitlines()
    assert len(lines) == 1 and "cameras.yaml:6" in lines[0] and "privacy_masks" in lines[0] and "between 0 and 1" in lines[0]
