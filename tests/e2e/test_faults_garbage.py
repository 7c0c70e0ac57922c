"""A camera port that answers garbage, then a proxy that corrupts and cuts each RTSP connection: the
worker reports the error and reconnects without crashing. A real RTSP server, real processes. Kept apart from
test_faults.py so that the test processes run them side by side.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time

import pytest

from support import free_port
from faultkit import onestop, site_config, state  # noqa: F401 - onestop is a fixture

pytestmark = [pytest.mark.slow, pytest.mark.rtsp]


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
    proxy = FaultyPort(port, upstream=server.port, cut_after=40_000)
    try:
        app.wait("online through the corrupting proxy", lambda: state(app, "cam") == "online", 90)
        app.wait("3 reconnects after corrupted, truncated streams",
                 lambda: (app.camera("cam").get("reconnects") or 0) >= 3, 120)
        cam = app.camera("cam")
    finally:
        proxy.close()
    log = app.log.read_text(errors="replace")
    print(f"\ngarbage: {garbage.connections} garbage answers -> error {error!r}; corrupting proxy: "
          f"{proxy.connections} connections cut after {proxy.cut_after // 1000} kB + 4 kB garbage -> {cam['reconnects']} reconnects, "
          f"{cam['frames']} frames analysed, worker pid unchanged: {cam['pid'] == pid}")
    assert cam["pid"] == pid and cam["frames"] > 0
    assert "worker exited" not in log and "Traceback" not in log


