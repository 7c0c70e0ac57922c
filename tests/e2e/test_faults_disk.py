"""A full disk under `onestop run`: recording pauses before the disk is full and resumes once there is room,
with no clip or message lost. A real RTSP server, real processes, a real small disk. Kept apart from
test_faults_storage.py so that the test processes run them side by side.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from support import require
from faultkit import DISK_MB, PAUSE_FREE_MB, integrity, onestop, site_config  # noqa: F401 - onestop is a fixture

pytestmark = [pytest.mark.slow, pytest.mark.rtsp]


@pytest.fixture
def small_disk(tmp_path):
    """A DISK_MB tmpfs mounted at tmp_path/disk (root only); unmounted at teardown."""
    mount = tmp_path / "disk"
    mount.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}M", "tmpfs", str(mount)],
                       capture_output=True, text=True)
    require("a small tmpfs filesystem (mount as root)", r.returncode == 0,
            f"run the tests as root so `mount -t tmpfs` works ({r.stderr.strip()})")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(path: Path, leave_mb: float) -> None:
    """Write a ballast file leaving about leave_mb free on the filesystem."""
    st = os.statvfs(path.parent)
    size = max(0, st.f_bavail * st.f_frsize - int(leave_mb * 1024**2))
    with open(path, "wb") as f:
        f.truncate(0)
        chunk = b"\0" * (1024**2)
        while size > 0:
            try:
                f.write(chunk[: min(size, len(chunk))])
            except OSError:
                break
            size -= len(chunk)


def test_disk_full_pauses_recording_and_resumes(onestop, rtsp_server, small_disk, tmp_path):
    server = rtsp_server(loop=True)
    config = site_config({"cam": server.url("/main")}, sub={"cam": server.url("/sub")}, zones=True,
                         storage=f"{{recordings: {small_disk}/recordings, database: {small_disk}/onestop.db}}",
                         retention=f"{{min_free_gb: 0, pause_free_mb: {PAUSE_FREE_MB}}}")
    app = onestop(config, tmp_path)
    app.db = small_disk / "onestop.db"
    app.wait("a first clip", lambda: app.rows("select * from events where clip_state = 'complete'"), 90)
    ballast = small_disk / "ballast"
    fill(ballast, PAUSE_FREE_MB / 2)
    paused_at = time.time()
    app.wait("the disk-full alert", lambda: app.camera("cam").get("error") == "disk full: recording paused", 30)
    err = app.camera("cam")["error"]
    unrecorded = app.wait("an event while paused", lambda: app.rows(
        "select * from events where start > ? and clip_state = 'none'", (paused_at,)), 60)
    full = small_disk / "ballast2"
    fill(full, 0)  # now truly full: database writes fail with SQLITE_FULL and are retried
    time.sleep(8)
    full.unlink()
    ballast.unlink()
    resumed_at = time.time()
    app.wait("the alert cleared", lambda: not app.camera("cam").get("error"), 30)
    app.wait("a clip after space returned", lambda: app.rows(
        "select * from events where start > ? and clip_state = 'complete'", (resumed_at,)), 90)
    assert app.proc.poll() is None
    log = app.log.read_text(errors="replace")
    assert app.stop() == 0
    status = integrity(small_disk / "onestop.db")
    samples = sqlite3.connect(small_disk / "onestop.db").execute(
        "select count(*) from occupancy where t >= ? and t < ?", (int(paused_at), int(resumed_at))).fetchone()[0]
    print(f"\ndisk full: alert {err!r} within seconds; {len(unrecorded)} event(s) kept without a clip while paused; "
          f"{log.count('database unavailable')} writer stall(s) while full, {log.count('dropped')} messages dropped; "
          f"{samples} occupancy samples for the {resumed_at - paused_at:.0f} s paused window; recording resumed; "
          f"integrity_check {status}")
    assert status == "ok" and "dropped" not in log
    assert samples >= (resumed_at - paused_at) - 5
