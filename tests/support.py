"""Helpers the tests and benchmarks import (conftest.py holds the fixtures): free ports, the checks for
system packages - a test that needs one skips on a developer machine and fails loudly under CI=true -
and the GStreamer RTSP server process (tests/rtsp_server.py run by the system python)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

import pytest

SYSTEM_PYTHON = "/usr/bin/python3"  # python3-gi and the GStreamer RTSP server live outside the venv
RTSP_SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")
RTSP_READY_TIMEOUT_S = 15.0  # GStreamer's first start scans its plugin registry: seconds on a cold cache
RTSP_STOP_TIMEOUT_S = 5.0  # the server quits its main loop on SIGTERM at once; kill if it hangs
CHROMIUM = "/usr/bin/chromium"  # Debian's chromium and chromium-driver: Selenium must never download a driver
CHROMEDRIVER = "/usr/bin/chromedriver"


def require(what: str, ok: bool, hint: str) -> None:
    """Skip the test when a system package is missing; under CI=true fail loudly instead."""
    if ok:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} missing: {hint}")
    pytest.skip(f"{what} missing: {hint}")


def _probe(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


_checks: dict[str, bool] = {}


def have_gst_rtsp() -> bool:
    """True when the system python can import the GStreamer RTSP server bindings."""
    if "gst" not in _checks:
        code = "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0')"
        _checks["gst"] = Path(SYSTEM_PYTHON).exists() and _probe([SYSTEM_PYTHON, "-c", code])
    return _checks["gst"]


def have_ffprobe() -> bool:
    if "ffprobe" not in _checks:
        _checks["ffprobe"] = shutil.which("ffprobe") is not None and _probe(["ffprobe", "-version"])
    return _checks["ffprobe"]


def require_rtsp_server() -> None:
    require("GStreamer RTSP server", have_gst_rtsp(), "apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 "
            "gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad")


def require_ffprobe() -> None:
    require("ffprobe", have_ffprobe(), "apt-get install ffmpeg")


def have_chromium() -> bool:
    """True when Chromium, its chromedriver and the selenium package are all here."""
    if "chromium" not in _checks:
        import importlib.util

        _checks["chromium"] = (Path(CHROMIUM).exists() and importlib.util.find_spec("selenium") is not None
                               and _probe([CHROMEDRIVER, "--version"]))
    return _checks["chromium"]


def require_chromium() -> None:
    require("Chromium with chromedriver and selenium", have_chromium(),
            "apt-get install chromium chromium-driver; pip install -e '.[test]'")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    return free_ports(1)[0]


def free_ports(n: int) -> list[int]:
    """n different TCP ports on 127.0.0.1 that nothing listens on right now: each socket stays bound until all are
    picked (two free_port() calls in a row can return the same port, the first one's socket being closed)."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class RtspServer:
    """tests/rtsp_server.py as a subprocess on a fixed port (so restart keeps the URLs valid)."""

    def __init__(self, mounts: dict[str, Path], loop: bool = False, port: int | None = None):
        self.mounts = dict(mounts)
        self.loop = loop
        self.port = port or free_port()
        self.proc: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None

    def url(self, mount: str = "/main", credentials: str | None = None) -> str:
        """rtsp://127.0.0.1:PORT/mount, with optional 'user:password' (the server ignores them)."""
        auth = f"{credentials}@" if credentials else ""
        return f"rtsp://{auth}127.0.0.1:{self.port}/{mount.lstrip('/')}"

    def start(self) -> RtspServer:
        if self.proc is not None:
            return self
        cmd = [SYSTEM_PYTHON, str(RTSP_SERVER_SCRIPT), "--port", str(self.port)]
        for mount, path in self.mounts.items():
            cmd += ["--mount", f"/{mount.lstrip('/')}={path}"]
        if self.loop:
            cmd.append("--loop")
        self._stderr = tempfile.TemporaryFile("w+")
        # A clean environment for the system python: no venv, no PYTHONPATH from the project.
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr, text=True, env=env)
        line = self._ready_line()
        if not line.startswith("READY"):
            err = self._read_stderr()
            self.stop()
            raise RuntimeError(f"RTSP server did not start ({line or 'no READY line'}): {' '.join(cmd)}\n{err}")
        return self

    def _ready_line(self) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(RTSP_READY_TIMEOUT_S)
        if not result:
            return f"timed out after {RTSP_READY_TIMEOUT_S:.0f} s"
        return result[0].strip()

    def _read_stderr(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read()

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)  # in case it was frozen
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(RTSP_STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def freeze(self) -> None:
        """SIGSTOP the server: connections stay open but no data flows (a stalled camera)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def restart(self) -> RtspServer:
        self.stop()
        return self.start()

    def wait_port_closed(self, timeout: float = 5.0) -> None:
        """Wait until nothing accepts on the port (after stop())."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            time.sleep(0.05)
