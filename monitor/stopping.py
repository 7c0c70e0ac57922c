"""How `onestop run` stops: SIGTERM/SIGINT to the supervisor or to its whole process group.

Workers are asked to stop with SIGTERM, never through a shared `multiprocessing.Event`: setting one
waits (without a time-out) for every process that sleeps on it to acknowledge the wake-up, and a
worker that died first (SIGTERM to the process group reaches the workers too) never does, so the
supervisor hung in `Event.set()` for ever. A signal needs nothing from the process it is sent to.

- First SIGTERM or SIGINT: a clean stop. Workers end their events, finish the open clips as MP4
  and exit; the writer stores every message; exit code 0.
- Second signal during the stop: a forced stop. Workers still running are SIGKILLed (their open
  clip stays a fragmented '.part' that the start-up recovery turns into a clip); the writer stops
  retrying an unavailable database; exit code 1.
- A worker ignores SIGINT (Ctrl-C reaches the whole group: the supervisor decides) and every
  SIGTERM after the first (one from the group and one from the supervisor arrive together).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Workers get this long to finish their clips. Closing a clip takes well under a second (a remux by
# stream copy); a camera stalled at that moment blocks its read up to RTSP_READ_TIMEOUT_S (8 s), and
# the whole stop must fit in 10 s, so a worker still running after 7 s is SIGKILLed (clip -> .part).
WORKER_STOP_GRACE_S = 7.0
FORCED_WRITER_WAIT_S = 2.0  # forced stop: the writer gets this long to store what is queued, then exit


def _ignore(_signum: int, _frame: FrameType | None) -> None:
    """Python-level handler: the work is done by the watcher thread (see watch_signals)."""


def watch_signals(signals: tuple[signal.Signals, ...], on_signal: Callable[[signal.Signals], None]) -> None:
    """Call on_signal(sig) in a thread of its own for each of these signals (call from the main thread).

    A handler runs between two bytecodes of the main thread, possibly while that thread holds the
    lock of the very threading.Event the handler would set (a deadlock). The C-level handler only
    writes the signal number to a pipe (signal.set_wakeup_fd); a thread reads it and acts.
    """
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    for sig in signals:
        signal.signal(sig, _ignore)
    signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)

    def watch() -> None:
        while True:
            for number in os.read(read_fd, 64):
                if number in signals:
                    on_signal(signal.Signals(number))

    threading.Thread(target=watch, name="signals", daemon=True).start()


class StopRequest:
    """The supervisor's stop state, driven by its signals (or by tests calling request())."""

    def __init__(self, on_force: Callable[[], None]):
        self.requested = threading.Event()
        self.forced = threading.Event()
        self.on_force = on_force

    def install(self) -> None:
        """Act on SIGINT and SIGTERM (call from the main thread)."""
        watch_signals(STOP_SIGNALS, lambda sig: self.request(sig.name))

    def request(self, why: str) -> None:
        """First call: a clean stop; a later one: a forced stop."""
        if not self.requested.is_set():
            log.info("%s: stopping (a second signal forces a faster stop)", why)
            self.requested.set()
        elif not self.forced.is_set():
            log.warning("%s again: forcing the stop; open clips stay '.part' until the next start", why)
            self.forced.set()
            self.on_force()


def ignore_late_signals(signals: tuple[signal.Signals, ...] = STOP_SIGNALS) -> None:
    """The stop is complete: ignore these signals from now on (call from the main thread).

    At exit the interpreter puts the default action back for signals that had a Python handler, so
    a second signal arriving while the process exits would kill it and replace its exit status.
    """
    for sig in signals:
        signal.signal(sig, signal.SIG_IGN)


def install_worker_stop(stop: threading.Event) -> None:
    """In a worker process: SIGTERM sets stop (once; later ones change nothing), SIGINT is ignored."""

    def on_term(_sig: signal.Signals) -> None:
        if not stop.is_set():
            log.info("stop requested (SIGTERM)")
            stop.set()

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch_signals((signal.SIGTERM,), on_term)
