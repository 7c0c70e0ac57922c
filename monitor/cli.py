"""The `onestop` command line."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from monitor.config import Config, ConfigError, load_config

CONFIG_OPTION = click.option(
    "-c", "--config", "config_path", default="cameras.yaml", show_default=True,
    help="Path to cameras.yaml.",
)


def _load(config_path: str) -> Config:
    """Load the config or exit 1 with one line per problem."""
    try:
        return load_config(config_path)
    except ConfigError as err:
        for line in err.problems:
            click.echo(line, err=True)
        sys.exit(1)


@click.group()
@click.version_option(package_name="onestop-monitor")
def main() -> None:
    """Camera monitoring for one-stop public-service counters."""


@main.command("check-config")
@CONFIG_OPTION
def check_config(config_path: str) -> None:
    """Validate cameras.yaml and print a short summary.

    Example: onestop check-config -c cameras.yaml
    """
    from monitor.config import summary

    click.echo(summary(_load(config_path)))


@main.command()
@CONFIG_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the web UI listens on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Web UI port.")
@click.option("--no-web", is_flag=True, help="Run the cameras without the web UI.")
def run(config_path: str, host: str, port: int, no_web: bool) -> None:
    """Run every enabled camera, the database writer and the web UI until Ctrl-C.

    Example: onestop run -c cameras.yaml --port 8000
    """
    from monitor.supervisor import Supervisor

    config = _load(config_path)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        code = Supervisor(config, host=host, port=port, web=not no_web).run()
    except OSError as err:
        raise click.ClickException(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    sys.exit(code)


def _parse_since(value: str | None, tz: ZoneInfo) -> float | None:
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO date or date-time (e.g. 2026-11-24 or 2026-11-24T08:30)", param_hint="--since"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return dt.timestamp()


@main.command()
@CONFIG_OPTION
@click.option("--camera", help="Only this camera id.")
@click.option("--since", help="Only events starting at or after this ISO date/time (site time zone).")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def events(config_path: str, camera: str | None, since: str | None, limit: int, as_json: bool) -> None:
    """List recorded events, newest first.

    Example: onestop events --camera quay-1 --since 2026-11-24 --json
    """
    from monitor.store import connect, list_events

    config = _load(config_path)
    tz = ZoneInfo(config.site.timezone)
    known = [c.id for c in config.cameras]
    if camera is not None and camera not in known:
        raise click.BadParameter(f"unknown camera {camera!r} (known: {', '.join(known)})", param_hint="--camera")
    start = _parse_since(since, tz)
    db_path = Path(config.storage.database)
    if not db_path.exists():
        rows = []
    else:
        db = connect(db_path, readonly=True)
        rows = list_events(db, camera=camera, since=start, limit=limit)
        db.conn.close()
    rec = Path(config.storage.recordings)
    out = [
        {
            "id": r["id"],
            "camera": r["camera"],
            "start": datetime.fromtimestamp(r["start"], tz).isoformat(),
            "end": datetime.fromtimestamp(r["end"], tz).isoformat() if r["end"] else None,
            "peak": r["peak"],
            "clip": str(rec / r["clip_path"]) if r["clip_path"] else None,
            "clip_state": r["clip_state"],
            "clip_duration": r["clip_duration"],
            "thumbnail": str(rec / r["thumb_path"]) if r["thumb_path"] else None,
        }
        for r in rows
    ]
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if not out:
        click.echo("no events")
    for e in out:
        length = "ongoing" if e["end"] is None else f"{datetime.fromisoformat(e['end']).timestamp() - datetime.fromisoformat(e['start']).timestamp():.0f} s"
        click.echo(f"{e['start'][:19]}  {e['camera']:<12} {length:>8}  {e['clip_state']:<9} {e['clip'] or '-'}")


@main.command()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Folder to write into.")
@click.option("--minutes", default=5.0, show_default=True, type=click.FloatRange(0.1, 600))
@click.option("--seed", default=1, show_default=True, type=int)
def simulate(out_dir: str, minutes: float, seed: int) -> None:
    """Render a simulated one-stop office (two counter cameras) with ground truth.

    Example: onestop simulate --out demo --minutes 3 --seed 1
    """
    from monitor.simulate import SimConfig, simulate_office

    result = simulate_office(Path(out_dir), SimConfig(minutes=minutes, seed=seed))
    click.echo(f"wrote {result}")


if __name__ == "__main__":
    main()
