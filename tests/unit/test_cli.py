"""The `onestop` command as a real process: clear one-line errors, exit codes, never a traceback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap

import pytest

from monitor.db.store import Writer, open_db

GOOD = textwrap.dedent("""\
    site: {name: "Một cửa"}
    cameras:
      - id: quay-1
        name: "Quầy 1"
        streams: {main: "rtsp://10.0.0.5/live"}
        zones:
          - {id: seat, kind: staff_seat, points: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]}
      - id: quay-2
        name: "Quầy 2"
        streams: {main: video.mp4}
    """)


def onestop(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monitor.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=60)


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("name: \"Quầy 2\"", "name: \"Quầy 2\"\n    fps: 10",
         "cameras.yaml:10: cameras[1].fps: unknown field 'fps'"),
        ("rtsp://10.0.0.5/live", "http://10.0.0.5/live",
         "cameras.yaml:5: cameras[0].streams.main: expected an rtsp:// or rtsps:// URL or a file path"),
        ("id: quay-2", "id: quay-1", "cameras.yaml:8: cameras[1].id: duplicate camera id 'quay-1'"),
        ("[[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]", "[[0.1, 0.1], [0.5, 0.1]]",
         "cameras.yaml:7: cameras[0].zones[0].points: a polygon needs at least 3 points"),
    ],
    ids=["unknown-field", "bad-url", "duplicate-id", "invalid-polygon"],
)
def test_check_config_bad_input_is_one_clear_line(tmp_path, old, new, expected):
    (tmp_path / "cameras.yaml").write_text(GOOD.replace(old, new), encoding="utf-8")
    for command in (["check-config"], ["run", "--no-web"], ["events"]):
        r = onestop(*command, cwd=tmp_path)  # default -c is ./cameras.yaml
        assert r.returncode == 1, (command, r.stdout, r.stderr)
        assert r.stderr.strip().splitlines() == [r.stderr.strip().splitlines()[0]]
        assert r.stderr.startswith(expected), r.stderr
        assert "Traceback" not in r.stderr + r.stdout


def test_check_config_good_file(tmp_path):
    (tmp_path / "cameras.yaml").write_text(GOOD, encoding="utf-8")
    r = onestop("check-config", cwd=tmp_path)
    assert r.returncode == 0 and "quay-1" in r.stdout and "Cameras: 2" in r.stdout
    assert "head height" not in r.stderr


def test_check_config_warns_of_a_camera_without_person_height(tmp_path):
    """GOOD's quay-1 has a staff seat and no person_height anywhere: people are sized by a default camera; quay-2
    has no zones and says nothing."""
    (tmp_path / "cameras.yaml").write_text(GOOD, encoding="utf-8")
    r = onestop("check-config", cwd=tmp_path)
    assert r.returncode == 0
    assert r.stderr.startswith("warning: quay-1: no zone has person_height: people are sized as by a default camera")
    assert r.stderr.count("\n") == 1


def test_check_config_warns_of_a_camera_at_head_height(tmp_path):
    """A waiting area whose markers put near and far heads on one row: a warning naming it, not an error."""
    street = "      - {id: hall, kind: waiting_area, points: [[0, 0.53], [1, 0.53], [1, 1], [0, 1]], " \
             "person_height: [0.86, 0.06]}\n"
    (tmp_path / "cameras.yaml").write_text(GOOD.replace("  - id: quay-2", street + "  - id: quay-2"), encoding="utf-8")
    r = onestop("check-config", cwd=tmp_path)
    assert r.returncode == 0 and "Cameras: 2" in r.stdout
    assert r.stderr.startswith("warning: quay-1/hall: person_height says the camera is at about head height")
    # by that calibration the seat (0.4 of the frame tall, at row 0.5) is drawn around a person: said too
    assert [line.split(":")[1] for line in r.stderr.splitlines()] == [" quay-1/hall", " quay-1/seat"], r.stderr


def test_check_config_warns_of_a_seat_drawn_around_a_person(tmp_path):
    """With a calibration, a staff seat as tall as the person on it is a body drawn, not a floor footprint: a
    warning naming it (and only it: the thin spot is a footprint), not an error."""
    zones = ("      - {id: spot, kind: service_spot, points: [[0.1, 0.62], [0.5, 0.62], [0.5, 0.7], [0.1, 0.7]]}\n"
             "      - {id: hall, kind: waiting_area, points: [[0, 0.75], [1, 0.75], [1, 1], [0, 1]], "
             "person_height: [0.45, 0.4]}\n")
    text = GOOD.replace("  - id: quay-2", zones + "  - id: quay-2", 1)
    assert text != GOOD
    (tmp_path / "cameras.yaml").write_text(text, encoding="utf-8")
    r = onestop("check-config", cwd=tmp_path)
    assert r.returncode == 0 and "Cameras: 2" in r.stdout
    assert r.stderr.startswith("warning: quay-1/seat: the zone is drawn as tall as a person there"), r.stderr
    assert r.stderr.count("\n") == 1


def test_check_config_warns_of_a_waiting_area_over_the_counter(tmp_path):
    """A waiting area drawn up over the service spot: one warning naming the area and what it covers, not an error."""
    zones = ("      - {id: spot, kind: service_spot, points: [[0.1, 0.62], [0.5, 0.62], [0.5, 0.7], [0.1, 0.7]]}\n"
             "      - {id: hall, kind: waiting_area, points: [[0, 0.55], [1, 0.55], [1, 1], [0, 1]], "
             "person_height: [0.45, 0.4]}\n")
    (tmp_path / "cameras.yaml").write_text(GOOD.replace("  - id: quay-2", zones + "  - id: quay-2", 1), encoding="utf-8")
    r = onestop("check-config", cwd=tmp_path)
    assert r.returncode == 0 and "Cameras: 2" in r.stdout
    lines = r.stderr.splitlines()  # GOOD's seat (0.4 of the frame tall) is a body by the hall's calibration
    assert [line.split(":")[1] for line in lines] == [" quay-1/seat", " quay-1/hall"], r.stderr
    assert lines[1].startswith("warning: quay-1/hall: the waiting area covers spot: it is drawn around the people")


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["events", "--since", "24/11/2026"], "--since"),
        (["events", "--camera", "quay-9"], "unknown camera 'quay-9' (known: quay-1, quay-2)"),
        (["events", "--limit", "0"], "--limit"),
        (["run", "--port", "70000"], "--port"),
    ],
)
def test_bad_options_are_usage_errors(tmp_path, args, fragment):
    (tmp_path / "cameras.yaml").write_text(GOOD, encoding="utf-8")
    r = onestop(*args, cwd=tmp_path)
    assert r.returncode == 2 and fragment in r.stderr and "Traceback" not in r.stderr


def test_run_on_a_busy_port_is_a_clear_error(tmp_path):
    (tmp_path / "cameras.yaml").write_text(GOOD.replace("enabled: true", ""), encoding="utf-8")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        cfg = GOOD.replace("streams: {main: \"rtsp://10.0.0.5/live\"}", "enabled: false\n    streams: {main: \"rtsp://10.0.0.5/live\"}")
        cfg = cfg.replace("streams: {main: video.mp4}", "enabled: false\n    streams: {main: video.mp4}")
        (tmp_path / "cameras.yaml").write_text(cfg, encoding="utf-8")
        r = onestop("run", "--port", str(port), cwd=tmp_path)
    assert r.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in r.stderr and "Traceback" not in r.stderr


def test_events_json_has_absolute_paths(tmp_path):
    (tmp_path / "cameras.yaml").write_text(GOOD, encoding="utf-8")
    assert json.loads(onestop("events", "--json", cwd=tmp_path).stdout) == []
    db = open_db(tmp_path / "onestop.db")
    w = Writer(db)
    w.apply([
        {"type": "event_start", "camera": "quay-1", "id": "e1", "start": 1_790_000_000.0, "clip": True, "t": 0},
        {"type": "event_end", "camera": "quay-1", "id": "e1", "end": 1_790_000_012.0, "t": 0},
        {"type": "clip", "camera": "quay-1", "id": "e1", "path": "quay-1/2026-09-22/e1.mp4", "duration": 27.0, "t": 0},
        {"type": "event_start", "camera": "quay-2", "id": "e2", "start": 1_790_000_100.0, "clip": True, "t": 0},
    ])
    db.conn.close()
    out = json.loads(onestop("events", "--json", cwd=tmp_path).stdout)
    assert [e["id"] for e in out] == ["e2", "e1"]
    e1 = out[1]
    assert e1["clip"] == str(tmp_path / "recordings" / "quay-1/2026-09-22/e1.mp4")
    assert e1["start"] == "2026-09-21T21:13:20+07:00" and e1["start"].endswith("+07:00") and e1["thumbnail"] is None
    only = json.loads(onestop("events", "--json", "--camera", "quay-2", "--since", "2026-09-21T21:14", cwd=tmp_path).stdout)
    assert [e["id"] for e in only] == ["e2"]
    text = onestop("events", cwd=tmp_path).stdout
    assert "quay-1" in text and "12 s" in text
