"""`onestop case`: list complaint cases, export one as a ZIP, verify an exported ZIP."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from monitor.site.load import load_or_exit

CONFIG_OPTION = click.option("-c", "--config", "config_path", default="cameras.yaml", show_default=True,
                             help="Path to cameras.yaml.")


@click.group("case")
def case() -> None:
    """Complaint cases: list them, export one as evidence, verify an export.

    Example: onestop case verify case-3.zip
    """


@case.command("list")
@CONFIG_OPTION
def list_cases(config_path: str) -> None:
    """One line per case: id, status, hold, time range, cameras, title.

    Example: onestop case list -c cameras.yaml
    """
    from datetime import datetime

    from monitor.db.cases import list_cases as query
    from monitor.db.store import open_db

    config = load_or_exit(config_path)
    db = open_db(config.storage.database)
    try:
        rows = query(db)
    finally:
        db.conn.close()
    tz = config.site.tz
    for c in rows:
        span = f"{datetime.fromtimestamp(c.t0, tz):%Y-%m-%d %H:%M}-{datetime.fromtimestamp(c.t1, tz):%H:%M}"
        click.echo(f"{c.id:>4}  {c.status:<6}  {'held' if c.held else 'released':<8}  {span}  {','.join(c.cameras)}  {c.title}")


def _local(value: str, tz: object, name: str) -> float:
    """'YYYY-MM-DD HH:MM[:SS]' in the site's time zone as unix seconds; a one-line error otherwise."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(value).replace(tzinfo=tz).timestamp()  # type: ignore[arg-type]
    except ValueError:
        raise click.BadParameter(f"expected a local time like '2026-11-24 08:30', got {value!r}", param_hint=name) from None


@case.command("open")
@CONFIG_OPTION
@click.option("--title", required=True, help="What the complaint is about.")
@click.option("--from", "start", required=True, help="Start, local time: '2026-11-24 08:30'.")
@click.option("--to", "end", required=True, help="End, local time: '2026-11-24 09:15'.")
@click.option("--counter", "counters", multiple=True, help="A counter id (repeatable): its seat, spot and queue cameras.")
@click.option("--camera", "cameras", multiple=True, help="A camera id (repeatable).")
def open_case(config_path: str, title: str, start: str, end: str, counters: tuple[str, ...],
              cameras: tuple[str, ...]) -> None:
    """Open a case (its footage is held from now on); audited as user 'cli'. Prints the case id.

    Example: onestop case open --title "Phản ánh quầy 3" --from "2026-11-24 08:30" --to "2026-11-24 09:15" --counter quay-3
    """
    from monitor.db import audit
    from monitor.db.cases import CaseError, NewCase, audit_target, create_case, sources_of
    from monitor.db.store import open_db

    config = load_or_exit(config_path)
    t0, t1 = _local(start, config.site.tz, "--from"), _local(end, config.site.tz, "--to")
    db = open_db(config.storage.database)
    try:
        pairs = sources_of(config, counters, cameras)
        new = NewCase(title, t0, t1, tuple(dict.fromkeys(cam for cam, _c in pairs)))
        case_id = create_case(db, new, audit.CLI_USER, time.time(), pairs)
        audit.record_cli(db, "case_open", audit_target(case_id), f"{title[:100]} ({', '.join(new.cameras)})")
    except CaseError as err:
        raise click.ClickException(str(err)) from None
    finally:
        db.conn.close()
    click.echo(f"case {case_id} opened and held: {', '.join(new.cameras)}")


@case.command("export")
@CONFIG_OPTION
@click.argument("case_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="ZIP to write (default: case-ID.zip).")
def export(config_path: str, case_id: int, output: str | None) -> None:
    """Write a case's clips, notes, audit extract and manifest (SHA-256 of every file) to a ZIP; audited as user 'cli'.

    Example: onestop case export 3 -o case-3.zip
    """
    from monitor.cases.export import ExportError, export_to_path
    from monitor.db import audit
    from monitor.db.cases import audit_target
    from monitor.db.store import open_db

    config = load_or_exit(config_path)
    path = Path(output or f"case-{case_id}.zip")
    db = open_db(config.storage.database)
    try:
        if db.execute("select 1 from cases where id = ?", [case_id]).fetchone() is None:
            raise click.ClickException(f"case {case_id}: no such case (see `onestop case list`)")
        audit.record_cli(db, "case_export", audit_target(case_id), f"zip {path.name}")
        result = export_to_path(config, db, case_id, path, time.time(), audit.CLI_USER)
    except ExportError as err:
        raise click.ClickException(str(err)) from None
    except OSError as err:
        raise click.ClickException(f"{path}: {err.strerror or err}") from None
    finally:
        db.conn.close()
    click.echo(f"{path}: {result.files} files, {result.bytes} bytes, {result.masked} masked, "
               f"{result.missing} recordings missing; manifest SHA-256 {result.manifest_sha256}")


@case.command("verify")
@click.argument("zip_file", type=click.Path(dir_okay=False))
def verify(zip_file: str) -> None:
    """Check every file of a case ZIP against its manifest; exit 0 when intact, 1 naming the first bad file.

    The same check without this program: unzip FILE.zip -d DIR && cd DIR && sha256sum -c SHA256SUMS

    Example: onestop case verify case-3.zip
    """
    from monitor.cases.verify import verify_zip

    verdict = verify_zip(Path(zip_file))
    if verdict.problem is not None:
        click.echo(f"{zip_file}: {verdict.problem}", err=True)
        sys.exit(1)
    click.echo(f"{zip_file}: intact, {verdict.files} files, {verdict.bytes} bytes; "
               f"manifest SHA-256 {verdict.manifest_sha256}")
