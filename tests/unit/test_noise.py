"""monitor.detect.noise: a noisy picture's running mean, for the seated people in it."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.detect.noise import NoisyMean

RNG = np.random.default_rng(3)
SCENE = RNG.integers(30, 220, (90, 160, 3)).astype(np.float32)  # a still, textured picture


def _frames(n: int, sigma: float, step_at: int | None = None, moving: bool = False):  # noqa: ANN202 - generator
    """(grey, motion, rgb) of n frames of SCENE with temporal noise sigma; a light step of +40 from
    step_at on; with moving, the left half changes wholly every frame (and the change map says so)."""
    rng = np.random.default_rng(11)
    for k in range(n):
        rgb = SCENE + rng.normal(0, sigma, SCENE.shape) if sigma else SCENE.copy()
        if step_at is not None and k >= step_at:
            rgb += 40
        motion = np.zeros((90, 160), np.uint8)
        if moving:
            rgb[:, :80] = rng.integers(0, 255, (90, 80, 3))
            motion[:, :80] = 255
        rgb = np.clip(rgb, 0, 255).astype(np.uint8)
        yield rgb.mean(axis=2).astype(np.uint8), motion, rgb


def _run(mean: NoisyMean, frames) -> None:  # noqa: ANN001
    for grey, motion, rgb in frames:
        mean.add(grey, motion, lambda rgb=rgb: rgb)


def test_a_noisy_picture_is_averaged() -> None:
    mean = NoisyMean(0.8, 0.2)
    _run(mean, _frames(150, sigma=12))
    assert mean.noise is not None and mean.noise >= 0.8
    crop = mean.crop(10, 20, 90, 70)
    assert crop is not None and crop.shape == (50, 80, 3) and crop.dtype == np.uint8
    one = next(_frames(1, sigma=12))[2][20:70, 10:90]
    truth = SCENE[20:70, 10:90]
    # the mean of the last frames is far nearer the picture than one frame is
    assert np.abs(crop - truth).mean() < 0.5 * np.abs(one - truth).mean()


@pytest.mark.parametrize(("sigma", "step_at", "moving"), [(0.0, None, False), (0.6, None, False), (0.6, 40, False),
                                                          (0.6, None, True)],
                         ids=["still", "faint-noise", "a-light-step", "people-moving"])
def test_a_clean_picture_is_left_as_it_is(sigma: float, step_at: int | None, moving: bool) -> None:
    mean = NoisyMean(0.8, 0.2)
    _run(mean, _frames(150, sigma, step_at, moving))
    assert mean.noise is not None and mean.noise < 0.8
    assert mean.crop(0, 0, 10, 10) is None


def test_the_mean_goes_when_the_noise_does() -> None:
    mean = NoisyMean(0.8, 0.2)
    frames = list(_frames(150, sigma=12)) + list(_frames(400, sigma=0.0))
    _run(mean, frames)
    assert mean.crop(0, 0, 10, 10) is None


@pytest.mark.parametrize(("level", "alpha"), [(0.0, 0.2), (0.8, 0.0), (0.8, 1.5)])
def test_bad_settings(level: float, alpha: float) -> None:
    with pytest.raises(ValueError, match="level"):
        NoisyMean(level, alpha)
