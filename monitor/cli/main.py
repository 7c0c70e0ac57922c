"""The `onestop` command line."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from monitor.site.load import load_or_exit

CONFIG_OPTION = click.option(
    "-c", "--config", "config_path", default="cameras.yaml", show_default=True,
    help="Path to cameras.yaml.",
)


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
    from monitor.counters.analyze import zone_warnings
    from monitor.site.config import summary
    from monitor.site.office import office_of, office_summary

    config = load_or_exit(config_path)
    click.echo(summary(config))
    click.echo(office_summary(office_of(config)))
    for camera in config.cameras:
        for warning in zone_warnings(camera):
            click.echo(warning, err=True)


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

    config = load_or_exit(config_path)
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
    from monitor.db.store import connect, list_events

    config = load_or_exit(config_path)
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
@click.option("--variant", type=click.Choice(["office", "classic", "varied"]), default="office", show_default=True,
              help="office: a hall camera and two counter cameras, five named counters in two fields, two queues, "
                   "tickets.csv from the truth (the demo); classic: two cameras of one counter each; varied: one hall "
                   "whose camera, counters, furniture, crowd, start and lighting are drawn from the seed.")
@click.option("--start", "start", default=None,
              help="office: local date-time of the video's first second for tickets.csv (default today 08:00).")
def simulate(out_dir: str, minutes: float, seed: int, variant: str, start: str | None) -> None:
    """Render a simulated one-stop office with ground truth.

    Example: onestop simulate --out demo --minutes 3 --seed 1
    """
    if variant == "office":
        from monitor.simulate.officesim import OfficeSimConfig, simulate_office3

        begin = None
        if start is not None:
            try:
                begin = datetime.fromisoformat(start).replace(tzinfo=None)
            except ValueError:
                raise click.BadParameter(f"{start!r} is not a date-time like 2026-11-24T08:00", param_hint="--start") from None
        click.echo(f"wrote {simulate_office3(Path(out_dir), OfficeSimConfig(minutes=minutes, seed=seed), begin)}")
        return
    if variant == "varied":
        from monitor.simulate.varied import VariedConfig, simulate_hall

        try:
            result = simulate_hall(Path(out_dir), VariedConfig(minutes=minutes, seed=seed))
        except ValueError as err:
            raise click.ClickException(str(err)) from None
        click.echo(f"wrote {result}")
        return
    from monitor.simulate import SimConfig, simulate_office

    result = simulate_office(Path(out_dir), SimConfig(minutes=minutes, seed=seed))
    click.echo(f"wrote {result}")


@main.command()
@click.argument("video", required=False, type=click.Path(exists=True, dir_okay=False))
@CONFIG_OPTION
@click.option("--camera", "camera_id", help="Camera whose zones and settings apply (with VIDEO).")
@click.option("--video", "videos", multiple=True, metavar="CAMERA=FILE",
              help="The whole office instead: one synchronised file per camera, repeated (no VIDEO, no --camera).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, writable=True),
              help="Write the JSON here ('-' for standard output).")
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False, writable=True),
              help="With --video: one line per counter, field and queue here ('-' for standard output).")
def analyze(video: str | None, config_path: str, camera_id: str | None, videos: tuple[str, ...],
            json_out: str | None, csv_out: str | None) -> None:
    """Run detection and counter analytics on video files as fast as they decode.

    Example: onestop analyze demo/quay-1-sub.mp4 -c demo/cameras.yaml --camera quay-1 --json out.json

    Example: onestop analyze -c demo/cameras.yaml --video sanh=demo/sanh.mp4 --video quay-a=demo/quay-a.mp4
    --video quay-b=demo/quay-b.mp4 --json office.json --csv office.csv
    """
    config = load_or_exit(config_path)
    if videos:
        from monitor.cli.analyze_office import analyze_office_cli

        if video is not None or camera_id is not None:
            raise click.UsageError("give either VIDEO with --camera, or --video CAMERA=FILE for each camera, not both")
        analyze_office_cli(config, videos, json_out, csv_out)
        return
    if video is None or camera_id is None:
        raise click.UsageError("give VIDEO and --camera, or --video CAMERA=FILE for each camera")
    if csv_out is not None:
        raise click.UsageError("--csv goes with --video CAMERA=FILE (the office analysis)")
    from monitor.counters.analyze import analyze_file, height_warnings, hidden_warning, zone_warnings

    known = [c.id for c in config.cameras]
    if camera_id not in known:
        raise click.BadParameter(f"unknown camera {camera_id!r} (known: {', '.join(known)})", param_hint="--camera")
    with click.progressbar(length=1000, label="analysing", file=sys.stderr) as bar:
        done = [0]

        def progress(fraction: float) -> None:
            if fraction > 1.0 and bar.length == 1000:  # a second pass: the markers were off (detect_checked)
                bar.length, bar.label, bar.finished = 2000, "analysing again, person_height corrected", False
            step = int(fraction * 1000) - done[0]
            if step > 0:
                bar.update(step)
                done[0] += step

        try:
            result = analyze_file(Path(video), config, camera_id, progress=progress)
        except (ValueError, OSError) as err:
            raise click.ClickException(f"{video}: {err}") from None
    text = json.dumps(result, ensure_ascii=False, indent=1)
    if json_out and json_out != "-":
        Path(json_out).write_text(text, encoding="utf-8")
        w = result["waiting"]
        wait = f"at least {w['mean_wait_s']:.0f} s (everyone served was waiting before the video)" \
            if w["mean_wait_lower_bound"] else f"{w['mean_wait_s']:.0f} s"
        click.echo(f"{camera_id}: {result['duration_s']:.0f} s analysed, {len(result['sessions'])} service sessions, "
                   f"{len(result['absences'])} absences, mean wait {wait} -> {json_out}")
    else:
        click.echo(text)
    for seat in result["staff_hidden"]:
        click.echo(hidden_warning(f"{camera_id}/{seat}"), err=True)
    for warning in zone_warnings(config.camera(camera_id)):
        click.echo(warning, err=True)
    check = result["height_check"]
    for warning in height_warnings(camera_id, check["factor"], check["analysed_with"], check["from"]):
        click.echo(warning, err=True)


def _day(value: str, name: str):  # noqa: ANN202 - date
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-24", param_hint=name) from None


@main.command()
@CONFIG_OPTION
@click.option("--from", "day_from", required=True, help="First day, YYYY-MM-DD.")
@click.option("--to", "day_to", required=True, help="Last day (inclusive), YYYY-MM-DD.")
@click.option("--camera", help="Only this camera.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "html"]), default="csv", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file (default: standard output).")
@click.option("--by", "by", type=click.Choice(["camera", "office"]), default="camera", show_default=True,
              help="camera: per camera's counters; office: per named counter, field and queue, with tickets beside.")
def report(config_path: str, day_from: str, day_to: str, camera: str | None, fmt: str, output: str | None,
           by: str) -> None:
    """Waiting and service report per counter per day and per hour (CSV opens in Excel).

    Example: onestop report --from 2026-11-01 --to 2026-11-30 --format csv -o thang-11.csv
    """
    from monitor.counters.render import render_report
    from monitor.counters.reports import build_report
    from monitor.db.store import connect, store_report_cache

    config = load_or_exit(config_path)
    first, last = _day(day_from, "--from"), _day(day_to, "--to")
    db_path = Path(config.storage.database)
    if not db_path.exists():
        raise click.ClickException(f"{db_path}: no database yet (run `onestop run` first)")
    if by == "office":
        from monitor.cli.tickets import office_report

        _emit(office_report(config, db_path, first, last, fmt), output)
        return
    db = connect(db_path, readonly=True)
    try:
        report = build_report(config, db, first, last, camera)
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    finally:
        db.conn.close()
    store_report_cache(db_path, report.cache_entries)  # complete days: the next report over them is fast
    _emit(render_report(report, fmt, config.site.language), output)


def _emit(data: bytes, output: str | None) -> None:
    if output:
        Path(output).write_bytes(data)
        click.echo(f"wrote {output}", err=True)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


# ---------------------------------------------------------------- web UI accounts


def _check(check, value: str, param: str) -> str:  # noqa: ANN001 - one of monitor.db.users.check_*
    try:
        return check(value)
    except ValueError as err:
        raise click.BadParameter(str(err).split(": ", 1)[-1], param_hint=param) from None


@main.group()
def users() -> None:
    """Manage web UI accounts: viewer (reports), supervisor (events, clips, reports), admin (everything).

    Example: onestop users add lan --role supervisor
    """


@users.command("add")
@CONFIG_OPTION
@click.argument("name")
@click.option("--role", required=True, metavar="[viewer|supervisor|admin]",
              help="viewer: reports only; supervisor: events, clips and reports; admin: everything.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.option("--exists-ok", is_flag=True, help="If NAME already exists, leave it unchanged and exit 0 (scripts).")
def users_add(config_path: str, name: str, role: str, password_stdin: bool, exists_ok: bool) -> None:
    """Create an account; asks for the password twice unless --password-stdin.

    Example: onestop users add lan --role supervisor --password-stdin < password.txt
    """
    import time

    from monitor.db import users as accounts
    from monitor.db.audit import record_cli
    from monitor.db.store import open_db

    _check(accounts.check_username, name, "NAME")
    _check(accounts.check_role, role, "--role")
    config = load_or_exit(config_path)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    db = open_db(config.storage.database)
    try:
        if exists_ok and accounts.get_user(db, name) is not None:
            click.echo(f"user {name} already exists; left unchanged")
            return
        accounts.add_user(db, name, password, role, now=time.time())
        record_cli(db, "user_change", name, f"added ({role})")
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    finally:
        db.conn.close()
    click.echo(f"added {name} ({role})")


@users.command("list")
@CONFIG_OPTION
def users_list(config_path: str) -> None:
    """List the accounts with their role, language and last login (site time).

    Example: onestop users list -c cameras.yaml
    """
    from monitor.db.store import open_db
    from monitor.db.users import list_users

    config = load_or_exit(config_path)
    if not Path(config.storage.database).exists():
        click.echo("no users")
        return
    db = open_db(config.storage.database)  # applies the users migration to a database from before it
    try:
        rows = list_users(db)
    finally:
        db.conn.close()
    tz = ZoneInfo(config.site.timezone)

    def when(ts: float | None) -> str:
        return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M") if ts else "never"

    if not rows:
        click.echo("no users")
    for u in rows:
        click.echo(f"{u.username:<32} {u.role:<10} {u.language or '-':<4} last login {when(u.last_login)}")


@users.command("remove")
@CONFIG_OPTION
@click.argument("name")
def users_remove(config_path: str, name: str) -> None:
    """Delete an account; its open web sessions end at their next request.

    Example: onestop users remove lan
    """
    from monitor.db.audit import record_cli
    from monitor.db.store import open_db
    from monitor.db.users import remove_user

    config = load_or_exit(config_path)
    db = open_db(config.storage.database)
    try:
        remove_user(db, name)
        record_cli(db, "user_change", name, "removed")
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    finally:
        db.conn.close()
    click.echo(f"removed {name}")


from monitor.cli import onvif as cli_onvif  # noqa: E402 - commands live in their own modules

main.add_command(cli_onvif.discover)
main.add_command(cli_onvif.probe)
from monitor.upkeep.prune import prune_command  # noqa: E402 - registered here, defined with its module

main.add_command(prune_command)
from monitor.cli.tickets import tickets as tickets_group  # noqa: E402

main.add_command(tickets_group)
from monitor.cli.hub import hub as hub_group  # noqa: E402 - the district hub (issue 15)

main.add_command(hub_group)
from monitor.cli.cases import case as case_group  # noqa: E402 - complaint cases (issue 14)

main.add_command(case_group)


if __name__ == "__main__":
    main()

