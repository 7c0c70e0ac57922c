"""cameras.yaml: the root example, path and env handling, redaction, and line-numbered errors."""

from __future__ import annotations

import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.site.config import Camera, ConfigError, Defaults, load_config, redact, summary

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-Pa55"


def write(tmp_path: Path, text: str, name: str = "cameras.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: str | Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == "\n".join(info.value.problems)
    return info.value.problems


def test_root_example_loads_without_env():
    config = load_config(ROOT / "cameras.yaml")
    assert config.path == ROOT / "cameras.yaml"
    assert [c.id for c in config.cameras] == ["quay-1", "quay-2"]
    assert all(c.enabled and c.zones for c in config.cameras)
    assert config.storage.recordings == ROOT / "recordings"
    assert config.storage.database == ROOT / "onestop.db"
    assert config.cameras[0].stream_url("main") == str(ROOT / "demo" / "quay-1-main.mp4")
    assert config.cameras[0].is_file("main") and config.cameras[0].streams.loop


def test_relative_and_absolute_paths(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    (tmp_path / "conf").mkdir()
    path = write(tmp_path / "conf", f"""\
        site: {{name: "Một cửa"}}
        storage: {{recordings: clips, database: {elsewhere / 'x.db'}}}
        cameras:
          - id: quay-1
            name: a
            streams: {{main: videos/a.mp4, sub: {elsewhere / 'b.mp4'}}}
        """)
    config = load_config(path)
    base = tmp_path / "conf"
    assert config.path == base / "cameras.yaml"
    assert config.storage.recordings == base / "clips"
    assert config.storage.database == elsewhere / "x.db"
    cam = config.cameras[0]
    assert cam.stream_url("main") == str(base / "videos" / "a.mp4")
    assert cam.stream_url("sub") == str(elsewhere / "b.mp4")
    assert cam.stream_url("main", tmp_path) == str(tmp_path / "videos" / "a.mp4")


@pytest.mark.parametrize(
    ("streams", "creds", "expected_main", "expected_sub"),
    [
        (  # credentials from env, URL-quoted, inserted into both rtsp URLs
            {"main": "rtsp://${CAM_HOST}:554/Streaming/Channels/101",
             "sub": "rtsp://${CAM_HOST}:554/Streaming/Channels/102"},
            {"username": "admin", "password": "${CAM_PASSWORD}"},
            "rtsp://admin:p%40ss%3Aw%2Frd@10.0.0.5:554/Streaming/Channels/101",
            "rtsp://admin:p%40ss%3Aw%2Frd@10.0.0.5:554/Streaming/Channels/102",
        ),
        (  # username from env, no password
            {"main": "rtsps://${CAM_HOST}/live"},
            {"username": "${CAM_USER}"},
            "rtsps://viewer@10.0.0.5/live",
            None,
        ),
        (  # a URL that already carries user info is left alone
            {"main": "rtsp://other:pw@${CAM_HOST}/x"},
            {"username": "admin", "password": "${CAM_PASSWORD}"},
            "rtsp://other:pw@10.0.0.5/x",
            None,
        ),
        (  # no credentials configured
            {"main": "rtsp://${CAM_HOST}/cam/realmonitor?channel=1&subtype=0"},
            {},
            "rtsp://10.0.0.5/cam/realmonitor?channel=1&subtype=0",
            None,
        ),
    ],
)
def test_env_expansion_and_credentials(monkeypatch, tmp_path, streams, creds, expected_main, expected_sub):
    monkeypatch.setenv("CAM_HOST", "10.0.0.5")
    monkeypatch.setenv("CAM_USER", "viewer")
    monkeypatch.setenv("CAM_PASSWORD", "p@ss:w/rd")
    cam = Camera.model_validate({"id": "quay-1", "name": "a", "streams": streams, **creds})
    assert cam.stream_url("main", tmp_path) == expected_main
    assert cam.stream_url("sub", tmp_path) == expected_sub
    assert not cam.is_file("main")


def test_file_source_ignores_credentials_and_expands_env(monkeypatch, tmp_path):
    monkeypatch.setenv("DEMO_DIR", "demo")
    cam = Camera.model_validate({"id": "c", "name": "c", "username": "admin", "password": "x",
                                 "streams": {"main": "${DEMO_DIR}/a.mp4", "loop": True}})
    assert cam.is_file("main") and not cam.is_file("sub")
    assert cam.stream_url("main", tmp_path) == str(tmp_path / "demo" / "a.mp4")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rtsp://admin:pw@10.0.0.5:554/x", "rtsp://***@10.0.0.5:554/x"),
        ("rtsp://admin:p@ss@10.0.0.5/x", "rtsp://***@10.0.0.5/x"),
        ("rtsps://user@host/live", "rtsps://***@host/live"),
        ("rtsp://host/x?user=admin&password=abc&channel=1", "rtsp://host/x?user=admin&password=***&channel=1"),
        ("rtsp://h/x?PWD=1&pass=2&token=3&api_key=4", "rtsp://h/x?PWD=***&pass=***&token=***&api_key=***"),
        ("rtsp://10.0.0.5/cam/realmonitor?channel=1&subtype=0", "rtsp://10.0.0.5/cam/realmonitor?channel=1&subtype=0"),
        ("demo/office-main.mp4", "demo/office-main.mp4"),
    ],
)
def test_redact(url, expected):
    assert redact(url) == expected


