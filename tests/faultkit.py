"""What the fault tests share: the site they run, the `onestop` fixture and small checks (tests/e2e/test_faults*.py,
test_stop.py, test_camera_kinds.py)."""

from __future__ import annotations

import os
import random
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from support import free_port, require, require_ffprobe
from harness import Onestop, ffprobe


RESTARTS = 20
ZONE = "{id: seat, kind: staff_seat, points: [[0.1, 0.2], [0.4, 0.2], [0.4, 0.6], [0.1, 0.6]]}"
STALL_TARGET_S = 10.0  # a frozen camera must show as not online within this
WORKER_RESTART_TARGET_S = 5.0
LOCK_HELD_S = 15.0  # longer than the writer's 10 s busy timeout: the retry loop must keep the messages
DISK_MB = 64  # the small filesystem for the disk-full test
PAUSE_FREE_MB = 16  # retention.pause_free_mb in that test


def site_config(cameras: dict[str, str], *, sub: dict[str, str] | None = None, retention: str = "",
                zones: bool = False, storage: str = "{recordings: recordings, database: onestop.db}") -> str:
    """A cameras.yaml for the given camera ids -> main URLs (and optional sub URLs)."""
    lines = ['site: {name: "faults"}', f"storage: {storage}",
             "defaults: {pre_roll_s: 3, post_roll_s: 3, events: {min_length_s: 1, merge_gap_s: 2}}"]
    if retention:
        lines.append(f"retention: {retention}")
    lines.append("cameras:")
    for cam, url in cameras.items():
        streams = f'main: "{url}"' + (f', sub: "{sub[cam]}"' if sub and cam in sub else "")
        lines += [f"  - id: {cam}", f'    name: "{cam}"', f"    streams: {{{streams}}}"]
        if zones:
            lines.append(f"    zones: [{ZONE}]")
    return "\n".join(lines) + "\n"


@pytest.fixture
def onestop(tmp_path):
    """Factory: onestop(config_text, folder=tmp_path) -> a started Onestop; all killed at teardown."""
    apps: list[Onestop] = []

    def factory(config: str, folder: Path | None = None) -> Onestop:
        app = Onestop(folder or tmp_path, config, free_port())
        app.start()
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.close()


def state(app: Onestop, cam: str) -> str | None:
    return app.camera(cam).get("state")


def alive(pid: int) -> bool:
    """True while the process runs (a zombie left for init to reap counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute("pragma integrity_check").fetchone()[0]
    finally:
        conn.close()

