"""`onestop tickets`: import queue-ticket exports and show the column mappings."""

from __future__ import annotations

import time
from pathlib import Path

import click

from monitor.site.load import load_or_exit

CONFIG_OPTION = click.option("-c", "--config", "config_path", default="cameras.yaml", show_default=True,
                             help="Path to cameras.yaml.")


@click.group()
def tickets() -> None:
    """Queue-ticket data: import a kiosk or OpenCPS export, print a column mapping.

    Example: onestop tickets import may-so-2026-11-24.csv --mapping kiosk --feed kiosk
    """


@tickets.command("import")
@CONFIG_OPTION
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--mapping", required=True, help="kiosk, opencps, or a mapping YAML file (see `onestop tickets mapping`).")
@click.option("--feed", default=None, help="Feed id the tickets belong to (default: the mapping's name).")
def import_csv(config_path: str, csv_file: str, mapping: str, feed: str | None) -> None:
    """Import a CSV export; each bad line gets one error line, good lines are stored (exit 1 if any was bad).

    Importing the same file again stores nothing twice.

    Example: onestop tickets import export.csv --mapping opencps --feed opencps
    """
    from monitor.counters.ticket_feed import ingest, load_mapping, read_csv_rows
    from monitor.db.store import open_db
    from monitor.site.base import check_slug

    config = load_or_exit(config_path)
    feed = feed or (mapping if mapping in ("kiosk", "opencps") else Path(mapping).stem)
    try:
        check_slug(feed)
        rule = load_mapping(mapping)
        text = Path(csv_file).read_text(encoding="utf-8-sig")
        rows = list(read_csv_rows(text, rule, config.site.tz))
    except UnicodeDecodeError:
        raise click.ClickException(f"{csv_file}: not UTF-8 text; save the export as CSV UTF-8") from None
    except ValueError as err:
        raise click.ClickException(f"{csv_file}: {err}" if "\n" not in str(err) else str(err)) from None
    db = open_db(config.storage.database)
    try:
        result = ingest(db, config, feed, rows, time.time())
    finally:
        db.conn.close()
    for line in result.errors:
        click.echo(f"{csv_file}: {line}", err=True)
    click.echo(f"{csv_file}: {result.rows_ok} of {len(rows)} lines accepted ({len(result.good)} events stored, "
               f"{result.duplicates} lines already imported), {len(result.errors)} rejected")
    if result.errors:
        raise SystemExit(1)


@tickets.command("mapping")
@click.argument("name", type=click.Choice(["kiosk", "opencps"]))
def show_mapping(name: str) -> None:
    """Print a built-in column mapping as YAML, to copy into a file and edit.

    Example: onestop tickets mapping opencps > my-mapping.yaml
    """
    from monitor.counters.ticket_feed import mapping_yaml

    click.echo(mapping_yaml(name), nl=False)


def office_report(config, db_path: Path, first, last, fmt: str) -> bytes:  # noqa: ANN001 - Config, dates
    """The office report (`onestop report --by office`) rendered in the site language."""
    from monitor.counters.office_report import build_office_report, render_office_report
    from monitor.db.store import connect

    db = connect(db_path, readonly=True)
    try:
        report = build_office_report(config, db, first, last)
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    finally:
        db.conn.close()
    return render_office_report(report, fmt, config.site.language)


@tickets.command("from-truth")
@click.argument("truth_json", type=click.Path(exists=True, dir_okay=False))
@click.option("--start", required=True, help="Local date and time of the video's first second, 2026-11-24T08:00.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="CSV file to write.")
@click.option("--loops", default=1, show_default=True, type=click.IntRange(1, 1000),
              help="Office simulation: the video's tickets this many times back to back (a looping demo).")
@click.option("--first", default=1, show_default=True, type=click.IntRange(1, 10**7),
              help="Office simulation: the first ticket number.")
def from_truth(truth_json: str, start: str, output: str, loops: int, first: int) -> None:
    """Write the ticket export (kiosk columns) of a simulated office from its truth.json.

    Example: onestop tickets from-truth demo/truth.json --start 2026-11-24T08:00 -o demo/tickets.csv
    """
    import json
    from datetime import datetime

    from monitor.simulate.officesim import tickets_csv
    from monitor.simulate.tickets import truth_tickets_csv

    try:
        begin = datetime.fromisoformat(start).replace(tzinfo=None)
        truth = json.loads(Path(truth_json).read_text(encoding="utf-8"))
        if truth.get("generator") == "monitor.simulate.officesim":
            text = tickets_csv(truth, begin, loops, first)
        else:
            text = truth_tickets_csv(truth, begin)
    except ValueError as err:
        raise click.ClickException(f"{truth_json} / --start {start!r}: {err}") from None
    except (KeyError, TypeError, AttributeError) as err:
        raise click.ClickException(f"{truth_json}: not a simulator truth.json ({err!r})") from None
    Path(output).write_text(text, encoding="utf-8")
    click.echo(f"wrote {output} ({text.count(chr(10)) - 1} tickets)")
