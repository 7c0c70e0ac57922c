"""Live reload: the pure camera diff, the watcher, and a running `onestop run` applying config_write edits."""

from __future__ import annotations

import logging
import os
import signal
import textwrap
from pathlib import Path

import pytest

from monitor.site import write as cw
from monitor.site.config import load_config
from monitor.site.reload import RETIRE_GRACE_S, CameraDiff, ConfigWatcher, Reloader, diff_cameras

BASE = """\
site: {name: "Một cửa"}
defaults: {detect_fps: 5}
cameras:
  - {id: a, name: "A", streams: {main: a.mp4}}
  - {id: b, name: "B", streams: {main: b.mp4}}
"""


def configs(tmp_path: Path, after: str, before: str = BASE):
    (tmp_path / "old.yaml").write_text(before, encoding="utf-8")
    (tmp_path / "new.yaml").write_text(after, encoding="utf-8")
    return load_config(tmp_path / "old.yaml"), load_config(tmp_path / "new.yaml")


@pytest.mark.parametrize("after, expected", [
    (BASE, CameraDiff()),
    (BASE.replace('name: "A"', 'name: "A renamed"'), CameraDiff()),  # a name is not the worker's business
    (BASE.replace("main: a.mp4", "main: a2.mp4"), CameraDiff(restart=["a"])),
    (BASE.replace("main: b.mp4}", "main: b.mp4}, detect: {detect_fps: 2}"), CameraDiff(restart=["b"])),
    (BASE.replace("detect_fps: 5", "detect_fps: 3"), CameraDiff(restart=["a", "b"])),  # defaults reach both
    (BASE.replace('name: "B",', 'name: "B", enabled: false,'), CameraDiff(stop=["b"])),
    (BASE.replace("  - {id: b, name: \"B\", streams: {main: b.mp4}}\n", ""), CameraDiff(stop=["b"])),
    (BASE + '  - {id: c, name: "C", streams: {main: c.mp4}}\n', CameraDiff(start=["c"])),
    (BASE.replace("main: a.mp4}", "main: a.mp4}, zones: [{id: z, kind: motion, points: [[0,0],[1,0],[1,1]]}]"),
     CameraDiff(restart=["a"])),
    (BASE.replace('site: {name: "Một cửa"}', 'site: {name: "Một cửa", timezone: Asia/Bangkok}'),
     CameraDiff(restart=["a", "b"])),
])
def test_diff_cameras(tmp_path, after, expected):
    old, new = configs(tmp_path, after)
    assert diff_cameras(old, new) == expected


def test_enabling_a_disabled_camera_starts_it(tmp_path):
    old, new = configs(tmp_path, BASE, BASE.replace('name: "B",', 'name: "B", enabled: false,'))
    assert diff_cameras(old, new) == CameraDiff(start=["b"])


def test_a_new_password_in_the_secrets_file_restarts_the_camera(tmp_path):
    cfg = tmp_path / "cameras.yaml"
    cfg.write_text(BASE.replace("main: a.mp4", "main: 'rtsp://h/1'"), encoding="utf-8")
    old = cw.update_camera(cfg, cw.CameraInput(id="a", name="A", main="rtsp://h/1", username="u", password="one"))
    new = cw.update_camera(cfg, cw.CameraInput(id="a", name="A", main="rtsp://h/1", username="u", password="two"))
    assert diff_cameras(old, new) == CameraDiff(restart=["a"])


def test_watcher_reloads_changes_and_keeps_the_old_config_on_a_bad_file(tmp_path, caplog):
    cfg = tmp_path / "cameras.yaml"
    cfg.write_text(BASE, encoding="utf-8")
    watcher = ConfigWatcher(cfg, poll_s=2.0)
    assert watcher.poll(0.0) is None  # unchanged
    cfg.write_text(BASE.replace("main: a.mp4", "main: a2.mp4"), encoding="utf-8")
    assert watcher.poll(1.0) is None  # not due yet
    watcher.nudge()
    assert watcher.poll(1.1).camera("a").streams.main == "a2.mp4"
    cfg.write_text(BASE.replace("id: b", "id: B!"), encoding="utf-8")
    with caplog.at_level(logging.ERROR):
        assert watcher.poll(10.0) is None
        assert watcher.poll(20.0) is None  # logged once, not every poll
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "cameras[1].id" in lines[0] and "keeping the running configuration" in lines[0]


def test_the_watcher_hands_a_bad_file_to_on_error(tmp_path):
    cfg = tmp_path / "cameras.yaml"
    cfg.write_text(BASE, encoding="utf-8")
    errors: list[str] = []
    watcher = ConfigWatcher(cfg, poll_s=2.0, on_error=errors.append)
    cfg.write_text(BASE.replace("id: b", "id: B!"), encoding="utf-8")
    assert watcher.poll(10.0) is None
    assert len(errors) == 1 and errors[0].startswith("config reload: ") and "cameras[1].id" in errors[0]


