"""`onestop run` as a real subprocess with helpers that read its SQLite file (e2e and fault tests)."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

SECRET = "Pw-e2e-7f3kq"  # exported as E2E_PASSWORD for configs that reference ${E2E_PASSWORD}


class RunningSite:
    """What a test reads off a running `onestop run`: its database (read-only, like the web app), its log."""

    db: Path
    log: Path
    proc: subprocess.Popen | None

    def rows(self, sql: str, params: tuple = ()) -> list[dict]:
        db = self.db
        if not db.exists():
            return []
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql, params)]
        except sqlite3.OperationalError:
            return []  # schema not created yet
        finally:
            conn.close()

    def wait(self, what: str, cond, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, f"onestop exited:\n{self.tail()}"
            value = cond()
            if value:
                return value
            time.sleep(0.25)
        pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{self.tail()}")

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])


class Onestop(RunningSite):
    """`onestop run` as a subprocess, with helpers that read its database like the web app does."""

    def __init__(self, folder: Path, config: str, port: int):
        self.folder = folder
        self.cfg = folder / "cameras.yaml"
        self.cfg.write_text(config, encoding="utf-8")
        self.port = port
        self.log = folder / "onestop.log"
        self.db = folder / "onestop.db"  # set it when the config puts the database elsewhere
        self.proc: subprocess.Popen | None = None
        # keeps the session cookie between requests, like a browser
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def start(self) -> None:
        """Start `onestop run` in its own session (its log appends to onestop.log)."""
        env = {**os.environ, "E2E_PASSWORD": SECRET}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "monitor.cli", "run", "-c", str(self.cfg), "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )

    def stop(self, timeout: float = 30) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            raise

    def camera(self, cam: str) -> dict:
        rows = self.rows("select * from cameras where id = ?", (cam,))
        return rows[0] if rows else {}


    def http(self, path: str, headers: dict | None = None, data: bytes | None = None) -> tuple[int, bytes, dict]:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers or {}, data=data)
        with self.opener.open(req, timeout=10) as r:
            return r.status, r.read(), dict(r.headers)

    def add_user(self, name: str, role: str, password: str) -> None:
        """`onestop users add` against the running system's database."""
        r = subprocess.run([sys.executable, "-m", "monitor.cli", "users", "add", name, "--role", role,
                            "--password-stdin", "-c", str(self.cfg)], input=password, text=True,
                           capture_output=True, timeout=60, env={**os.environ, "E2E_PASSWORD": SECRET})
        assert r.returncode == 0, r.stderr

    def login(self, name: str, password: str) -> None:
        """Log in through the form, with the CSRF token it carries; the opener keeps the session."""
        with pytest.raises(urllib.error.HTTPError) as anonymous:
            self.http("/api/v1/events")
        anonymous.value.close()  # an HTTPError holds the response's socket
        assert anonymous.value.code == 401
        _, form, _ = self.http("/login")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', form).group(1).decode()
        body = urllib.parse.urlencode({"csrf_token": token, "username": name, "password": password}).encode()
        status, page, _ = self.http("/login", data=body)  # redirected to the overview
        assert status == 200 and b'data-camera="cam-a"' in page, page[:500]

    def kill(self) -> None:
        """SIGKILL the supervisor process only (its workers die with it)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def close(self) -> None:
        """Kill whatever is left of the process group (test teardown)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # orphaned workers, if any
            except ProcessLookupError:
                pass


def ffprobe(path: Path) -> tuple[str, float]:
    """(codec name, duration in seconds) of a clip; raises CalledProcessError if ffprobe cannot read it."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name",
         "-show_entries", "format=duration", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout
    data = json.loads(out)
    return data["streams"][0]["codec_name"], float(data["format"]["duration"])


class WorkerThread:
    """A camera worker (monitor.camera.worker.run_camera) in a thread of the test, its messages collected."""

    def __init__(self, make_worker, config, camera) -> None:  # noqa: ANN001 - a CameraWorker class and its config
        from monitor.camera.worker import run_camera  # here: the other helpers never load the worker's libraries

        self._sent: list = []
        self._lock = threading.Lock()
        self.worker = make_worker(config, camera, self._send)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=run_camera, args=(self.worker, self._stop), daemon=True)
        self.thread.start()

    def _send(self, msg) -> None:  # noqa: ANN001 - a monitor.messages.Message
        with self._lock:
            self._sent.append(msg)

    def messages(self) -> list:
        """The messages sent so far, in order."""
        with self._lock:
            return list(self._sent)

    def stop(self, timeout_s: float) -> bool:
        """Ask the worker to stop; True when its thread ended within timeout_s."""
        self._stop.set()
        self.thread.join(timeout_s)
        return not self.thread.is_alive()
