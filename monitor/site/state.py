"""The running site's configuration: one holder shared by the supervisor, which reloads it, and the web app."""

from __future__ import annotations

import threading
from collections.abc import Callable

from monitor.site.config import Config


class SiteState:
    """Holds the Config in force; replace() swaps it in and tells the subscribers (the web app is one)."""

    def __init__(self, config: Config, request_reload: Callable[[], None] | None = None):
        self._config = config
        self._subscribers: list[Callable[[Config], None]] = []
        self._lock = threading.Lock()
        self.on_reload_request = request_reload

    @property
    def config(self) -> Config:
        """The configuration in force."""
        return self._config

    def replace(self, config: Config) -> None:
        """Swap in a new configuration (a live reload, or a save in the web UI)."""
        with self._lock:
            self._config = config
            subscribers = list(self._subscribers)
        for notify in subscribers:
            notify(config)

    def subscribe(self, notify: Callable[[Config], None]) -> None:
        """Call notify(config) after every replace()."""
        with self._lock:
            self._subscribers.append(notify)

    def request_reload(self) -> None:
        """Ask the supervisor to read cameras.yaml now rather than at its next poll (nothing without one)."""
        if self.on_reload_request is not None:
            self.on_reload_request()