def test_summary_never_shows_a_password(monkeypatch, tmp_path):
    monkeypatch.setenv("CAM1_HOST", "10.0.0.5")
    monkeypatch.setenv("CAM1_PASSWORD", SECRET)
    path = write(tmp_path, f"""\
        site: {{name: "Bộ phận một cửa"}}
        cameras:
          - id: quay-1
            name: "Quầy 1"
            streams:
              main: rtsp://${{CAM1_HOST}}:554/live?password=${{CAM1_PASSWORD}}
              sub: rtsp://admin:${{CAM1_PASSWORD}}@${{CAM1_HOST}}/sub
            username: admin
            password: ${{CAM1_PASSWORD}}
            zones:
              - {{id: seat, kind: staff_seat, points: [[0, 0], [0.5, 0], [0.5, 0.5]]}}
              - {{id: spot, kind: service_spot, points: [[0, 0.5], [0.5, 0.5], [0.5, 1]]}}
          - id: quay-2
            name: "Quầy 2"
            enabled: false
            streams: {{main: "rtsp://10.0.0.6/user={SECRET}_password={SECRET}"}}
            password: "{SECRET}"
        """)
    config = load_config(path)
    assert SECRET in config.cameras[0].stream_url("main")  # the real URL does carry it...
    text = summary(config)
    assert SECRET not in text  # ...the summary never does
    assert "Bộ phận một cửa" in text and "Asia/Ho_Chi_Minh" in text
    assert "2 (1 enabled, 1 disabled)" in text
    assert "zones: 2 (staff_seat, service_spot)" in text
    assert "sub=-" in text


def test_per_camera_overrides_merge():
    defaults = Defaults.model_validate({"detect_fps": 6, "motion": {"pixel_threshold": 30}})
    cam = Camera.model_validate({
        "id": "c", "name": "c", "streams": {"main": "a.mp4"},
        "detect": {"detect_fps": 4, "motion": {"min_area": 0.01}, "events": {"merge_gap_s": 2}},
    })
    merged = cam.settings(defaults)
    assert merged.detect_fps == 4
    assert merged.detect_width == 320
    assert merged.motion.pixel_threshold == 30  # from the file defaults, not the built-in 25
    assert merged.motion.min_area == 0.01
    assert merged.events.merge_gap_s == 2 and merged.events.min_length_s == 1.0
    plain = Camera.model_validate({"id": "d", "name": "d", "streams": {"main": "a.mp4"}})
    assert plain.settings(defaults) == defaults


def test_root_example_override():
    config = load_config(ROOT / "cameras.yaml")
    quay2 = config.cameras[1].settings(config.defaults)
    assert quay2.detect_fps == 4 and quay2.motion.min_area == 0.005
    assert config.cameras[0].settings(config.defaults) == config.defaults


@pytest.mark.parametrize(
    ("when", "is_open"),
    [
        (datetime(2026, 11, 23, 7, 30), True),  # Monday, first minute
        (datetime(2026, 11, 23, 7, 29), False),
        (datetime(2026, 11, 23, 11, 30), False),  # the end is exclusive
        (datetime(2026, 11, 23, 12, 0), False),  # lunch
        (datetime(2026, 11, 27, 16, 59), True),  # Friday
        (datetime(2026, 11, 28, 9, 0), False),  # Saturday
        (datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc), True),  # 09:00 in Ho Chi Minh City
        (datetime(2026, 11, 23, 10, 30, tzinfo=timezone.utc), False),  # 17:30 in Ho Chi Minh City
        (datetime(2026, 11, 22, 20, 0, tzinfo=timezone.utc), False),  # Sunday 20:00 UTC = Monday 03:00
        (datetime(2026, 11, 23, 0, 30, tzinfo=timezone.utc), True),  # Monday 07:30 local
    ],
)
def test_opening_hours(when, is_open):
    config = load_config(ROOT / "cameras.yaml")
    assert config.site.is_open(when) is is_open


