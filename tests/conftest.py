"""Shared fixtures: test videos, real RTSP servers (GStreamer, system python), built sites copied per
test, an empty database and logged-in test clients. Plain helpers (ports, system-package checks, the
RTSP server process) are in support.py."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from media import MotionWindow, VideoSpec, make_video
from monitor.db.store import open_db
from support import RtspServer, require_rtsp_server
from webtest import copy_site, log_in


VIDEO_SECONDS = 60
MOTION = (MotionWindow(12, 16), MotionWindow(36, 40))


@dataclass(frozen=True)
class VideoSet:
    main: Path  # 1280x720
    sub: Path  # 640x360, same motion timeline
    seconds: float
    motion: tuple[MotionWindow, ...]


@pytest.fixture(scope="session")
def test_videos(tmp_path_factory: pytest.TempPathFactory) -> VideoSet:
    """Main and sub MP4s (60 s, 25 fps, keyframe every second, motion 12-16 s and 36-40 s), made once for
    the whole run: the test processes of `pytest -n` share them (the first makes them, under a lock, ~14 s
    of CPU; the others wait and read them)."""
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "videos"
    folder.mkdir(exist_ok=True)
    main, sub = folder / "main.mp4", folder / "sub.mp4"
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "done").is_file():
            make_video(main, VideoSpec(VIDEO_SECONDS, 1280, 720, motion=MOTION))
            make_video(sub, VideoSpec(VIDEO_SECONDS, 640, 360, motion=MOTION))
            (folder / "done").touch()
    return VideoSet(main, sub, VIDEO_SECONDS, MOTION)


@pytest.fixture
def rtsp_server(test_videos: VideoSet):
    """Factory: rtsp_server(mounts=None, loop=False) -> started RtspServer; all stopped at teardown.

    Default mounts: /main (1280x720) and /sub (640x360) from test_videos."""
    require_rtsp_server()
    servers: list[RtspServer] = []

    def factory(mounts: dict[str, Path] | None = None, loop: bool = False, start: bool = True) -> RtspServer:
        server = RtspServer(mounts or {"/main": test_videos.main, "/sub": test_videos.sub}, loop=loop)
        servers.append(server)
        return server.start() if start else server

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def _built_sites() -> dict[tuple[Any, ...], Path]:
    """(builder, args) -> the folder it filled, for the whole test session (one per xdist worker)."""
    return {}


@pytest.fixture
def make_site(_built_sites: dict[tuple[Any, ...], Path], tmp_path_factory: pytest.TempPathFactory,
              tmp_path: Path) -> Callable[..., Path]:
    """Factory: make_site(build, *args) -> this test's own copy of the site folder build(folder, *args) fills.

    Each (build, args) runs once per session, since a site holds accounts and hashing their passwords
    is slow on purpose; the test gets a copy in tmp_path, so its writes stay its own.
    """

    def make(build: Callable[..., Any], *args: Any) -> Path:
        key = (build, *args)
        if key not in _built_sites:
            folder = tmp_path_factory.mktemp(build.__name__.strip("_"))
            build(folder, *args)
            _built_sites[key] = folder
        return copy_site(_built_sites[key], tmp_path)

    return make


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Any]:
    """An empty database with every migration applied (sqlite_utils.Database), closed after the test."""
    database = open_db(tmp_path / "onestop.db")
    yield database
    database.conn.close()


@pytest.fixture
def client_as(app: Any) -> Callable[[str | None], Any]:
    """Factory: a Flask test client of the module's `app`, logged in with the role's account (None: anonymous)."""

    def make(role: str | None) -> Any:
        client = app.test_client()
        if role is not None:
            log_in(client, role)
        return client

    return make


@pytest.fixture
def client(client_as: Callable[[str | None], Any]) -> Any:
    """A test client of the module's `app` logged in as a supervisor."""
    return client_as("supervisor")
