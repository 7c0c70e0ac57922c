"""Faults of the camera side survived by `onestop run`: server restarts, a stalled stream, garbage bytes; a real
RTSP server and real processes. Each test prints what it observed. The storage and process faults are in
test_faults_storage.py (two files, so that two test processes share the long waits).
"""

from __future__ import annotations

import os
import random
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from support import free_port, require, require_ffprobe
from harness import Onestop, ffprobe
from faultkit import DISK_MB, LOCK_HELD_S, PAUSE_FREE_MB, RESTARTS, STALL_TARGET_S, WORKER_RESTART_TARGET_S, ZONE, alive, integrity, onestop, site_config, state  # noqa: F401 - onestop is a fixture

pytestmark = [pytest.mark.slow, pytest.mark.rtsp]


def test_camera_server_restarted_20_times(onestop, rtsp_server):
    server = rtsp_server(loop=True)
    app = onestop(site_config({"cam": server.url("/sub")}))
    app.wait("cam online", lambda: state(app, "cam") == "online", 60)
    times = []
    for i in range(1, RESTARTS + 1):
        server.stop()
        app.wait(f"outage {i} noticed", lambda: state(app, "cam") != "online", 20)
        time.sleep(1.0)
        server.start()
        back = time.monotonic()
        app.wait(f"recovery {i}", lambda: (app.camera("cam").get("reconnects") or 0) >= i
                 and state(app, "cam") == "online", 60)
        times.append(time.monotonic() - back)
    reconnects = app.camera("cam")["reconnects"]
    print(f"\nserver restarts: {RESTARTS}/{RESTARTS} recoveries (reconnects column {reconnects}), "
          f"recovery after restart mean {sum(times) / len(times):.1f} s, max {max(times):.1f} s")
    assert reconnects == RESTARTS
    assert "worker exited" not in app.log.read_text()


def test_stalled_stream_is_detected_within_10_s(onestop, rtsp_server):
    server = rtsp_server(loop=True)
    app = onestop(site_config({"cam": server.url("/sub")}))
    app.wait("cam online", lambda: state(app, "cam") == "online", 60)
    time.sleep(2)
    server.freeze()
    frozen = time.monotonic()
    try:
        app.wait("the stall noticed", lambda: state(app, "cam") != "online", 30)
        detected = time.monotonic() - frozen
        error = app.camera("cam").get("error")
    finally:
        server.thaw()
    app.wait("cam online after the thaw", lambda: state(app, "cam") == "online", 60)
    print(f"\nstalled stream: detected after {detected:.1f} s (error {error!r}); online again "
          f"{time.monotonic() - frozen - detected:.1f} s later")
    assert detected <= STALL_TARGET_S + 0.5  # + one poll of the database
    assert error  # the reason is shown with the state


class FaultyPort:
    """A TCP port that answers garbage, or proxies to a real server and corrupts each connection."""

    def __init__(self, port: int, upstream: int | None = None, cut_after: int = 150_000):
        self.port, self.upstream, self.cut_after = port, upstream, cut_after
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind(("127.0.0.1", port))
        except OSError:
            self.sock.close()
            raise
        self.sock.listen(8)
        self.connections = 0
        self.closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            target = self._garbage if self.upstream is None else self._proxy
            threading.Thread(target=target, args=(conn,), daemon=True).start()

    def _garbage(self, conn: socket.socket) -> None:
        rng = random.Random(self.connections)
        with conn:
            try:
                conn.recv(4096)
                for _ in range(20):
                    conn.sendall(bytes(rng.getrandbits(8) for _ in range(2048)))
                    time.sleep(0.05)
            except OSError:
                pass

    def _proxy(self, conn: socket.socket) -> None:
        """Forward both ways; after cut_after bytes downstream send 4 KB of garbage and cut the stream."""
        try:
            up = socket.create_connection(("127.0.0.1", self.upstream))
        except OSError:
            conn.close()
            return

        def pump_up() -> None:
            try:
                while data := conn.recv(65536):
                    up.sendall(data)
            except OSError:
                pass

        threading.Thread(target=pump_up, daemon=True).start()
        sent = 0
        try:
            while sent < self.cut_after and (data := up.recv(65536)):
                conn.sendall(data)
                sent += len(data)
            conn.sendall(os.urandom(4096))
        except OSError:
            pass
        finally:
            up.close()
            conn.close()

    def close(self) -> None:
        self.closed.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        except OSError:
            pass
        self.sock.close()


def test_garbage_bytes_and_truncated_stream_reconnect_without_crash(onestop, rtsp_server):
    server = rtsp_server(loop=True)
    port = free_port()
    garbage = FaultyPort(port)
    url = f"rtsp://127.0.0.1:{port}/sub"
    app = onestop(site_config({"cam": url}))
    try:
        app.wait("a worker pid", lambda: app.camera("cam").get("pid"), 60)
        app.wait("garbage answered twice", lambda: garbage.connections >= 2, 60)
        pid = app.camera("cam")["pid"]
        error = app.wait("an error reported", lambda: app.camera("cam").get("error"), 30)
    finally:
        garbage.close()
    proxy = FaultyPort(port, upstream=server.port)
    try:
        app.wait("online through the corrupting proxy", lambda: state(app, "cam") == "online", 90)
        app.wait("3 reconnects after corrupted, truncated streams",
                 lambda: (app.camera("cam").get("reconnects") or 0) >= 3, 120)
        cam = app.camera("cam")
    finally:
        proxy.close()
    log = app.log.read_text(errors="replace")
    print(f"\ngarbage: {garbage.connections} garbage answers -> error {error!r}; corrupting proxy: "
          f"{proxy.connections} connections cut after 150 kB + 4 kB garbage -> {cam['reconnects']} reconnects, "
          f"{cam['frames']} frames analysed, worker pid unchanged: {cam['pid'] == pid}")
    assert cam["pid"] == pid and cam["frames"] > 0
    assert "worker exited" not in log and "Traceback" not in log


