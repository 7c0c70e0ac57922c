"""A real worker behind a real RTSP camera: its heartbeats carry the stats, and a slow worker drops frames
to keep its lag bounded (the stats themselves are unit-tested in tests/unit/test_stats.py)."""

from __future__ import annotations

import textwrap
import time

import pytest

from harness import WorkerThread
from monitor.camera.sources import SourceFrame
from monitor.camera.stats import DROP_LAG_S
from monitor.camera.worker import CameraWorker
from monitor.messages import Heartbeat
from monitor.site.config import load_config

pytestmark = [pytest.mark.rtsp]

HEARTBEAT_KEYS = {"input_fps", "sub_fps", "detect_fps", "dropped", "lag_s", "last_frame_age_s", "bitrate_bps",
                  "cpu_pct", "rss_bytes", "height_factor", "height_corrected", "height_markers"}


class SlowWorker(CameraWorker):
    """A worker whose analysis takes longer than the frame interval (an overloaded machine)."""

    ANALYSIS_S = 0.4

    def on_frame(self, item: SourceFrame) -> None:
        time.sleep(self.ANALYSIS_S)
        super().on_frame(item)


def test_worker_heartbeat_stats_from_a_real_rtsp_camera(rtsp_server, tmp_path):
    """Heartbeats carry the stats; a worker 4x slower than the stream drops frames and keeps its lag bounded."""
    server = rtsp_server(loop=True)
    (tmp_path / "cameras.yaml").write_text(textwrap.dedent(f"""\
        site: {{name: t}}
        defaults: {{detect_fps: 10}}
        cameras:
          - id: cam
            name: Cam
            streams: {{main: "{server.url('/main')}", sub: "{server.url('/sub')}"}}
        """), encoding="utf-8")
    config = load_config(tmp_path / "cameras.yaml")
    run = WorkerThread(SlowWorker, config, config.cameras[0])
    deadline = time.monotonic() + 40
    try:
        while time.monotonic() < deadline:
            beats = [m.stats for m in run.messages() if isinstance(m, Heartbeat)]
            if beats and beats[-1]["dropped"] >= 10 and beats[-1]["input_fps"]:
                break
            time.sleep(0.5)
    finally:
        run.stop(30)
    assert beats, "no heartbeat"
    last = beats[-1]
    assert set(last) == HEARTBEAT_KEYS
    assert last["height_factor"] is None and last["height_corrected"] is False  # no staff seat: nothing to check by
    assert last["height_markers"] == {}  # no zone, no marker
    assert last["dropped"] >= 10, last
    assert last["input_fps"] > 0 and last["sub_fps"] > 0 and last["detect_fps"] > 0
    assert last["bitrate_bps"] > 0 and last["rss_bytes"] > 0 and last["cpu_pct"] is not None
    # without dropping, the lag would grow by ~0.3 s per analysed frame for the whole run
    assert max(b["lag_s"] for b in beats) < DROP_LAG_S + 2 * SlowWorker.ANALYSIS_S + 1.0
