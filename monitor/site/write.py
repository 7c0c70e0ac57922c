"""Edit cameras.yaml from the web UI: keep the officer's comments, validate with load_config, replace atomically.

Every change reads the file with ruamel.yaml (which round-trips comments and layout), edits the camera's
mapping, writes the candidate to a temporary file in the same folder, validates it with the real loader,
keeps the previous file as a backup and renames the candidate over cameras.yaml. Passwords never go into
the YAML: they go to the secrets file (monitor.site.secrets) and the YAML says `password: ${NAME}`.
"""

from __future__ import annotations

import fcntl
import io
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from monitor.site.config import Config, ConfigError, load_config
from monitor.site.errors import ENV_REF
from monitor.site.secrets import check_secret, fsync_dir, read_secrets, secrets_path, write_secrets

log = logging.getLogger(__name__)

KEEP_BACKUPS = 5  # enough to undo a morning of edits; each is a few kilobytes
BACKUP_INFIX = ".bak-"  # cameras.yaml -> cameras.yaml.bak-20261124-081502-123456
COORD_DIGITS = 4  # 1/10000 of the frame: finer than any pixel of a 4K picture
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/@]*)@")

# Tests set this to kill the process between writing the candidate and the rename (crash safety).
before_replace: Callable[[Path], None] | None = None


@dataclass
class CameraInput:
    """A camera as the admin entered it. password None keeps the stored one; username None removes both."""

    id: str
    name: str
    main: str
    sub: str | None = None
    enabled: bool = True
    username: str | None = None
    password: str | None = None


def secret_name(camera_id: str) -> str:
    """The variable holding a camera's password: ONESTOP_<ID>_PASSWORD (id upper-cased, - as _)."""
    return f"ONESTOP_{re.sub(r'[^A-Za-z0-9]', '_', camera_id).upper()}_PASSWORD"


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """(url without user info, user, password) of an rtsp://user:pass@host/... URL."""
    m = _USERINFO.match(url.strip())
    if not m:
        return url.strip(), None, None
    user, sep, password = m.group(2).partition(":")
    rest = url.strip()[m.end():]
    return m.group(1) + rest, unquote(user) or None, unquote(password) if sep else None


# ---------------------------------------------------------------- public edits


def add_camera(path: Path, cam: CameraInput) -> Config:
    """Append a camera; ConfigError if the id is taken or the result is invalid."""
    with editing(path) as edit:
        cameras = edit.cameras()
        if any(str(c.get("id")) == cam.id for c in cameras):
            raise ConfigError([f"{path}: cameras: a camera with id '{cam.id}' already exists"])
        node = CommentedMap()
        node["id"] = cam.id
        cameras.append(node)
        edit.fill(node, cam)
    return edit.config


def update_camera(path: Path, cam: CameraInput) -> Config:
    """Change a camera's name, streams, enabled flag and credentials (its zones and masks stay)."""
    with editing(path) as edit:
        edit.fill(edit.camera(cam.id), cam)
    return edit.config


def set_enabled(path: Path, camera_id: str, enabled: bool) -> Config:
    """Enable or disable a camera."""
    with editing(path) as edit:
        node = edit.camera(camera_id)
        put(node, "enabled", enabled, after="name")
    return edit.config


def remove_camera(path: Path, camera_id: str) -> Config:
    """Delete a camera and its stored password."""
    with editing(path) as edit:
        cameras = edit.cameras()
        cameras.remove(edit.camera(camera_id))
        edit.secrets.pop(secret_name(camera_id), None)
    return edit.config


def set_zones(path: Path, camera_id: str, zones: list[dict[str, Any]], masks: list[list[list[float]]],
              privacy_masks: list[list[list[float]]] | None = None) -> Config:
    """Replace a camera's zones, masks and (unless None) privacy_masks (normalised points, rounded to COORD_DIGITS)."""
    with editing(path) as edit:
        node = edit.camera(camera_id)
        zone_nodes = CommentedSeq()
        for zone in zones:
            z = CommentedMap(id=zone["id"], kind=zone["kind"], points=_polygon(zone["points"]))
            if zone.get("person_height"):
                z["person_height"] = _rounded(zone["person_height"])
            if zone.get("seated") is False:  # written only where nobody sits: the default stays out
                z["seated"] = False
            zone_nodes.append(z)
        put(node, "masks", CommentedSeq(_polygon(m) for m in masks) if masks else None)
        if privacy_masks is not None:
            put(node, "privacy_masks", CommentedSeq(_polygon(m) for m in privacy_masks) if privacy_masks else None,
                after="masks")
        put(node, "zones", zone_nodes if zones else None)
    return edit.config


def set_heights(path: Path, camera_id: str, heights: Mapping[str, tuple[float, float]]) -> Config:
    """Set the person_height (near, far) of these zones of a camera (id -> heights, rounded to COORD_DIGITS); every
    other key, zone and comment stays as it was. A zone id the camera does not have is a ValueError naming it."""
    with editing(path) as edit:
        node = edit.camera(camera_id)
        by_id = {str(z.get("id")): z for z in node.get("zones") or []}
        for zone_id, (near, far) in heights.items():
            if zone_id not in by_id:
                raise ValueError(f"camera {camera_id} has no zone {zone_id}")
            put(by_id[zone_id], "person_height", _rounded((near, far)), after="points")
    return edit.config


