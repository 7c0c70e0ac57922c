"""The recording settings of cameras.yaml: the per-camera mode, segment_s and continuous_days, each wrong value
one line naming file, line, field and what is valid; the check-config summary shows the mode."""

from __future__ import annotations

import textwrap

import pytest

from monitor.site.config import ConfigError, load_config, summary


def write(tmp_path, camera_extra: str = "", top: str = "") -> object:
    path = tmp_path / "cameras.yaml"
    path.write_text(textwrap.dedent("""\
        site: {name: t}
        %s
        cameras:
          - id: cam
            name: Cam
            streams: {main: a.mp4}
            %s
        """) % (top, camera_extra), encoding="utf-8")
    return path


def test_the_default_mode_is_events_and_the_defaults_are_sensible(tmp_path):
    config = load_config(write(tmp_path))
    cam = config.cameras[0]
    assert cam.recording == "events"
    assert cam.settings(config.defaults).segment_s == 60
    assert config.retention.continuous_days == 7 and config.retention.clips_days == 30
    assert "recording:" not in summary(config)


@pytest.mark.parametrize("mode", ["opening_hours", "always"])
def test_continuous_modes_load_and_show_in_the_summary(tmp_path, mode):
    config = load_config(write(tmp_path, f"recording: {mode}", "defaults: {segment_s: 30}\nretention: {continuous_days: 14}"))
    assert config.cameras[0].recording == mode
    assert config.cameras[0].settings(config.defaults).segment_s == 30
    assert config.retention.continuous_days == 14
    assert f"recording: {mode}" in summary(config)


@pytest.mark.parametrize(("camera_extra", "top", "line"), [
    ("recording: sometimes", "", "cameras.yaml:7: cameras[0].recording: 'sometimes' is not one of events, "
                                 "opening_hours, always"),
    ("detect: {segment_s: 1}", "", "cameras.yaml:7: cameras[0].detect.segment_s: must be at least 2, got 1"),
    ("", "defaults: {segment_s: 1000}", "cameras.yaml:2: defaults.segment_s: must be at most 600, got 1000"),
    ("", "retention: {continuous_days: 0}", "cameras.yaml:2: retention.continuous_days: must be greater than 0, got 0"),
])
def test_a_wrong_value_is_one_line(tmp_path, camera_extra, top, line):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, camera_extra, top))
    assert len(err.value.problems) == 1
    problem = err.value.problems[0]
    assert "\n" not in problem and problem.endswith(line)
