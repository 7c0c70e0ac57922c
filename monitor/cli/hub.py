"""`onestop hub`: the district service (subscriber + dashboard) and its accounts."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import click

DB_OPTION = click.option("--db", "db_path", default="hub.db", show_default=True, type=click.Path(path_type=Path),
                         help="The hub's SQLite database.")


@click.group()
def hub() -> None:
    """The district hub: stores what the sites publish and serves the district dashboard.

    Example: onestop hub run --broker mqtt://127.0.0.1:1883 --username hub --password-env HUB_MQTT_PASSWORD
    """


@hub.command("run")
@DB_OPTION
@click.option("--broker", default="mqtt://127.0.0.1:1883", show_default=True,
              help="The district broker: mqtt://host:port (loopback) or mqtts://host:port.")
@click.option("--username", default=None, help="The hub's broker account (deploy/mosquitto/district.acl: hub).")
@click.option("--password-env", default="HUB_MQTT_PASSWORD", show_default=True,
              help="Environment variable holding the broker password.")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="District CA certificate, for an mqtts:// broker.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the dashboard listens on.")
@click.option("--port", default=8100, show_default=True, type=click.IntRange(1, 65535), help="Dashboard port.")
@click.option("--topic-root", default="onestop", show_default=True,
              help="Topics the sites publish under; a province over district bridges: d/+/onestop.")
@click.option("--keep-rollups-days", default=35, show_default=True, type=click.IntRange(1, 3650),
              help="Days the minute roll-ups and message ids are kept (hourly retention job).")
@click.option("--keep-daily-years", default=5, show_default=True, type=click.IntRange(1, 100),
              help="Years the daily report rows and closed alerts are kept.")
def hub_run(db_path: Path, broker: str, username: str | None, password_env: str, ca_file: Path | None,
            host: str, port: int, topic_root: str, keep_rollups_days: int, keep_daily_years: int) -> None:
    """Subscribe to onestop/+/# and serve the dashboard until Ctrl-C.

    Example: onestop hub run --db /var/lib/onestop/hub.db --username hub --port 8100
    """
    from waitress import serve

    from monitor.hub.retention import HubRetention
    from monitor.hub.service import HubBroker, HubService
    from monitor.hub.store import topic_root as check_root
    from monitor.hub.web import create_hub_app

    parts = urlsplit(broker)
    try:
        broker_port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
    except ValueError:
        broker_port = 0
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname or not broker_port:
        raise click.BadParameter(f"{broker!r}: expected mqtt://host:port or mqtts://host:port", param_hint="--broker")
    try:
        check_root(topic_root)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--topic-root") from None
    password = os.environ.get(password_env) if username else None
    if username and password is None:
        raise click.ClickException(f"environment variable {password_env} (the broker password) is not set")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    service = HubService(HubBroker(parts.hostname, broker_port, username, password,
                                   ca_file if parts.scheme == "mqtts" else None, topic_root=topic_root), db_path,
                         HubRetention(keep_rollups_days, keep_daily_years)).start()
    try:
        serve(create_hub_app(db_path), host=host, port=port, threads=8)
    except OSError as err:
        raise click.ClickException(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    finally:
        service.stop()
        click.echo(f"hub stopped: {service.counts.stored} stored, {service.counts.duplicate} duplicates, "
                   f"{service.counts.dropped} dropped", err=True)


@hub.command("add-user")
@DB_OPTION
@click.argument("name")
@click.option("--role", default="viewer", show_default=True, metavar="[viewer|supervisor|admin]",
              help="Every role sees the dashboard; kept for the site UI's meaning of roles.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def hub_add_user(db_path: Path, name: str, role: str, password_stdin: bool) -> None:
    """Create a dashboard account; asks for the password twice unless --password-stdin.

    Example: onestop hub add-user huyen --password-stdin < password.txt
    """
    from monitor.db import users as accounts
    from monitor.hub.store import open_hub_db

    try:
        accounts.check_username(name)
        accounts.check_role(role)
    except ValueError as err:
        raise click.BadParameter(str(err)) from None
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else click.prompt(
        "Password", hide_input=True, confirmation_prompt=True)
    db = open_hub_db(db_path)
    try:
        accounts.add_user(db, name, password, role, now=time.time())
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    finally:
        db.conn.close()
    click.echo(f"added {name} ({role})")