# ---------------------------------------------------------------- editing session


class _Edit:
    """One read-modify-validate-write of cameras.yaml and its secrets file."""

    def __init__(self, path: Path):
        self.path = path
        self.yaml = _yaml()
        text = path.read_text(encoding="utf-8")
        self.doc = self.yaml.load(text)
        if not isinstance(self.doc, CommentedMap):
            raise ConfigError([f"{path}: the top level must be a mapping with site, storage, defaults and cameras"])
        self.secrets_file = secrets_path(path)
        self.old_secrets = read_secrets(self.secrets_file)
        self.secrets = dict(self.old_secrets)
        self.config: Config | None = None

    def cameras(self) -> CommentedSeq:
        if not isinstance(self.doc.get("cameras"), list):
            self.doc["cameras"] = CommentedSeq()
        return self.doc["cameras"]

    def camera(self, camera_id: str) -> CommentedMap:
        for node in self.cameras():
            if isinstance(node, dict) and str(node.get("id")) == camera_id:
                return node
        raise KeyError(camera_id)

    def fill(self, node: CommentedMap, cam: CameraInput) -> None:
        """Write the input's fields into a camera mapping, moving any password into the secrets file."""
        main, url_user, url_password = split_credentials(cam.main)
        username = cam.username or url_user
        password = cam.password if cam.password is not None else url_password
        put(node, "name", cam.name, after="id")
        put(node, "enabled", cam.enabled, after="name")
        streams = node.get("streams") if isinstance(node.get("streams"), dict) else CommentedMap()
        streams["main"] = main
        put(streams, "sub", split_credentials(cam.sub)[0] if cam.sub else None, after="main")
        put(node, "streams", streams, after="enabled")
        if not username:
            put(node, "username", None)
            put(node, "password", None)
            self.secrets.pop(secret_name(cam.id), None)
            return
        put(node, "username", username, after="streams")
        stored = node.get("password")
        if password is None and isinstance(stored, str) and not ENV_REF.fullmatch(stored):
            password = stored  # a password typed into the YAML by hand moves to the secrets file now
        if password is not None:
            self.secrets[secret_name(cam.id)] = check_secret(password)
            put(node, "password", f"${{{secret_name(cam.id)}}}", after="username")

    def commit(self) -> Config:
        """Validate the candidate with the real loader, then write the secrets and replace the YAML."""
        out = io.StringIO()
        self.yaml.dump(self.doc, out)
        fd, tmp_name = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(out.getvalue())
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, self.path.stat().st_mode & 0o777)
            config = _validate(tmp, self.path, self.secrets)
            if self.secrets != self.old_secrets:
                write_secrets(self.secrets_file, self.secrets)
            backup(self.path)
            if before_replace is not None:
                before_replace(tmp)
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        fsync_dir(self.path.parent)
        config.path = self.path.resolve()
        return config


@contextmanager
def editing(path: Path) -> Iterator[_Edit]:
    """Lock the file against a second editor, yield the edit, commit it when the block ends cleanly."""
    path = Path(path)
    with open(path.with_name(f".{path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        edit = _Edit(path)
        yield edit
        edit.config = edit.commit()
        log.info("%s: saved", path)


def _validate(candidate: Path, real: Path, secrets: Mapping[str, str]) -> Config:
    """load_config on the candidate; its problems are reported under the real file's name."""
    try:
        return load_config(candidate, secrets=secrets)
    except ConfigError as err:
        raise ConfigError([p.replace(str(candidate), str(real), 1) for p in err.problems]) from None


def backup(path: Path) -> Path:
    """Copy the current file to a timestamped backup and keep only the newest KEEP_BACKUPS."""
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{time.time_ns() // 1000 % 1_000_000:06d}"
    target = path.with_name(f"{path.name}{BACKUP_INFIX}{stamp}")
    shutil.copy2(path, target)
    for old in backups(path)[:-KEEP_BACKUPS]:
        old.unlink(missing_ok=True)
    return target


def backups(path: Path) -> list[Path]:
    """The backups of a file, oldest first."""
    return sorted(path.parent.glob(f"{path.name}{BACKUP_INFIX}*"))


# ---------------------------------------------------------------- YAML helpers


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)  # the layout of the shipped cameras.yaml
    yaml.width = 4096  # never fold a polygon over several lines
    return yaml


def flow(items: list[Any]) -> CommentedSeq:
    """A sequence written in flow style: [a, b, c]."""
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def _rounded(values: Sequence[float]) -> CommentedSeq:
    """Normalised numbers (a point, a person_height) rounded to COORD_DIGITS, written [a, b]."""
    return flow([round(float(v), COORD_DIGITS) for v in values])


def _polygon(points: list[list[float]]) -> CommentedSeq:
    return flow([_rounded(p) for p in points])


def put(node: CommentedMap, key: str, value: Any, after: str | None = None) -> None:
    """Set (or with None, delete) a key, inserting a new key after `after` to keep a readable order."""
    if value is None:
        node.pop(key, None)
    elif key in node or after is None or after not in node:
        node[key] = value
    else:
        node.insert(list(node).index(after) + 1, key, value)
