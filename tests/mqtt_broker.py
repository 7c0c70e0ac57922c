"""Real Mosquitto brokers for the hub tests: the deploy/mosquitto configs with test ports and paths,
a throw-away district CA, and a TCP relay whose connections the tests cut to simulate a dead link."""

from __future__ import annotations

import getpass
import re
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from support import free_port, free_ports, require

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "mosquitto"
START_TIMEOUT_S = 10.0
WAIT_S = 60.0  # the longest any stage of a broker test may take on a loaded 2-core machine before it gives up


def wait_for(what: str, check, timeout: float = WAIT_S) -> None:
    """Poll check() until true; fail the test naming `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def require_mosquitto() -> None:
    """Skip without the Debian mosquitto package (fail under CI=true)."""
    ok = all(shutil.which(p) for p in ("mosquitto", "mosquitto_passwd", "openssl"))
    require("mosquitto, mosquitto_passwd and openssl", ok, "apt-get install mosquitto openssl")


def set_directives(text: str, values: dict[str, str]) -> str:
    """The config text with each `name ...` line (all of them) replaced by `name value`; AssertionError if absent."""
    for name, value in values.items():
        text, n = re.subn(rf"(?m)^{re.escape(name)} .*$", f"{name} {value}".replace("\\", "\\\\"), text)
        assert n, f"{name} not in the config"
    return text


def make_ca(folder: Path) -> dict[str, Path]:
    """A district CA and a broker certificate for 127.0.0.1/localhost (EC keys: fast)."""
    folder.mkdir(parents=True, exist_ok=True)
    p = {k: folder / f"{k}.pem" for k in ("ca", "ca_key", "cert", "key", "csr")}

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
        "-subj", "/CN=test district CA", "-keyout", str(p["ca_key"]), "-out", str(p["ca"]))
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=localhost",
        "-keyout", str(p["key"]), "-out", str(p["csr"]))
    ext = folder / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-in", str(p["csr"]), "-CA", str(p["ca"]), "-CAkey", str(p["ca_key"]), "-CAcreateserial",
        "-days", "2", "-extfile", str(ext), "-out", str(p["cert"]))
    return p


def wait_port(port: int, timeout: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


class Mosquitto:
    """One mosquitto process on a config file in its own folder; start, stop, start again (persistence kept)."""

    def __init__(self, folder: Path, conf: str, port: int):
        self.folder, self.port = folder, port
        folder.mkdir(parents=True, exist_ok=True)
        self.conf = folder / "mosquitto.conf"
        # as root mosquitto would switch to the mosquitto user, who cannot read the test's temp folder
        self.conf.write_text(f"user {getpass.getuser()}\n" + conf)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Mosquitto:
        with open(self.folder / "broker.log", "ab") as logfile:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(["mosquitto", "-c", str(self.conf)], stdout=logfile, stderr=logfile)
        try:
            wait_port(self.port)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"mosquitto did not start: {(self.folder / 'broker.log').read_text()[-2000:]}")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: mosquitto saves its persistence file on the way out
            self.proc.wait(10)
        self.proc = None


def district_broker(folder: Path, ca: dict[str, Path], accounts: dict[str, str], acl: str = "district.acl",
                    extra: str = "") -> tuple[Mosquitto, int, int]:
    """deploy/mosquitto/district.conf and an ACL of deploy/mosquitto (district.acl; province.acl at a province)
    on free ports, with `extra` config appended (a bridge): (broker, loopback port, TLS port)."""
    local, tls = free_ports(2)  # two listeners: never the same port
    folder.mkdir(parents=True, exist_ok=True)
    passwd = folder / "passwd"
    passwd.touch()
    for user, password in accounts.items():
        subprocess.run(["mosquitto_passwd", "-b", str(passwd), user, password], check=True, capture_output=True)
    shutil.copy(DEPLOY / acl, folder / "acl")
    text = (DEPLOY / "district.conf").read_text()
    text = text.replace("listener 1883 127.0.0.1", f"listener {local} 127.0.0.1").replace(
        "listener 8883", f"listener {tls} 127.0.0.1")
    text = set_directives(text, {
        "persistence_location": f"{folder}/", "password_file": str(passwd), "acl_file": str(folder / "acl"),
        "cafile": str(ca["ca"]), "certfile": str(ca["cert"]), "keyfile": str(ca["key"]),
    })
    return Mosquitto(folder, text + "\n" + extra, local), local, tls


def province_bridge(district: str, password: str, province: tuple[str, int], ca: Path) -> str:
    """deploy/mosquitto/district-province-bridge.conf for one district, bridged to the province (host, port)."""
    text = (DEPLOY / "district-province-bridge.conf").read_text().replace("bac-me", district)
    return set_directives(text, {"address": f"{province[0]}:{province[1]}", "remote_password": password,
                                 "bridge_cafile": str(ca), "restart_timeout": "1 2"})


def commune_broker(folder: Path, site: str, password: str, district: tuple[str, int], ca: Path) -> tuple[Mosquitto, int]:
    """deploy/mosquitto/commune-bridge.conf for one site, bridged to district (host, port): (broker, its port)."""
    port = free_port()
    text = (DEPLOY / "commune-bridge.conf").read_text().replace("xa-a", site)
    text = text.replace("listener 1883 127.0.0.1", f"listener {port} 127.0.0.1")
    text = set_directives(text, {
        "persistence_location": f"{folder}/", "address": f"{district[0]}:{district[1]}", "remote_password": password,
        "bridge_cafile": str(ca), "restart_timeout": "1 2",  # reconnect within seconds once the relay is back
    })
    return Mosquitto(folder, text, port), port


class Relay:
    """A TCP relay 127.0.0.1:port -> target; cut() drops every connection and refuses new ones until restore()."""

    def __init__(self, target: int):
        self.target, self.port = target, free_port()
        self.lock = threading.Lock()
        self.socks: list[socket.socket] = []
        self.server: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(16)
        self.server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def cut(self) -> None:
        with self.lock:
            server, self.server = self.server, None
            socks, self.socks = self.socks, []
        if server is not None:
            try:
                server.shutdown(socket.SHUT_RDWR)  # wakes the accept() blocked in the relay thread
            except OSError:
                pass
            server.close()
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), 2)
            except OSError:
                client.close()
                continue
            with self.lock:
                if self.server is not server:
                    client.close(), upstream.close()
                    return
                self.socks += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
