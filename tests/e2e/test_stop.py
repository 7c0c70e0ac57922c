"""`onestop run` stops cleanly whoever sends the signal: real processes, a real RTSP server, real signals.

Each case starts `onestop run` in its own session (as systemd or `setsid` would), waits for a clip
being recorded, signals the supervisor alone or its whole process group, and checks the exit time,
the exit code, the clips (no '.part', ffprobe reads them) and the database (integrity_check).
Run with -s to see the measured stop times.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from support import free_port, require_ffprobe
from harness import Onestop, ffprobe
from media import MotionWindow, VideoSpec, make_video
from monitor.camera.worker import STOP_READ_WAIT_S
from faultkit import integrity, site_config

pytestmark = [pytest.mark.slow, pytest.mark.rtsp]

STOP_LIMIT_S = 10.0  # issue 11: any stop signal ends `onestop run` within this
# the forced stop: the second signal comes while the workers still wait for their stalled readers
SECOND_SIGNAL_AFTER_S = STOP_READ_WAIT_S / 2
# the readers first use up what the sockets still hold; well inside the 8 s stall watchdog
STALL_BEFORE_S = 3.0


@pytest.fixture(scope="module")
def moving_video(tmp_path_factory) -> Path:
    """30 s of 640x360 with motion from the first second: a clip is recording a few seconds after start."""
    folder = tmp_path_factory.mktemp("stop-video")
    return make_video(folder / "moving.mp4", VideoSpec(30, motion=(MotionWindow(1, 29),)))


@pytest.fixture
def recording(tmp_path, rtsp_server, moving_video):
    """A started `onestop run` (two cameras) with a clip being recorded on each, and its RTSP server."""
    require_ffprobe()
    server = rtsp_server({"/main": moving_video, "/sub": moving_video}, loop=True)
    cams = {"cam-a": server.url("/main"), "cam-b": server.url("/main")}
    app = Onestop(tmp_path, site_config(cams, sub={c: server.url("/sub") for c in cams}), free_port())
    app.start()
    try:
        app.wait("a clip recording on both cameras", lambda: len(app.rows(
            "select id from events where clip_state = 'recording'")) >= 2, 90)
        time.sleep(2)  # a few fragments into each clip
        yield app, server
    finally:
        app.close()


def send(app: Onestop, sig: signal.Signals, target: str) -> None:
    """The signal to the supervisor alone, or to its whole process group (systemd, docker, kill -- -PGID)."""
    assert app.proc is not None
    if target == "group":
        os.killpg(app.proc.pid, sig)
    else:
        app.proc.send_signal(sig)


def wait_exit(app: Onestop, since: float) -> tuple[int, float]:
    """(exit code, seconds since `since`); fails when the process outlives STOP_LIMIT_S."""
    assert app.proc is not None
    try:
        code = app.proc.wait(STOP_LIMIT_S - (time.monotonic() - since) + 0.5)
    except subprocess.TimeoutExpired:
        pytest.fail(f"onestop run still running {STOP_LIMIT_S:.0f} s after the signal\n{app.tail()}")
    return code, time.monotonic() - since


def group_left(app: Onestop, within_s: float = 3.0) -> list[str]:
    """Processes of the group still running within_s after the exit (the resource tracker leaves last)."""
    deadline = time.monotonic() + within_s
    while (left := _group(app)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def _group(app: Onestop) -> list[str]:
    """Processes now running in the process group (zombies left for init do not count)."""
    assert app.proc is not None
    left = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[2]) == app.proc.pid and fields[0] not in "ZX":
            left.append(text[: text.rindex(")") + 1])
    return left


def clips(folder: Path) -> tuple[list[Path], list[Path]]:
    recordings = folder / "recordings"
    return sorted(recordings.rglob("*.mp4")), sorted(recordings.rglob("*.part"))


@pytest.mark.parametrize("target", ["supervisor", "group"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_one_signal_stops_cleanly(recording, tmp_path, sig, target):
    app, _ = recording
    open_clips = [r["id"] for r in app.rows("select id from events where clip_state = 'recording'")]
    t0 = time.monotonic()
    send(app, sig, target)
    code, took = wait_exit(app, t0)
    mp4, parts = clips(tmp_path)
    rows = app.rows("select id, clip_state, clip_path from events")
    print(f"\nSIG{sig.name[3:]} to the {target}: onestop run exited {code} after {took:.2f} s; "
          f"{len(open_clips)} open clips -> {len(mp4)} .mp4, {len(parts)} .part")
    assert code == 0, app.tail()
    assert not parts and not group_left(app)
    assert integrity(app.db) == "ok"
    assert {r["id"]: r["clip_state"] for r in rows if r["id"] in open_clips} == dict.fromkeys(open_clips, "complete")
    for row in rows:
        if row["clip_state"] == "complete":
            codec, duration = ffprobe(tmp_path / "recordings" / row["clip_path"])
            assert codec == "h264" and duration > 0
    assert "Traceback" not in app.log.read_text(errors="replace")


def test_a_second_signal_forces_the_stop_and_the_next_start_recovers(recording, tmp_path):
    app, server = recording
    open_clips = {r["id"] for r in app.rows("select id from events where clip_state = 'recording'")}
    server.freeze()  # a stalled camera: the workers' reads block, so the first stop takes long
    time.sleep(STALL_BEFORE_S)
    try:
        t0 = time.monotonic()
        send(app, signal.SIGTERM, "group")
        time.sleep(SECOND_SIGNAL_AFTER_S)
        send(app, signal.SIGTERM, "group")
        code, took = wait_exit(app, t0)
    finally:
        server.thaw()
    _, parts = clips(tmp_path)
    status = integrity(app.db)
    log = app.log.read_text(errors="replace")
    assert code == 1 and "forcing the stop" in log, app.tail()
    assert status == "ok" and not group_left(app)
    # left for the next start (a reader still holding buffered packets may have finished its clip)
    assert parts and {p.name.removesuffix(".mp4.part") for p in parts} <= open_clips

    again = Onestop(tmp_path, app.cfg.read_text(encoding="utf-8"), free_port())
    again.start()
    try:
        again.wait("the start-up recovery", lambda: again.log.read_text().count("recovery: parts") == 2, 60)
        rows = again.rows("select id, clip_state, clip_path from events")
        t1 = time.monotonic()
        send(again, signal.SIGTERM, "group")
        again_code, again_took = wait_exit(again, t1)
    finally:
        again.close()
    recovered = {r["id"]: r for r in rows if r["id"] in open_clips}
    print(f"\nSIGTERM to the group twice ({SECOND_SIGNAL_AFTER_S:.2f} s apart, camera stalled): exited {code} after "
          f"{took:.2f} s, {len(parts)} clips left as .part, integrity_check {status}; next start recovered "
          f"{sum(r['clip_state'] == 'complete' for r in recovered.values())}/{len(open_clips)}; "
          f"its own stop {again_took:.2f} s (exit {again_code})")
    assert took < STOP_LIMIT_S / 2  # forced: no waiting for the stalled reads
    assert {r["clip_state"] for r in recovered.values()} == {"complete"}
    for row in recovered.values():
        codec, duration = ffprobe(tmp_path / "recordings" / row["clip_path"])
        assert codec == "h264" and duration > 0
    assert not clips(tmp_path)[1] and integrity(app.db) == "ok"


def test_a_stalled_camera_still_stops_cleanly_within_the_limit(recording, tmp_path):
    app, server = recording
    open_clips = {r["id"] for r in app.rows("select id from events where clip_state = 'recording'")}
    server.freeze()  # the readers block in a socket read that returns only after the 8 s read time-out
    time.sleep(STALL_BEFORE_S)
    try:
        t0 = time.monotonic()
        send(app, signal.SIGTERM, "supervisor")
        code, took = wait_exit(app, t0)
    finally:
        server.thaw()
    mp4, parts = clips(tmp_path)
    rows = {r["id"]: r for r in app.rows("select id, clip_state, clip_path from events")}
    print(f"\nSIGTERM to the supervisor, camera stalled: exited {code} after {took:.2f} s, "
          f"{len(mp4)} .mp4, {len(parts)} .part")
    assert code == 0 and not parts, app.tail()
    assert integrity(app.db) == "ok" and not group_left(app)
    for eid in open_clips:
        assert rows[eid]["clip_state"] == "complete"
        codec, duration = ffprobe(tmp_path / "recordings" / rows[eid]["clip_path"])
        assert codec == "h264" and duration > 0
