"""Free space on the recordings disk: pause new clips below a threshold, resume with a margin above it."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

MB = 1024**2
DISK_CHECK_S = 5.0  # statvfs costs microseconds; 5 s bounds how late a pause or resume is noticed
RESUME_MIN_MARGIN = 16 * MB  # resume only this far above the threshold: no pause/resume flapping at the edge
DISK_FULL_ALERT = "disk full: recording paused"


def nearest_existing(path: Path) -> Path:
    """path, or its nearest parent that exists (the filesystem a folder not made yet will live on)."""
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def disk_free(path: Path) -> int:
    """Free bytes (for an unprivileged user) on the filesystem holding path or its nearest existing parent."""
    st = os.statvfs(nearest_existing(path))
    return st.f_bavail * st.f_frsize


class DiskGuard:
    """Decides whether a new clip may start; the alert text shows in the camera's status while paused."""

    def __init__(self, path: Path, pause_below: int, label: str = ""):
        self.path = Path(path)
        self.pause_below = int(pause_below)
        self.resume_at = max(2 * self.pause_below, self.pause_below + RESUME_MIN_MARGIN)
        self.label = label
        self.paused = False
        self.free: int | None = None
        self._checked = float("-inf")

    @property
    def alert(self) -> str | None:
        """The status error while recording is paused, else None."""
        return DISK_FULL_ALERT if self.paused else None

    def recording_allowed(self, now: float, force: bool = False) -> bool:
        """Re-read free space when due (or forced) and return whether clips may be recorded."""
        if force or now - self._checked >= DISK_CHECK_S:
            self._checked = now
            try:
                self.free = disk_free(self.path)
            except OSError as err:
                log.warning("%s: cannot read free space of %s: %s", self.label, self.path, err)
                return not self.paused
            self._update(self.free)
        return not self.paused

    def _update(self, free: int) -> None:
        if not self.paused and free < self.pause_below:
            self.paused = True
            log.error("%s: %s (%.1f MB free, need %.1f MB)", self.label, DISK_FULL_ALERT, free / MB,
                      self.pause_below / MB)
        elif self.paused and free >= self.resume_at:
            self.paused = False
            log.warning("%s: recording resumed (%.1f MB free)", self.label, free / MB)
