"""The CPU levers of the worker: occupancy on a 5 fps grid at higher detect rates; decoding for detection."""

from __future__ import annotations

import textwrap

import av
import numpy as np
import pytest

from media import VideoSpec, make_video
from monitor.site.config import load_config
from monitor.camera.sources import grey_small, tune_decoder
from monitor.camera.worker import CameraWorker

T0 = 1_790_000_000.0


def _worker(tmp_path, detect_fps: float) -> CameraWorker:
    (tmp_path / "cameras.yaml").write_text(textwrap.dedent(f"""\
        site: {{name: t}}
        defaults: {{detect_fps: {detect_fps}}}
        cameras:
          - {{id: cam, name: Cam, streams: {{main: main.mp4}}}}
        """), encoding="utf-8")
    config = load_config(tmp_path / "cameras.yaml")
    return CameraWorker(config, config.cameras[0], lambda m: None)


@pytest.mark.parametrize(
    ("detect_fps", "times", "picked"),
    [
        # 10 fps: every other frame, riding out arrival jitter (0.39 instead of 0.4)
        (10, [0, 0.1, 0.2, 0.31, 0.39, 0.5, 0.6, 0.7, 0.8], [0, 0.2, 0.39, 0.6, 0.8]),
        # after a gap in the frames the grid restarts from the first frame back
        (10, [0, 0.1, 0.2, 3.0, 3.1, 3.2, 3.3], [0, 0.2, 3.0, 3.2]),
        # at or below 5 fps every detect frame is analysed
        (5, [0, 0.2, 0.4, 0.6], [0, 0.2, 0.4, 0.6]),
        (2, [0, 0.5, 1.0], [0, 0.5, 1.0]),
    ],
)
def test_occupancy_runs_on_a_5_fps_grid(tmp_path, detect_fps, times, picked):
    worker = _worker(tmp_path, detect_fps)
    assert [t for t in times if worker.occupancy_frame(T0 + t)] == picked


def test_tuned_decoder_gives_every_frame_and_a_close_grey_image(tmp_path):
    video = make_video(tmp_path / "v.mp4", VideoSpec(2.0, 320, 180, fps=10, gop=10))

    def greys(tune: bool) -> list[np.ndarray]:
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            if tune:
                tune_decoder(stream)
                ctx = stream.codec_context
                assert ctx.options.get("skip_loop_filter") == "all" and ctx.thread_count == 1
            return [grey_small(f, 160).astype(np.int16) for f in container.decode(stream)]

    plain, tuned = greys(False), greys(True)
    assert len(tuned) == len(plain) == 20
    # no deblocking: block edges differ by a few grey levels, the picture does not
    assert max(float(np.abs(a - b).mean()) for a, b in zip(plain, tuned)) < 3.0