CAM = """\
cameras:
  - id: quay-1
    name: a
    streams: {main: a.mp4}
"""

BAD_FILES = [
    pytest.param(
        "site: {name: x}\ndefaults:\n  fps: 3\n" + CAM,
        "cameras.yaml:3: defaults.fps: ", "unknown field 'fps' (valid: detect_fps, detect_width,",
        id="unknown-field",
    ),
    pytest.param(
        "site: {name: x}\n" + CAM + "    detect:\n      motion: {threshold: 3}\n",
        "cameras.yaml:7: cameras[0].detect.motion.threshold: ", "(valid: pixel_threshold, min_area",
        id="unknown-override-field",
    ),
    pytest.param(
        "site: {name: x}\n" + CAM.replace("a.mp4", "http://admin:pw@10.0.0.5/x"),
        "cameras.yaml:5: cameras[0].streams.main: ",
        "expected an rtsp:// or rtsps:// URL or a file path, got 'http://***@10.0.0.5/x'",
        id="bad-url-scheme",
    ),
    pytest.param(
        "site: {name: x}\n" + CAM + "  - id: quay-1\n    name: b\n    streams: {main: b.mp4}\n",
        "cameras.yaml:6: cameras[1].id: ", "duplicate camera id 'quay-1' (first used by cameras[0])",
        id="duplicate-camera-id",
    ),
    pytest.param(
        "site: {name: x}\n" + CAM + "    zones:\n"
        "      - {id: z, kind: motion, points: [[0, 0], [1, 0], [1, 1]]}\n"
        "      - {id: z, kind: motion, points: [[0, 0], [1, 0], [1, 1]]}\n",
        "cameras.yaml:8: cameras[0].zones[1].id: ", "duplicate zone id 'z'",
        id="duplicate-zone-id",
    ),
    pytest.param(
        "site: {name: x}\n" + CAM + "    zones:\n      - id: seat\n        kind: staff_seat\n"
        "        points: [[0.1, 0.2], [0.4, 0.2]]\n",
        "cameras.yaml:9: cameras[0].zones[0].points: ", "a polygon needs at least 3 points, got 2",
        id="polygon-two-points",
    ),
    pytest.param(
        "site: {name: x}\n" + CAM + "    masks:\n      - [[0.1, 0.2], [0.4, 0.2]]\n",
        "cameras.yaml:7: cameras[0].masks[0]: ", "a polygon needs at least 3 points",
        id="mask-two-points",
    ),
    pytest.param(
        "site: {name: x}\n" + CAM + "    zones:\n      - id: seat\n        kind: staff_seat\n"
        "        points:\n          - [0.1, 0.2]\n          - [0.4, 0.2]\n          - [1.4, 0.6]\n",
        "cameras.yaml:12: cameras[0].zones[0].points[2]: ", "coordinates must be between 0 and 1, got 1.4",
        id="coordinate-out-of-range",
    ),
    pytest.param(
        "site: {name: x}\n" + CAM + "    zones:\n      - id: seat\n        kind: seat\n"
        "        points: [[0.1, 0.2], [0.4, 0.2], [0.4, 0.6]]\n",
        "cameras.yaml:8: cameras[0].zones[0].kind: ",
        "'seat' is not one of staff_seat, service_spot, waiting_area, motion",
        id="bad-zone-kind",
    ),
    pytest.param(
        "site: {name: x}\n" + CAM + "    username: admin\n    password: ${ONESTOP_TEST_UNSET_PW}\n",
        "cameras.yaml:7: cameras[0].password: ", "environment variable ONESTOP_TEST_UNSET_PW is not set",
        id="missing-env-var",
    ),
    pytest.param(
        "site:\n  name: x\n cameras: []\n",
        "cameras.yaml:3: ", "YAML syntax error: ",
        id="yaml-syntax",
    ),
    pytest.param(
        "", "cameras.yaml: ", "file is empty",
        id="empty-file",
    ),
    pytest.param(
        "- site\n- cameras\n", "cameras.yaml:1: ", "the top level must be a mapping",
        id="top-level-list",
    ),
    pytest.param(
        "site:\n  name: x\n  timezone: Asia/Saigon_City\n" + CAM,
        "cameras.yaml:3: site.timezone: ", "'Asia/Saigon_City' is not a known IANA time zone",
        id="bad-timezone",
    ),
    pytest.param(
        "site:\n  name: x\n  timezone: " + "x" * 300 + "\n" + CAM,
        "cameras.yaml:3: site.timezone: ", "'" + "x" * 60 + "' is not a known IANA time zone",
        id="timezone-longer-than-a-file-name",
    ),
    pytest.param(
        "site:\n  name: x\n  opening_hours:\n    periods:\n      - '07:30-11:30'\n      - '17:00-07:30'\n" + CAM,
        "cameras.yaml:6: site.opening_hours.periods[1]: ", "start must be before end",
        id="period-backwards",
    ),
    pytest.param(
        "site:\n  name: x\n  opening_hours:\n    periods: ['07:30-11:30', '11:00-12:00']\n" + CAM,
        "cameras.yaml:4: site.opening_hours.periods: ", "periods '07:30-11:30' and '11:00-12:00' overlap",
        id="periods-overlap",
    ),
    pytest.param(
        "site:\n  timezone: Asia/Ho_Chi_Minh\n" + CAM,
        "cameras.yaml:1: site.name: ", "required field is missing",
        id="missing-field",
    ),
    pytest.param(
        "site: {name: x}\ndefaults:\n  detect_fps: 60\n" + CAM,
        "cameras.yaml:3: defaults.detect_fps: ", "must be at most 30",
        id="out-of-range",
    ),
    pytest.param(
        "site: {name: x}\n" + CAM.replace("quay-1", "Quầy 1"),
        "cameras.yaml:3: cameras[0].id: ", "must be a slug",
        id="bad-slug",
    ),
]


