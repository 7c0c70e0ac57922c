"""Live reload of cameras.yaml: notice a change, diff the cameras, start/stop/restart only the affected workers."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.site.config import Camera, Config, ConfigError, load_config
from monitor.site.secrets import secrets_path

log = logging.getLogger(__name__)

POLL_S = 2.0  # an edit by hand shows up within two seconds; reading two small files costs microseconds
RETIRE_GRACE_S = 25.0  # a retired worker finishes its open clip; nothing else waits for it (unlike a stop)


@dataclass(frozen=True)
class CameraDiff:
    """What a new config means for the workers (camera ids, in file order)."""

    start: list[str] = field(default_factory=list)
    stop: list[str] = field(default_factory=list)
    restart: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.start or self.stop or self.restart)


def worker_view(camera: Camera, config: Config) -> str:
    """Everything a camera's worker reads from the config, as one string: equal strings need no restart."""
    try:
        urls = [camera.stream_url("main"), camera.stream_url("sub")]  # a new password restarts the worker
    except ConfigError:
        urls = [None, None]
    data = {
        "camera": camera.model_dump(mode="json", exclude={"name", "enabled", "detect"}),
        "settings": camera.settings(config.defaults).model_dump(mode="json"),
        "urls": urls,
        "site": config.site.model_dump(mode="json", exclude={"name", "language"}),
        "recordings": str(config.storage.recordings),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def diff_cameras(old: Config, new: Config) -> CameraDiff:
    """Cameras to start (new or enabled), stop (removed or disabled) and restart (their worker's view changed)."""
    before = {c.id: c for c in old.cameras if c.enabled}
    after = {c.id: c for c in new.cameras if c.enabled}
    return CameraDiff(
        start=[i for i in after if i not in before],
        stop=[i for i in before if i not in after],
        restart=[i for i in after if i in before and worker_view(before[i], old) != worker_view(after[i], new)],
    )


def fingerprint(config_path: Path) -> str:
    """A hash of cameras.yaml and its secrets file (a missing file hashes as empty)."""
    digest = hashlib.sha256()
    for path in (config_path, secrets_path(config_path)):
        try:
            digest.update(path.read_bytes())
        except OSError:
            pass
        digest.update(b"\0")
    return digest.hexdigest()


class ConfigWatcher:
    """Polls cameras.yaml; returns a newly loaded Config when it changed and is valid."""

    def __init__(self, path: Path, poll_s: float = POLL_S, on_error: Callable[[str], None] | None = None):
        self.path = Path(path)
        self.poll_s = poll_s
        self.on_error = on_error or _log_error
        self.seen = fingerprint(self.path)
        self.next_poll = 0.0
        self.nudged = threading.Event()

    def nudge(self) -> None:
        """Look at the file at the next check, not POLL_S later (the web app calls this after a save)."""
        self.nudged.set()

    def poll(self, now: float) -> Config | None:
        """The new Config if the files changed since the last look; None if unchanged or invalid (logged once)."""
        if now < self.next_poll and not self.nudged.is_set():
            return None
        self.nudged.clear()
        self.next_poll = now + self.poll_s
        current = fingerprint(self.path)
        if current == self.seen:
            return None
        self.seen = current
        try:
            return load_config(self.path)
        except ConfigError as err:
            more = f" (and {len(err.problems) - 1} more)" if len(err.problems) > 1 else ""
            self.on_error(f"config reload: {err.problems[0]}{more}; keeping the running configuration")
            return None


def _log_error(message: str) -> None:
    log.error("%s", message)


@dataclass
class _Retiring:
    camera: str
    process: Any
    deadline: float


class Reloader:
    """Applies cameras.yaml changes through callbacks: only the affected workers stop, start or restart.

    on_config(new) is called first with every valid new configuration; stop_worker(camera_id) asks a
    camera's worker to stop and returns its process (None if it had none), which the reloader waits
    for before start_worker(camera) starts the camera's replacement; on_error(message) gets the
    problem with a changed file that is not valid (the running configuration is kept).
    """

    def __init__(self, config: Config, *, on_config: Callable[[Config], None],
                 start_worker: Callable[[Camera], None], stop_worker: Callable[[str], Any],
                 on_error: Callable[[str], None] | None = None, poll_s: float = POLL_S):
        self.config = config
        self.on_config = on_config
        self.start_worker = start_worker
        self.stop_worker = stop_worker
        self.watcher = ConfigWatcher(config.path, poll_s, on_error)
        self.retiring: list[_Retiring] = []
        self.pending: dict[str, Camera] = {}  # cameras waiting for their old worker to exit

    def nudge(self) -> None:
        self.watcher.nudge()

    def tick(self, now: float) -> CameraDiff | None:
        """Poll the file, apply a change, reap stopped workers, start the ones that were waiting."""
        new = self.watcher.poll(now)
        diff = self.apply(new, now) if new is not None else None
        self._reap(now)
        self._start_pending()
        return diff

    def apply(self, new: Config, now: float) -> CameraDiff:
        """Hand the new config on and act on the difference."""
        diff = diff_cameras(self.config, new)
        self.config = new
        self.on_config(new)
        cameras = {c.id: c for c in new.cameras}
        for cam_id in diff.stop + diff.restart:
            self._retire(cam_id, now)
        for cam_id in diff.start + diff.restart:
            self.pending[cam_id] = cameras[cam_id]
        unchanged = sum(c.enabled for c in new.cameras) - len(diff.start) - len(diff.restart)
        log.info("config reloaded: %d started, %d stopped, %d restarted, %d unchanged",
                 len(diff.start), len(diff.stop), len(diff.restart), unchanged)
        return diff

    def _retire(self, cam_id: str, now: float) -> None:
        self.pending.pop(cam_id, None)
        process = self.stop_worker(cam_id)
        if process is not None:
            self.retiring.append(_Retiring(cam_id, process, now + RETIRE_GRACE_S))
        log.info("%s: stopping its worker (configuration changed)", cam_id)

    def _reap(self, now: float) -> None:
        still: list[_Retiring] = []
        for r in self.retiring:
            if r.process.is_alive() and now >= r.deadline:
                log.warning("%s: worker did not stop in time; killing it", r.camera)
                r.process.kill()  # terminate() (SIGTERM) is the stop request it did not answer
            if r.process.is_alive():
                still.append(r)
            else:
                r.process.join(0)
        self.retiring = still

    def _start_pending(self) -> None:
        busy = {r.camera for r in self.retiring}
        for cam_id in [c for c in self.pending if c not in busy]:
            self.start_worker(self.pending.pop(cam_id))

    def retiring_processes(self) -> list[tuple[str, Any]]:
        """(camera, process) of the workers still retiring (a stopping supervisor waits for them too)."""
        return [(r.camera, r.process) for r in self.retiring]
