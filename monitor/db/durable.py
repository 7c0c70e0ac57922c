"""Writing worker messages without losing them: a locked or full database is waited out, not dropped.

Only a message that fails on its own for a reason other than a busy or full database (a malformed
message) is dropped, and that is logged with its type and camera.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from typing import Any, Protocol

from monitor.messages import describe

log = logging.getLogger(__name__)

RETRY_START_S = 0.25  # a lock held by a web reader is usually gone within a fraction of a second
RETRY_MAX_S = 5.0  # a long lock or a full disk: try again every few seconds, never spin
# sqlite3 messages of the conditions that pass by themselves (another connection's lock, a full disk
# that retention or an operator frees); the message is the only place sqlite3 exposes them portably.
TRANSIENT_ERRORS = ("database is locked", "database table is locked", "database is busy",
                    "database or disk is full", "disk i/o error")


class Applier(Protocol):
    def apply(self, messages: list[Any]) -> None: ...


def is_transient(err: BaseException) -> bool:
    """True for a database error that goes away by itself (busy, locked, disk full)."""
    return isinstance(err, sqlite3.OperationalError) and any(s in str(err).lower() for s in TRANSIENT_ERRORS)


class DurableWriter:
    """Applies batches with retry and back-off while the database is busy or full."""

    def __init__(self, writer: Applier, *, give_up: Callable[[], bool] = lambda: False,
                 sleep: Callable[[float], None] = time.sleep):
        self.writer = writer
        self.give_up = give_up  # checked between retries: True only at shutdown past its grace
        self.sleep = sleep
        self.stalled_since: float | None = None  # time.time() when the current stall began
        self.retries = 0
        self.dropped = 0

    def write(self, batch: list[Any]) -> int:
        """Write the batch (all of it, or message by message if one is bad); returns messages dropped."""
        err = self._retrying(batch)
        if err is None:
            return 0
        if is_transient(err):  # only when give_up() said so: shutdown with the database still unavailable
            self.dropped += len(batch)
            return len(batch)
        log.warning("writer: batch of %d failed (%s); writing one by one", len(batch), err)
        dropped = 0
        for msg in batch:
            err = self._retrying([msg])
            if err is not None:
                dropped += 1
                log.error("writer: dropped %s: %s", describe(msg), err)
        self.dropped += dropped
        return dropped

    def _retrying(self, batch: list[Any]) -> BaseException | None:
        """Apply until it works or fails for a non-transient reason; returns that error, else None."""
        delay = RETRY_START_S
        while True:
            try:
                self.writer.apply(batch)
            except Exception as err:  # noqa: BLE001 - classified below; a bad message must not stop the writer
                if not is_transient(err):
                    self._end_stall()
                    return err
                if self.give_up():
                    log.error("writer: giving up on %d messages at shutdown: %s", len(batch), err)
                    self._end_stall()
                    return err
                self._note_stall(err, delay)
                self.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_S)
                continue
            self._end_stall()
            return None

    def _note_stall(self, err: BaseException, delay: float) -> None:
        self.retries += 1
        if self.stalled_since is None:
            self.stalled_since = time.time()
            log.warning("writer: database unavailable (%s); keeping the messages and retrying", err)
        else:
            log.debug("writer: still unavailable after %.0f s; next try in %.2f s",
                      time.time() - self.stalled_since, delay)

    def _end_stall(self) -> None:
        if self.stalled_since is not None:
            log.info("writer: database available again after %.1f s", time.time() - self.stalled_since)
            self.stalled_since = None
