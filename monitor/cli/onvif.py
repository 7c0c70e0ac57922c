"""`onestop discover` and `onestop probe`: find ONVIF cameras and read their streams."""

from __future__ import annotations

import json
import os
from urllib.parse import urlsplit

import click

from monitor.devices import onvif
from monitor.devices.wsdiscovery import WS_DISCOVERY_PORT

# Event times come from this computer's clock while cameras burn their own into the picture;
# past a few seconds the two visibly disagree when a supervisor compares a clip with its event.
CLOCK_WARN_S = 5.0


def parse_hostport(text: str, default_port: int, option: str) -> tuple[str, int]:
    """HOST, HOST:PORT, [IPv6]:PORT or a URL -> (host, port); click.BadParameter naming the option."""
    raw = text.strip()
    parts = urlsplit(raw if "://" in raw else f"//{raw}")
    if raw.count(":") > 1 and not raw.startswith("[") and "://" not in raw:
        return raw, default_port  # a bare IPv6 address
    try:
        host, port = parts.hostname, parts.port or default_port
    except ValueError:
        host, port = None, None
    if not host or not port:
        raise click.BadParameter(
            f"{text!r} is not HOST or HOST:PORT with a port 1-65535 (e.g. 192.168.1.64:80)", param_hint=option
        )
    return host, port


def _password(password: str | None, password_env: str | None) -> str:
    if password is not None and password_env is not None:
        raise click.UsageError("give --password or --password-env, not both")
    if password_env is not None:
        value = os.environ.get(password_env)
        if value is None:
            raise click.ClickException(f"--password-env: environment variable {password_env} is not set")
        return value
    if password is not None:
        return password
    return click.prompt("Camera password", hide_input=True, err=True)


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]


@click.command("discover")
@click.option("--timeout", type=click.FloatRange(0, min_open=True), default=onvif.DISCOVER_TIMEOUT_S,
              show_default=True, help="Seconds to wait for answers.")
@click.option("--to", "to", metavar="HOST[:PORT]",
              help=f"Send the probe to one address (unicast, port {WS_DISCOVERY_PORT} by default) instead of "
                   "multicast; for networks that block multicast.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
def discover(timeout: float, to: str | None, as_json: bool) -> None:
    """Find ONVIF cameras on the local network (WS-Discovery).

    Lists each camera's address, model and name where it says them, and its device service URL,
    which `onestop probe` takes.

    Example: onestop discover --timeout 5
    """
    target = parse_hostport(to, WS_DISCOVERY_PORT, "--to") if to else None
    try:
        found = onvif.discover(timeout=timeout, to=target)
    except onvif.OnvifError as err:
        raise click.ClickException(str(err)) from None
    if as_json:
        click.echo(json.dumps([d.to_json() for d in found], indent=2, ensure_ascii=False))
        return
    if not found:
        where, hint = (f"at {to}", "") if to else ("on the local network (multicast)", ", or try --to HOST")
        click.echo(f"No ONVIF camera answered {where} within {timeout:g} s. Check that this computer is on the "
                   f"cameras' network and that ONVIF discovery is enabled on them{hint}.")
        return
    rows = [["ADDRESS", "MANUFACTURER", "MODEL", "NAME", "DEVICE SERVICE URL"]]
    rows += [[d.address, d.manufacturer or "-", d.model or "-", d.name or "-", d.device_url or "-"] for d in found]
    click.echo("\n".join(_table(rows)))
    click.echo(f"{len(found)} camera(s). Next: onestop probe HOST:PORT --user USER --password-env VAR")


def _clock_line(offset: float | None) -> str:
    if offset is None:
        return "unknown (the camera did not say its time)"
    side = "ahead of" if offset >= 0 else "behind"
    line = f"camera is {abs(offset):g} s {side} this computer"
    return line + ("  <- set NTP on the camera" if abs(offset) > CLOCK_WARN_S else "")


def _streams(profiles: list[onvif.Profile]) -> tuple[onvif.Profile | None, onvif.Profile | None]:
    try:
        return onvif.pick_streams(profiles)
    except onvif.OnvifError:
        return None, None


def _human(result: onvif.DeviceProbe) -> str:
    main, sub = _streams(result.profiles)
    lines = [
        f"Camera        {onvif.hostport(result.host, result.port)}",
        f"Manufacturer  {result.manufacturer or '-'}",
        f"Model         {result.model or '-'}",
        f"Serial        {result.serial or '-'}",
        f"Firmware      {result.firmware or '-'}",
        f"Clock         {_clock_line(result.time_offset_s)}",
        "Profiles",
    ]
    roles = {id(main): "main", id(sub): "sub"}
    rows = [["TOKEN", "NAME", "SIZE", "CODEC", "FPS", "USE AS"]]
    rows += [[p.token, p.name, f"{p.width}x{p.height}", p.encoding or "-", f"{p.fps:g}" if p.fps else "-",
              roles.get(id(p), "-")] for p in result.profiles]
    for profile, row in zip([None, *result.profiles], _table(rows)):
        lines.append(f"  {row}")
        if profile is not None:
            lines.append(f"      rtsp      {profile.rtsp_uri or '-'}")
            lines.append(f"      snapshot  {profile.snapshot_uri or '-'}")
    if main is None:
        lines.append("No profile has an RTSP stream: check the camera's stream settings.")
    lines += [f"Note: {note}" for note in _notes(main)]
    return "\n".join(lines)


def _notes(main: onvif.Profile | None) -> list[str]:
    """What the user should know about the streams picked (an H.265 main stream)."""
    return [onvif.H265_MAIN_NOTE] if main is not None and main.is_h265 else []


@click.command("probe")
@click.argument("address", metavar="HOST[:PORT]")
@click.option("--user", required=True, help="Camera user name (an ONVIF user, often the admin account).")
@click.option("--password", default=None, help="Camera password (visible to other local users: prefer --password-env).")
@click.option("--password-env", default=None, metavar="VAR", help="Read the password from this environment variable.")
@click.option("--timeout", type=click.FloatRange(0, min_open=True), default=onvif.PROBE_TIMEOUT_S,
              show_default=True, help="Seconds allowed for the whole probe.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def probe(address: str, user: str, password: str | None, password_env: str | None, timeout: float,
          as_json: bool) -> None:
    """Read an ONVIF camera: model, profiles with size and codec, RTSP and snapshot URIs, clock offset.

    HOST[:PORT] is the camera's ONVIF address (port 80 unless given), or the device service URL that
    `onestop discover` prints. Without --password or --password-env the password is asked for.
    The URIs printed never carry the password.

    Example: CAM_PW=secret onestop probe 192.168.1.64 --user admin --password-env CAM_PW
    """
    host, port = parse_hostport(address, onvif.DEFAULT_PORT, "HOST[:PORT]")
    secret = _password(password, password_env)
    try:
        result = onvif.probe(host, port, user, secret, timeout=timeout)
    except onvif.OnvifError as err:
        raise click.ClickException(str(err)) from None
    if not as_json:
        click.echo(_human(result))
        return
    main, sub = _streams(result.profiles)
    data = result.to_json() | {"streams": {"main": main and main.token, "sub": sub and sub.token},
                               "notes": _notes(main)}
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))
