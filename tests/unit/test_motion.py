"""MotionDetector and polygon_mask on real synthetic frames: textured scene, sensor noise, lighting."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from monitor.detect.motion import MotionDetector, MotionParams, MotionResult, polygon_mask

H, W = 180, 320
SHAPE = (H, W)


def scene(seed: int = 3) -> np.ndarray:
    """A still textured office-like scene (float32 grey, values within 30..210)."""
    rng = np.random.default_rng(seed)
    img = np.full(SHAPE, 90.0, np.float32)
    for _ in range(16):
        x0, y0 = rng.integers(0, W - 40), rng.integers(0, H - 30)
        img[y0 : y0 + rng.integers(10, 60), x0 : x0 + rng.integers(10, 90)] = rng.integers(40, 200)
    img += rng.normal(0.0, 6.0, SHAPE).astype(np.float32)  # fixed texture, not noise
    return np.clip(img, 30, 210)


class Camera:
    """Renders frames of the scene with per-frame sensor noise, an optional block and lighting."""

    def __init__(self, noise: float = 3.0, seed: int = 5) -> None:
        self.base = scene()
        self.noise = noise
        self.rng = np.random.default_rng(seed)

    def frame(
        self,
        block: tuple[int, int, int] | None = None,  # (x, y, size)
        value: float = 240.0,
        light: Callable[[np.ndarray], np.ndarray] = lambda img: img,
    ) -> np.ndarray:
        img = self.base.copy()
        if block is not None:
            x, y, size = block
            img[y : y + size, x : x + size] = value
        img = light(img)
        if self.noise:
            img = img + self.rng.normal(0.0, self.noise, SHAPE).astype(np.float32)
        return np.clip(img, 0, 255).astype(np.uint8)


def settle(detector: MotionDetector, camera: Camera, n: int = 20) -> None:
    for _ in range(n):
        result = detector.update(camera.frame())
        assert not result.motion and not result.lighting


@pytest.mark.parametrize("noise", [0.0, 3.0, 6.0])
def test_still_noisy_scene_never_moves(noise: float) -> None:
    camera = Camera(noise=noise)
    detector = MotionDetector(SHAPE)
    results = [detector.update(camera.frame()) for _ in range(100)]
    assert not any(r.motion or r.lighting for r in results)
    assert max(r.score for r in results) < MotionParams().min_area


def test_first_frame_seeds_background() -> None:
    camera = Camera()
    detector = MotionDetector(SHAPE)
    assert detector.update(camera.frame(block=(100, 60, 40))) == MotionResult(0.0, False, False)


@pytest.mark.parametrize(("value", "size"), [(240.0, 30), (15.0, 30), (240.0, 60)])
def test_moving_block_is_motion(value: float, size: int) -> None:
    camera = Camera()
    detector = MotionDetector(SHAPE)
    settle(detector, camera)
    for x in range(0, W - size, 8):
        result = detector.update(camera.frame(block=(x, 70, size), value=value))
        assert result.motion and not result.lighting, (x, result)
        assert result.score == pytest.approx(size * size / (H * W), rel=0.5)
    # the change map covers the block at its last position
    changed = detector.changed
    assert changed[70 + size // 2, x + size // 2] == 255
    assert changed[10, 10] == 0


def brighten(delta: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda img: img + delta


def gain(factor: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda img: img * factor


@pytest.mark.parametrize(
    "light",
    [
        pytest.param(brighten(40), id="+40"),
        pytest.param(brighten(-40), id="-40"),
        pytest.param(gain(1.2), id="gain-1.2"),
        pytest.param(gain(0.8), id="gain-0.8"),
    ],
)
def test_global_lighting_step_is_not_motion(light: Callable[[np.ndarray], np.ndarray]) -> None:
    camera = Camera()
    detector = MotionDetector(SHAPE)
    settle(detector, camera)
    step = detector.update(camera.frame(light=light))
    assert step.lighting and not step.motion
    after = [detector.update(camera.frame(light=light)) for _ in range(30)]
    assert not any(r.motion or r.lighting for r in after)
    # and the detector still sees a block under the new lighting
    moving = detector.update(camera.frame(block=(150, 70, 30), light=light))
    assert moving.motion and not moving.lighting


def lamp(img: np.ndarray) -> np.ndarray:
    """A bank of lamps over 70% of the room: no global gain/offset explains it."""
    out = img.copy()
    out[:, : int(W * 0.7)] += 60
    return out


def other_scene(img: np.ndarray) -> np.ndarray:
    """The view changes wholesale (IR cut filter, camera knocked): nearly every pixel changes."""
    return 255 - img


@pytest.mark.parametrize("light", [lamp, other_scene])
def test_uneven_lighting_change_reseeds(light: Callable[[np.ndarray], np.ndarray]) -> None:
    camera = Camera()
    detector = MotionDetector(SHAPE)
    settle(detector, camera)
    step = detector.update(camera.frame(light=light))
    assert step.lighting and not step.motion
    after = [detector.update(camera.frame(light=light)) for _ in range(10)]
    assert not any(r.motion or r.lighting for r in after)


@pytest.mark.parametrize(
    ("block", "masked", "expected"),
    [
        pytest.param((50, 40, 30), True, False, id="inside-mask"),
        pytest.param((50, 40, 30), False, True, id="no-mask"),
        pytest.param((220, 100, 30), True, True, id="outside-mask"),
    ],
)
def test_mask_hides_motion(block: tuple[int, int, int], masked: bool, expected: bool) -> None:
    mask = polygon_mask(SHAPE, [[(0.1, 0.1), (0.5, 0.1), (0.5, 0.5), (0.1, 0.5)]]) if masked else None
    camera = Camera()
    detector = MotionDetector(SHAPE, mask=mask)
    settle(detector, camera)
    x, y, size = block
    results = [detector.update(camera.frame(block=(x + 2 * i, y, size))) for i in range(8)]
    assert all(r.motion == expected for r in results)
    assert not any(r.lighting for r in results)


@pytest.mark.parametrize(
    ("size", "min_area", "expected"),
    [
        pytest.param(10, 0.003, False, id="10px-below-default"),  # 100 px < 0.3% of 57600 = 173 px
        pytest.param(10, 0.001, True, id="10px-above-lower-min-area"),
        pytest.param(16, 0.003, True, id="16px-above-default"),
    ],
)
def test_min_area(size: int, min_area: float, expected: bool) -> None:
    camera = Camera()
    detector = MotionDetector(SHAPE, MotionParams(min_area=min_area))
    settle(detector, camera)
    results = [detector.update(camera.frame(block=(100 + 6 * i, 80, size))) for i in range(10)]
    assert all(r.motion == expected for r in results)


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        pytest.param(np.zeros((90, 160), bool), "shape", id="wrong-shape"),
        pytest.param(np.zeros(SHAPE, np.uint8), "bool", id="wrong-dtype"),
        pytest.param(np.ones(SHAPE, bool), "every pixel", id="all-masked"),
    ],
)
def test_bad_mask_raises(mask: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MotionDetector(SHAPE, mask=mask)


@pytest.mark.parametrize(
    "params",
    [
        MotionParams(blur=4),
        MotionParams(pixel_threshold=0),
        MotionParams(lighting_guard=0.001),
        MotionParams(background_alpha=0),
    ],
)
def test_bad_params_raise(params: MotionParams) -> None:
    with pytest.raises(ValueError):
        MotionDetector(SHAPE, params)


@pytest.mark.parametrize(
    "frame",
    [np.zeros((90, 160), np.uint8), np.zeros(SHAPE, np.float32), np.zeros((H, W, 3), np.uint8)],
)
def test_bad_frame_raises(frame: np.ndarray) -> None:
    with pytest.raises(ValueError, match="expected"):
        MotionDetector(SHAPE).update(frame)


@pytest.mark.parametrize("blur", [0, 1, 5])
def test_blur_settings_work(blur: int) -> None:
    camera = Camera(noise=2.0)
    detector = MotionDetector(SHAPE, MotionParams(blur=blur))
    settle(detector, camera)
    assert detector.update(camera.frame(block=(100, 60, 30))).motion


def test_changed_is_read_only() -> None:
    detector = MotionDetector(SHAPE)
    with pytest.raises(ValueError):
        detector.changed[0, 0] = 1


SQUARE = [(0.25, 0.25), (0.75, 0.25), (0.75, 0.75), (0.25, 0.75)]


@pytest.mark.parametrize(
    ("shape", "polygons", "inside"),
    [
        pytest.param((100, 200), [SQUARE], np.s_[25:75, 50:150], id="square"),
        pytest.param((100, 200), [SQUARE[::-1]], np.s_[25:75, 50:150], id="other-winding"),
        pytest.param((10, 10), [[(0, 0), (1, 0), (1, 1), (0, 1)]], np.s_[:, :], id="whole-frame"),
        pytest.param((10, 10), [[(-1, -1), (2, -1), (2, 0.5), (-1, 0.5)]], np.s_[:5, :], id="clipped-top-half"),
        pytest.param((10, 10), [SQUARE, SQUARE], np.s_[2:7, 2:7], id="overlap-is-a-union"),
    ],
)
def test_polygon_mask_rectangles(shape: tuple[int, int], polygons: list, inside: tuple[slice, slice]) -> None:
    expected = np.zeros(shape, bool)
    expected[inside] = True
    mask = polygon_mask(shape, polygons)
    assert mask.dtype == np.bool_ and mask.shape == shape
    np.testing.assert_array_equal(mask, expected)


def test_polygon_mask_union_and_triangle() -> None:
    square = [(0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (0.0, 0.5)]
    triangle = [(0.5, 0.5), (1.0, 1.0), (0.5, 1.0)]  # lower-left half of the bottom-right quarter
    mask = polygon_mask((100, 100), [square, triangle])
    assert mask[:50, :50].all() and not mask[:50, 50:].any()
    quarter = mask[50:, 50:]
    assert quarter[40, 5] and not quarter[5, 40]
    assert quarter.sum() == pytest.approx(50 * 50 / 2, rel=0.05)
    assert not polygon_mask((100, 100), []).any()


@pytest.mark.parametrize(
    "polygon",
    [[(0.0, 0.0), (1.0, 1.0)], [(0.0, 0.0), (1.0, float("nan")), (0.0, 1.0)], [(0.0, 0.0, 0.0)] * 3],
)
def test_polygon_mask_bad_polygon_raises(polygon: list) -> None:
    with pytest.raises(ValueError):
        polygon_mask((10, 10), [polygon])
