"""Camera health as the health page, /metrics and the offline alert see it: one state per camera from
the stored status, heartbeat and worker stats; and the disk usage of the recordings folder."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.site.config import Camera, Config, scrub_password
from monitor.camera.diskguard import nearest_existing
from monitor.camera.sources import redact_text

# The worker beats every second; the supervisor kills a worker silent for 20 s. Silence for longer
# than this means no worker runs for the camera (supervisor stopped, worker hung): offline.
SILENT_AFTER_S = 30.0
STATS_FRESH_S = 10.0  # stats older than this describe a worker that is gone: rates are shown as unknown
HEALTH_STATES = ("online", "reconnecting", "offline", "disabled")
# stored states that mean "trying to get the picture back"
_TRYING = {"starting", "connecting", "reconnecting", "restarting"}


@dataclass(frozen=True)
class CameraHealth:
    """One camera on the health page and in /metrics."""

    id: str
    name: str
    state: str  # one of HEALTH_STATES
    down_since: float | None  # when it stopped being online (None while online or disabled)
    reconnects: int
    error: str | None  # scrubbed of credentials
    stats: dict[str, Any] = field(default_factory=dict)  # empty when stale or never reported
    last_seen: float | None = None

    def down_for(self, now: float) -> float | None:
        """Seconds the camera has not been online, or None."""
        return None if self.down_since is None else max(0.0, now - self.down_since)


def health_state(row: dict[str, Any] | None, enabled: bool, now: float) -> tuple[str, float | None]:
    """(state, down_since) of a camera from its stored row: online, reconnecting, offline or disabled."""
    if not enabled:
        return "disabled", None
    if row is None:
        return "offline", None
    stored, last_seen = row.get("state") or "unknown", row.get("last_seen")
    down_since = row.get("down_since")
    if last_seen is None or now - last_seen > SILENT_AFTER_S:
        # nobody reports for the camera: it is down since its last word at the latest
        since = last_seen if down_since is None else min(down_since, last_seen)
        return "offline", since
    if stored == "online":
        return "online", None
    return ("reconnecting" if stored in _TRYING else "offline"), down_since


def scrub(text: str | None, cam: Camera) -> str | None:
    """text without URL credentials or the camera's password (belt and braces: workers redact already)."""
    if not text:
        return text
    return scrub_password(redact_text(text, ""), cam)


def camera_health(config: Config, rows: list[dict[str, Any]], now: float) -> list[CameraHealth]:
    """Every configured camera's health from the store's camera rows (store.camera_states)."""
    by_id = {r["id"]: r for r in rows}
    out = []
    for cam in config.cameras:
        row = by_id.get(cam.id)
        state, since = health_state(row, cam.enabled, now)
        stats = (row or {}).get("stats") or {}
        stats_at = (row or {}).get("stats_at")
        fresh = cam.enabled and stats_at is not None and now - stats_at <= STATS_FRESH_S
        out.append(CameraHealth(
            id=cam.id, name=cam.name, state=state, down_since=since,
            reconnects=int((row or {}).get("reconnects") or 0),
            error=scrub((row or {}).get("error"), cam) if state != "online" else None,
            stats=dict(stats) if fresh else {}, last_seen=(row or {}).get("last_seen"),
        ))
    return out


@dataclass(frozen=True)
class DiskUsage:
    """Bytes in the recordings folder and the free and total space of its filesystem."""

    used_bytes: int
    free_bytes: int
    total_bytes: int


def folder_bytes(path: Path) -> int:
    """Total size of the regular files under path (symlinks not followed; unreadable entries skipped)."""
    total = 0
    stack = [path]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue  # removed by retention while we walked
    return total


def disk_usage(recordings: Path) -> DiskUsage | None:
    """The recordings folder's usage, or None when neither it nor a parent exists."""
    probe = nearest_existing(recordings)
    if not probe.exists():
        return None
    du = shutil.disk_usage(probe)
    used = folder_bytes(recordings) if recordings.exists() else 0
    return DiskUsage(used, du.free, du.total)
