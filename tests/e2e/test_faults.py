"""Faults of the camera side survived by `onestop run`: server restarts and a stalled stream; a real RTSP server and
real processes. Each test prints what it observed. Garbage bytes are in test_faults_garbage.py, the storage and
process faults in test_faults_storage.py and test_faults_disk.py (apart, so that the test processes share the
long waits).
"""

from __future__ import annotations

import time

import pytest

from faultkit import RESTARTS, STALL_TARGET_S, onestop, site_config, state  # noqa: F401 - onestop is a fixture

pytestmark = [pytest.mark.slow, pytest.mark.rtsp]


def test_camera_server_restarted_20_times(onestop, rtsp_server):
    server = rtsp_server(loop=True)
    app = onestop(site_config({"cam": server.url("/sub")}))
    app.wait("cam online", lambda: state(app, "cam") == "online", 60)
    times = []
    for i in range(1, RESTARTS + 1):
        server.stop()
        app.wait(f"outage {i} noticed", lambda: state(app, "cam") != "online", 20)
        time.sleep(1.0)
        server.start()
        back = time.monotonic()
        app.wait(f"recovery {i}", lambda: (app.camera("cam").get("reconnects") or 0) >= i
                 and state(app, "cam") == "online", 60)
        times.append(time.monotonic() - back)
    reconnects = app.camera("cam")["reconnects"]
    print(f"\nserver restarts: {RESTARTS}/{RESTARTS} recoveries (reconnects column {reconnects}), "
          f"recovery after restart mean {sum(times) / len(times):.1f} s, max {max(times):.1f} s")
    assert reconnects == RESTARTS
    assert "worker exited" not in app.log.read_text()


def test_stalled_stream_is_detected_within_10_s(onestop, rtsp_server):
    server = rtsp_server(loop=True)
    app = onestop(site_config({"cam": server.url("/sub")}))
    app.wait("cam online", lambda: state(app, "cam") == "online", 60)
    time.sleep(2)
    server.freeze()
    frozen = time.monotonic()
    try:
        app.wait("the stall noticed", lambda: state(app, "cam") != "online", 30)
        detected = time.monotonic() - frozen
        error = app.camera("cam").get("error")
    finally:
        server.thaw()
    app.wait("cam online after the thaw", lambda: state(app, "cam") == "online", 60)
    print(f"\nstalled stream: detected after {detected:.1f} s (error {error!r}); online again "
          f"{time.monotonic() - frozen - detected:.1f} s later")
    assert detected <= STALL_TARGET_S + 0.5  # + one poll of the database
    assert error  # the reason is shown with the state
