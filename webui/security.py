"""Security headers on every response, and the login throttle (too many failed logins -> 429 for a while)."""

from __future__ import annotations

import base64
import hashlib
import threading
from collections import deque
from dataclasses import dataclass, field

from flask import Flask, Response, request

# No 'unsafe-inline' anywhere: scripts come only from /static (webui/static/*.js), styles only from
# style.css. The report charts are inline SVG whose colours are presentation attributes
# (stroke="#..."), which CSP does not treat as inline style, so style-src needs no exception.
CSP_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "media-src": "'self'",
    "connect-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
}
STATIC_HEADERS = {
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
    "X-Content-Type-Options": "nosniff",
    # Same-site links keep their path (the login's ?next= needs it); other sites learn nothing.
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000"  # only sent over HTTPS (a reverse proxy in front); plain-HTTP LAN installs get none


def content_security_policy(style_hashes: tuple[str, ...] = ()) -> str:
    """The site's CSP; style_hashes ('sha256-...') allow exactly those inline <style> blocks."""
    directives = dict(CSP_DIRECTIVES)
    if style_hashes:
        directives["style-src"] += "".join(f" '{h}'" for h in style_hashes)
    return "; ".join(f"{k} {v}" for k, v in directives.items())


def style_hash(css: str) -> str:
    """The CSP source expression ('sha256-...') of one inline <style> block's text."""
    return "sha256-" + base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")


CSP = content_security_policy()


def add_headers(response: Response) -> Response:
    """after_request: the security headers; a view may set its own (stricter or hashed) CSP first."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    for name, value in STATIC_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    """Install the headers and the login throttle on the app."""
    app.after_request(add_headers)
    app.extensions["onestop_throttle"] = LoginThrottle()


# ---------------------------------------------------------------- login throttle

# Counters live in memory: the web app is one process (waitress threads) and a restart forgetting
# them only gives an attacker one more window, while a table would add a write per failed login.
WINDOW_S = 15 * 60  # failures older than this are forgotten
MAX_FAILURES_PER_USER = 5  # a person mistyping gets five tries; a guesser gets 20 per hour
# An office sits behind one NAT address, so a whole counter hall shares an IP: allow more there.
MAX_FAILURES_PER_IP = 20
LOCKOUT_S = 15 * 60  # long enough to make guessing useless, short enough that a locked clerk can wait it out
MAX_TRACKED_KEYS = 10_000  # random usernames must not grow memory without bound; the oldest are dropped


@dataclass
class _Record:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0


class LoginThrottle:
    """Failed logins per username and per client address; thread-safe; the clock is passed in."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, _Record] = {}

    @staticmethod
    def _keys(username: str, ip: str) -> tuple[tuple[str, int], tuple[str, int]]:
        return (f"user:{username}", MAX_FAILURES_PER_USER), (f"ip:{ip}", MAX_FAILURES_PER_IP)

    def locked_for(self, username: str, ip: str, now: float) -> float:
        """Seconds until the username or the address may try again (0: not locked)."""
        with self._lock:
            waits = [rec.locked_until - now for key, _ in self._keys(username, ip)
                     if (rec := self._records.get(key)) is not None]
        return max([0.0, *waits])

    def failed(self, username: str, ip: str, now: float) -> bool:
        """Count a failed login; True when this failure locks the username or the address."""
        tripped = False
        with self._lock:
            for key, limit in self._keys(username, ip):
                rec = self._records.pop(key, None) or _Record()
                self._records[key] = rec  # re-inserted: dict order is least recently failed first
                while rec.failures and rec.failures[0] <= now - WINDOW_S:
                    rec.failures.popleft()
                rec.failures.append(now)
                if len(rec.failures) >= limit and rec.locked_until <= now:
                    rec.locked_until = now + LOCKOUT_S
                    rec.failures.clear()
                    tripped = True
            while len(self._records) > MAX_TRACKED_KEYS:
                self._records.pop(next(iter(self._records)))
        return tripped

    def succeeded(self, username: str) -> None:
        """Forget the username's failures (not the address's: one valid account must not reset guessing others)."""
        with self._lock:
            self._records.pop(f"user:{username}", None)
