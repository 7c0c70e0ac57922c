"""config_write: comment-keeping edits, validation before replacing, backups, crash safety, the secrets file."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from monitor.site import write as cw
from monitor.site.config import ConfigError, load_config, summary
from monitor.site.secrets import read_secrets, secrets_path

SECRET = "pw-w8#zq"
YAML = textwrap.dedent("""\
    # Office cameras - maintained by the district IT officer
    site: {name: "Một cửa"}   # the office
    cameras:
      - id: quay-1            # by the window
        name: "Quầy 1"
        streams: {main: a.mp4}
    """)


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    path = tmp_path / "cameras.yaml"
    path.write_text(YAML, encoding="utf-8")
    return path


def test_add_keeps_comments_moves_password_to_a_0600_secrets_file(cfg):
    config = cw.add_camera(cfg, cw.CameraInput(id="quay-2", name="Quầy 2", main=f"rtsp://admin:{SECRET}@10.0.0.2/1"))
    text = cfg.read_text(encoding="utf-8")
    assert "# Office cameras - maintained by the district IT officer" in text
    assert "# by the window" in text and "# the office" in text
    assert SECRET not in text and "password: ${ONESTOP_QUAY_2_PASSWORD}" in text
    assert "main: rtsp://10.0.0.2/1" in text
    secrets = secrets_path(cfg)
    assert secrets.name == "cameras.secrets.env" and stat.S_IMODE(secrets.stat().st_mode) == 0o600
    assert read_secrets(secrets) == {"ONESTOP_QUAY_2_PASSWORD": SECRET}
    assert config.camera("quay-2").stream_url("main") == "rtsp://admin:pw-w8%23zq@10.0.0.2/1"
    # a fresh load (worker, supervisor) finds the password without any exported variable
    assert load_config(cfg).camera("quay-2").stream_url("main") == "rtsp://admin:pw-w8%23zq@10.0.0.2/1"
    assert SECRET not in summary(load_config(cfg))


def test_environment_wins_over_the_secrets_file(cfg, monkeypatch):
    cw.add_camera(cfg, cw.CameraInput(id="q2", name="Q2", main="rtsp://h/1", username="u", password=SECRET))
    monkeypatch.setenv("ONESTOP_Q2_PASSWORD", "from-env")
    assert load_config(cfg).camera("q2").stream_url("main") == "rtsp://u:from-env@h/1"


def test_invalid_result_is_refused_and_the_file_untouched(cfg):
    before = cfg.read_bytes()
    with pytest.raises(ConfigError) as err:
        cw.add_camera(cfg, cw.CameraInput(id="Bad Id", name="x", main="a.mp4"))
    assert err.value.problems[0].startswith(f"{cfg}:") and "cameras[1].id: must be a slug" in err.value.problems[0]
    with pytest.raises(ConfigError, match="already exists"):
        cw.add_camera(cfg, cw.CameraInput(id="quay-1", name="x", main="a.mp4"))
    with pytest.raises(ConfigError, match="at least 3 points"):
        cw.set_zones(cfg, "quay-1", [{"id": "z", "kind": "motion", "points": [[0, 0], [1, 1]]}], [])
    assert cfg.read_bytes() == before
    assert not cw.backups(cfg) and sorted(p.name for p in cfg.parent.iterdir()) == [".cameras.yaml.lock", "cameras.yaml"]


def test_backups_are_made_and_pruned(cfg):
    for i in range(cw.KEEP_BACKUPS + 2):
        cw.set_enabled(cfg, "quay-1", i % 2 == 0)
    backups = cw.backups(cfg)
    assert len(backups) == cw.KEEP_BACKUPS
    assert load_config(backups[-1]).camera("quay-1").enabled is False  # the version before the last save
    assert backups[0].read_text(encoding="utf-8").startswith("# Office cameras")


def test_update_remove_and_zones(cfg):
    cw.update_camera(cfg, cw.CameraInput(id="quay-1", name="Quầy Một", main="rtsp://10.0.0.1/a", sub="rtsp://10.0.0.1/b",
                                         username="op", password=SECRET))
    cw.update_camera(cfg, cw.CameraInput(id="quay-1", name="Quầy Một", main="rtsp://10.0.0.1/a", username="op"))
    assert read_secrets(secrets_path(cfg)) == {"ONESTOP_QUAY_1_PASSWORD": SECRET}  # None keeps the password
    cam = cw.set_zones(cfg, "quay-1", [{"id": "ghe", "kind": "staff_seat", "points": [[0.1, 0.1], [0.5, 0.1], [0.5, 0.55557]],
                                        "person_height": [0.4, 0.25]}], [[[0, 0], [0.2, 0], [0.2, 0.2]]]).camera("quay-1")
    assert cam.streams.sub is None and cam.zones[0].points[2] == (0.5, 0.5556) and cam.zones[0].person_height == (0.4, 0.25)
    assert "points: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5556]]" in cfg.read_text(encoding="utf-8")
    with pytest.raises(KeyError):
        cw.set_enabled(cfg, "nope", True)
    assert cw.remove_camera(cfg, "quay-1").cameras == []
    assert read_secrets(secrets_path(cfg)) == {}
    assert "# Office cameras" in cfg.read_text(encoding="utf-8")


def test_set_heights_changes_only_the_markers(cfg):
    """The height check's correction written in: person_height set (or added after the points) on the zones named,
    every other zone, key and comment as it was; a zone the camera lacks, or a height over the frame, is refused."""
    cfg.write_text(YAML + "\n".join([
        "    zones:",
        "      - id: ghe           # the clerk's chair",
        "        kind: staff_seat",
        "        points: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]",
        "      - id: cho",
        "        kind: waiting_area",
        "        points: [[0, 0.5], [1, 0.5], [1, 1]]",
        "        person_height: [0.3, 0.2]", ""]), encoding="utf-8")
    before = load_config(cfg).camera("quay-1")
    cam = cw.set_heights(cfg, "quay-1", {"cho": (0.441, 0.29412)}).camera("quay-1")
    assert cam.zones[1].person_height == (0.441, 0.2941) and cam.zones[0] == before.zones[0]
    text = cfg.read_text(encoding="utf-8")
    assert "person_height: [0.441, 0.2941]" in text and "# the clerk's chair" in text and "# by the window" in text
    cam = cw.set_heights(cfg, "quay-1", {"ghe": (0.5, 0.45)}).camera("quay-1")
    assert cam.zones[0].person_height == (0.5, 0.45)
    lines = cfg.read_text(encoding="utf-8").splitlines()
    assert lines[lines.index("        points: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]") + 1] == "        person_height: [0.5, 0.45]"
    saved = cfg.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="camera quay-1 has no zone nope"):
        cw.set_heights(cfg, "quay-1", {"nope": (0.4, 0.2)})
    with pytest.raises(ConfigError):
        cw.set_heights(cfg, "quay-1", {"cho": (1.4, 0.2)})
    with pytest.raises(KeyError):
        cw.set_heights(cfg, "nope", {"cho": (0.4, 0.2)})
    assert cfg.read_text(encoding="utf-8") == saved  # nothing written by a refused change


def test_a_password_with_a_line_break_is_refused(cfg):
    with pytest.raises(ValueError, match="line breaks"):
        cw.add_camera(cfg, cw.CameraInput(id="q2", name="Q2", main="rtsp://h/1", username="u", password="a\nB=c"))
    assert not secrets_path(cfg).exists()


CRASH = """
import os, signal, sys
from pathlib import Path
from monitor.site import write as cw
cw.before_replace = lambda tmp: os.kill(os.getpid(), signal.SIGKILL)  # die between write and rename
cw.add_camera(Path(sys.argv[1]), cw.CameraInput(id="quay-2", name="Quầy 2", main="b.mp4"))
"""


def test_a_crash_between_write_and_rename_leaves_the_old_file(cfg):
    before = cfg.read_bytes()
    proc = subprocess.run([sys.executable, "-c", CRASH, str(cfg)], capture_output=True, timeout=60)
    assert proc.returncode == -9, proc.stderr
    assert cfg.read_bytes() == before
    assert [c.id for c in load_config(cfg).cameras] == ["quay-1"]
    leftovers = [p for p in cfg.parent.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1 and "quay-2" in leftovers[0].read_text(encoding="utf-8")  # the candidate was complete
    cw.add_camera(cfg, cw.CameraInput(id="quay-2", name="Quầy 2", main="b.mp4"))  # the next save works
    assert [c.id for c in load_config(cfg).cameras] == ["quay-1", "quay-2"]


def test_split_credentials_and_secret_name():
    assert cw.split_credentials("rtsp://ad%40min:p%3Aw@h:554/x") == ("rtsp://h:554/x", "ad@min", "p:w")
    assert cw.split_credentials("rtsp://h/x") == ("rtsp://h/x", None, None)
    assert cw.secret_name("quay-1_b") == "ONESTOP_QUAY_1_B_PASSWORD"
    assert os.sep not in cw.secret_name("a")