class FakeProcess:
    """A worker process: alive until the test says it exited, or until killed (SIGTERM is only its stop request)."""

    def __init__(self):
        self.alive, self.terminated, self.killed = True, False, False

    def is_alive(self) -> bool:
        return self.alive

    def join(self, timeout: float | None = None) -> None:
        pass

    def terminate(self) -> None:
        self.terminated = True

    def kill(self) -> None:
        self.killed, self.alive = True, False


class Host:
    """What the supervisor gives the reloader: three callbacks, and the calls they saw."""

    def __init__(self):
        self.configs: list = []
        self.started: list[str] = []
        self.processes = {"a": FakeProcess(), "b": FakeProcess()}

    def reloader(self, config) -> Reloader:
        return Reloader(config, on_config=self.configs.append, start_worker=lambda cam: self.started.append(cam.id),
                        stop_worker=self.processes.get, poll_s=0.0)


def test_the_reloader_drives_the_workers_through_its_callbacks(tmp_path):
    cfg = tmp_path / "cameras.yaml"
    cfg.write_text(BASE, encoding="utf-8")
    host = Host()
    reloader = host.reloader(load_config(cfg))
    assert reloader.tick(0.0) is None and host.configs == []  # nothing changed
    cfg.write_text(BASE.replace("main: b.mp4", "main: b2.mp4") + '  - {id: c, name: "C", streams: {main: c.mp4}}\n',
                   encoding="utf-8")
    assert reloader.tick(1.0) == CameraDiff(start=["c"], restart=["b"])
    assert [c.camera("b").streams.main for c in host.configs] == ["b2.mp4"]
    assert host.started == ["c"]  # b waits for its old worker to exit
    host.processes["b"].alive = False
    reloader.tick(2.0)
    assert host.started == ["c", "b"] and not host.processes["a"].killed


def test_a_worker_that_does_not_stop_is_killed_after_the_grace(tmp_path):
    cfg = tmp_path / "cameras.yaml"
    cfg.write_text(BASE, encoding="utf-8")
    host = Host()  # a's worker never exits by itself
    reloader = host.reloader(load_config(cfg))
    cfg.write_text(BASE.replace("main: a.mp4", "main: a2.mp4"), encoding="utf-8")
    reloader.tick(1.0)
    reloader.tick(1.0 + RETIRE_GRACE_S - 0.1)
    assert host.started == [] and not host.processes["a"].killed
    reloader.tick(1.0 + RETIRE_GRACE_S)
    assert host.processes["a"].killed and host.started == ["a"]


# ---------------------------------------------------------------- a running system


@pytest.fixture
def running(tmp_path, test_videos):
    from harness import Onestop
    from support import free_port

    config = textwrap.dedent(f"""\
        # reload test site
        site: {{name: "Reload"}}
        storage: {{recordings: recordings, database: onestop.db}}
        cameras:
          - id: cam-a
            name: "A"
            streams: {{main: "{test_videos.sub}", loop: true}}
          - id: cam-b
            name: "B"
            streams: {{main: "{test_videos.sub}", loop: true}}
        """)
    app = Onestop(tmp_path, config, free_port())
    app.start()
    yield app
    if app.proc is not None and app.proc.poll() is None:
        os.killpg(app.proc.pid, signal.SIGKILL)
        app.proc.wait()


def online_pid(app, cam: str):
    row = app.camera(cam)
    return row.get("pid") if row.get("state") == "online" else None


@pytest.mark.slow
def test_live_reload_restarts_only_the_changed_worker(running, test_videos):
    app = running
    pid_a = app.wait("cam-a online", lambda: online_pid(app, "cam-a"), 60)
    pid_b = app.wait("cam-b online", lambda: online_pid(app, "cam-b"), 60)

    cw.update_camera(app.cfg, cw.CameraInput(id="cam-b", name="B", main=str(test_videos.main)))
    new_b = app.wait("cam-b restarted", lambda: (p := online_pid(app, "cam-b")) not in (None, pid_b) and p, 30)
    assert app.camera("cam-a")["pid"] == pid_a and app.camera("cam-a")["state"] == "online"

    cw.add_camera(app.cfg, cw.CameraInput(id="cam-c", name="C", main=str(test_videos.sub)))
    app.wait("cam-c started", lambda: online_pid(app, "cam-c"), 60)
    assert app.camera("cam-c")["name"] == "C"

    cw.remove_camera(app.cfg, "cam-a")
    app.wait("cam-a stopped", lambda: app.camera("cam-a").get("state") == "stopped", 40)
    assert app.camera("cam-b")["pid"] == new_b

    app.cfg.write_text(app.cfg.read_text(encoding="utf-8") + "  - {id: BAD}\n", encoding="utf-8")
    app.wait("the bad file logged", lambda: "keeping the running configuration" in app.log.read_text(), 15)
    assert app.camera("cam-b")["pid"] == new_b and app.stop() == 0
    log = app.log.read_text()
    assert "config reloaded: 0 started, 0 stopped, 1 restarted, 1 unchanged" in log
    assert "config reloaded: 1 started, 0 stopped, 0 restarted, 2 unchanged" in log
