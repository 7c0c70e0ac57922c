"""The camera secrets file next to cameras.yaml: NAME=value lines, mode 0600, read by load_config."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger(__name__)

SECRETS_SUFFIX = ".secrets.env"  # cameras.yaml -> cameras.secrets.env
SECRETS_MODE = 0o600  # camera passwords: readable by the service account only
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
HEADER = (
    "# Camera passwords written by the onestop web UI; cameras.yaml refers to them as ${NAME}.\n"
    "# One NAME=value per line; the value is taken literally up to the end of the line.\n"
    "# A variable of the same name in the process environment wins over this file.\n"
)


def secrets_path(config_path: str | Path) -> Path:
    """The secrets file that belongs to a cameras.yaml (same folder, same stem)."""
    path = Path(config_path)
    return path.with_name(path.stem + SECRETS_SUFFIX)


def read_secrets(path: Path) -> dict[str, str]:
    """NAME=value pairs of the file ({} when it does not exist); lines that are not NAME=value are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    if path.stat().st_mode & 0o077:
        log.warning("%s is readable by other users; chmod 600 it", path)
    values: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and _NAME.match(name.strip()) and not line.lstrip().startswith("#"):
            values[name.strip()] = value
    return values


def check_secret(value: str) -> str:
    """A value fit for one line of the file; ValueError names the problem (never the value)."""
    if any(c in value for c in "\r\n\x00"):
        raise ValueError("a password cannot contain line breaks or NUL characters")
    return value


def write_secrets(path: Path, values: Mapping[str, str]) -> None:
    """Replace the file atomically with these values, mode 0600, sorted by name."""
    for name, value in values.items():
        if not _NAME.match(name):
            raise ValueError(f"{name!r} is not a valid variable name")
        check_secret(value)
    body = HEADER + "".join(f"{name}={values[name]}\n" for name in sorted(values))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp files are 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, SECRETS_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename in folder durable (a power cut right after must not bring the old name back)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