@pytest.mark.parametrize(("text", "prefix", "fragment"), BAD_FILES)
def test_bad_files(monkeypatch, tmp_path, text, prefix, fragment):
    (tmp_path / "cameras.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ONESTOP_TEST_UNSET_PW", raising=False)
    problems = problems_of("cameras.yaml")
    assert len(problems) == 1, problems
    assert problems[0].startswith(prefix), problems
    assert fragment in problems[0][len(prefix):], problems


def test_missing_file_uses_the_given_path(tmp_path):
    assert problems_of(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}: file not found"]


def test_every_problem_is_reported_at_once(tmp_path):
    path = write(tmp_path, """\
        site:
          name: x
          language: fr
        defaults:
          detect_width: 10
        cameras:
          - id: quay-1
            streams: {main: "ftp://h/x"}
        """)
    problems = problems_of(path)
    prefixes = [p.split(": ")[0] + ": " + p.split(": ")[1] for p in problems]
    assert sorted(prefixes) == sorted([
        f"{path}:3: site.language",
        f"{path}:5: defaults.detect_width",
        f"{path}:7: cameras[0].name",
        f"{path}:8: cameras[0].streams.main",
    ])


def test_errors_never_echo_a_password(tmp_path):
    path = write(tmp_path, f"""\
        site: {{name: x}}
        cameras:
          - id: quay-1
            name: a
            streams: {{main: "http://admin:{SECRET}@h/x"}}
            password: [{SECRET}]
        """)
    problems = problems_of(path)
    assert len(problems) == 2
    assert not any(SECRET in p for p in problems)


def test_cli_check_config_prints_summary():
    result = CliRunner().invoke(main, ["check-config", "-c", str(ROOT / "cameras.yaml")])
    assert result.exit_code == 0, result.output
    assert "Bộ phận một cửa UBND phường Bến Nghé" in result.stdout
    assert "quay-1" in result.stdout and "quay-2" in result.stdout


def test_cli_check_config_reports_problems(tmp_path):
    path = write(tmp_path, "site: {name: x}\n" + CAM + "    zones:\n      - {id: z, kind: seat, points: []}\n")
    result = CliRunner().invoke(main, ["check-config", "-c", str(path)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines == [
        f"{path}:7: cameras[0].zones[0].kind: 'seat' is not one of staff_seat, service_spot, waiting_area, motion",
        f"{path}:7: cameras[0].zones[0].points: a polygon needs at least 3 points, got 0",
    ]
    assert result.stdout == ""
