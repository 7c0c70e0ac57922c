"""`onestop analyze --video CAMERA=FILE ...`: the office analysis of one synchronised file per camera."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from monitor.site.config import Config

__all__ = ["analyze_office_cli", "parse_videos"]


def parse_videos(config: Config, values: tuple[str, ...]) -> dict[str, Path]:
    """CAMERA=FILE pairs checked against the config and the disk; click.BadParameter names the bad one."""
    from monitor.counters.analyze_office import needed_cameras
    from monitor.site.office import office_of

    known = [c.id for c in config.cameras]
    out: dict[str, Path] = {}
    for value in values:
        cam, sep, file = value.partition("=")
        if not sep or not cam or not file:
            raise click.BadParameter(f"{value!r} is not CAMERA=FILE (e.g. sanh=sanh.mp4)", param_hint="--video")
        if cam not in known:
            raise click.BadParameter(f"{value!r}: unknown camera {cam!r} (known: {', '.join(known)})", param_hint="--video")
        if cam in out:
            raise click.BadParameter(f"{value!r}: camera {cam!r} is given twice", param_hint="--video")
        path = Path(file)
        if not path.is_file():
            raise click.BadParameter(f"{value!r}: file {file!r} does not exist", param_hint="--video")
        out[cam] = path
    for cam, users in needed_cameras(office_of(config)).items():
        if cam not in out:
            raise click.BadParameter(f"no video for camera {cam!r}, which {', '.join(users)} need(s); "
                                     f"add --video {cam}=FILE", param_hint="--video")
    return out


def analyze_office_cli(config: Config, values: tuple[str, ...], json_out: str | None, csv_out: str | None) -> None:
    """Parse the videos, analyse them with a progress bar, write the JSON and/or CSV, print a summary line."""
    from monitor.counters.analyze import height_warnings, hidden_warning, zone_warnings
    from monitor.counters.analyze_office import analyze_office_files, office_csv

    videos = parse_videos(config, values)
    with click.progressbar(length=1000 * len(videos), label="analysing", file=sys.stderr) as bar:
        done = dict.fromkeys(videos, 0)
        again: set[str] = set()

        def progress(camera: str, fraction: float) -> None:
            if fraction > 1.0 and camera not in again:  # its second pass: the markers were off (detect_checked)
                again.add(camera)
                bar.length, bar.finished = bar.length + 1000, False
                bar.label = f"analysing again ({', '.join(sorted(again))}: person_height corrected)"
            step = int(fraction * 1000) - done[camera]
            if step > 0:
                bar.update(step)
                done[camera] += step

        try:
            result = analyze_office_files(videos, config, progress)
        except (ValueError, OSError) as err:
            raise click.ClickException(str(err)) from None
    if json_out:
        _write(json_out, json.dumps(result, ensure_ascii=False, indent=1))
    if csv_out:
        _write(csv_out, office_csv(result))
    if not json_out and not csv_out:
        _write("-", office_csv(result))
    for c in result["counters"]:
        wait = "-" if c["mean_wait_s"] is None else f"{c['mean_wait_s']:.0f} s"
        click.echo(f"{c['id']}  {c['name']}: {c['served']} served, mean wait {wait}", err=True)
        if c["staff_hidden"]:
            click.echo(hidden_warning(f"counter {c['id']} ({c['seat']})"), err=True)
    for camera_id in videos:
        for warning in zone_warnings(config.camera(camera_id)):
            click.echo(warning, err=True)
        check = result["cameras"][camera_id]["height_check"]
        for warning in height_warnings(camera_id, check["factor"], check["analysed_with"], check["from"]):
            click.echo(warning, err=True)


def _write(target: str, text: str) -> None:
    if target == "-":
        click.echo(text, nl=False)
    else:
        Path(target).write_text(text, encoding="utf-8")
        click.echo(f"wrote {target}", err=True)
