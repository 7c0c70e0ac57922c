"""deploy/onestop.service: the choices the stop relies on, its command line, and `systemd-analyze verify`."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

from support import require
from monitor.cli import main
from monitor.stopping import WORKER_STOP_GRACE_S

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "onestop.service"
INSTALL_DIR = "/opt/onestop-monitor"  # where the unit expects the clone


def unit_sections(text: str) -> dict[str, dict[str, str]]:
    """[Section] -> key -> value of a unit file (comments and blank lines skipped; a repeated key: last wins)."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"{UNIT.name}:{number}: not a key=value line: {line!r}"
        current[key.strip()] = value.strip()
    return sections


def test_the_unit_stops_the_way_the_supervisor_expects():
    service = unit_sections(UNIT.read_text(encoding="utf-8"))["Service"]
    assert service["KillMode"] == "mixed"  # the supervisor gets SIGTERM and stops its workers itself
    assert service["KillSignal"] == "SIGTERM"
    # the workers' grace plus the writer's flush must end before systemd's SIGKILL
    assert float(service["TimeoutStopSec"]) >= WORKER_STOP_GRACE_S + 10
    assert service["Restart"] == "on-failure"
    assert service["User"] not in ("", "root")
    assert service["WorkingDirectory"] == f"/var/lib/{service['StateDirectory']}"
    assert service["ReadWritePaths"] == service["WorkingDirectory"]


def test_the_unit_command_line_is_one_onestop_accepts():
    service = unit_sections(UNIT.read_text(encoding="utf-8"))["Service"]
    program, command, *args = shlex.split(service["ExecStart"])
    assert program == f"{INSTALL_DIR}/.venv/bin/onestop" and command == "run"
    ctx = main.commands["run"].make_context("run", list(args))  # raises on an unknown or bad option
    assert ctx.params["config_path"].startswith(service["WorkingDirectory"] + "/")


def test_systemd_analyze_verifies_the_unit(tmp_path):
    analyze = shutil.which("systemd-analyze")
    require("systemd-analyze (Debian package systemd)", analyze is not None, "apt-get install systemd")
    # verify checks that ExecStart exists: point the unit at this checkout's venv
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text(encoding="utf-8").replace(INSTALL_DIR, str(ROOT)), encoding="utf-8")
    r = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
