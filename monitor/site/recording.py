"""The per-camera recording mode of cameras.yaml and when it wants continuous footage."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

RecordingMode = Literal["events", "opening_hours", "always"]
RECORDING_HELP = (
    "events: clips around motion events only; opening_hours: also continuous segments during the site's "
    "opening hours; always: continuous segments day and night. Event clips are kept in every mode.")


class OpenCheck(Protocol):
    """What continuous_wanted needs of config.OpeningHours (imported there: no cycle)."""

    def is_open(self, dt: datetime, tz: ZoneInfo | None = None) -> bool: ...


def continuous_wanted(mode: RecordingMode, hours: OpenCheck, tz: ZoneInfo, t: float) -> bool:
    """Whether a camera in this mode records continuous footage at unix time t."""
    if mode == "always":
        return True
    if mode == "opening_hours":
        return hours.is_open(datetime.fromtimestamp(t, tz), tz)
    return False
