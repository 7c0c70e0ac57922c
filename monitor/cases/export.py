"""A case's evidence as one ZIP: its clips (privacy-masked where the camera has masks), the notes, the audit
extract, manifest.json with the SHA-256 of every file, and SHA256SUMS for `sha256sum -c`.

Layout of case-<id>.zip:
    manifest.json        the case, every file with its SHA-256 and size, what is missing and why
    SHA256SUMS           "<sha256>  <path>" lines for every file, manifest.json included
    notes.json           the case notes (who, when, text), oldest first
    audit.csv            every audit row about the case (views, notes, exports), oldest first
    clips/<camera>/<recording>.mp4
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import sqlite_utils

from monitor.camera.privacy import PrivacyMask, mask_clip
from monitor.db import cases
from monitor.db.cases import Case, Recording, Span
from monitor.site.config import Config

log = logging.getLogger(__name__)

FORMAT = "onestop-case/1"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
CHUNK = 1 << 20


class ExportError(ValueError):
    """The case cannot be exported (no such case); one line for the user."""


@dataclass(frozen=True)
class ExportResult:
    """What went into the ZIP: its members (manifest and SHA256SUMS included), their bytes, the manifest's SHA-256."""

    files: int
    bytes: int
    manifest_sha256: str
    masked: int
    missing: int


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MB chunks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _iso(t: float | None, tz: Any) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, tz).isoformat(timespec="seconds")


def _case_json(case: Case, tz: Any) -> dict[str, Any]:
    return {"id": case.id, "title": case.title, "status": case.status, "start": _iso(case.t0, tz), "end": _iso(case.t1, tz),
            "t0": case.t0, "t1": case.t1, "cameras": list(case.cameras), "counters": list(case.counters),
            "opened": _iso(case.created, tz), "opened_by": case.created_by, "closed": _iso(case.closed_at, tz),
            "closed_by": case.closed_by, "hold_released": _iso(case.released_at, tz), "released_by": case.released_by}


def _audit_csv(rows: list[tuple[float, str, str, str, str]], tz: Any) -> bytes:
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(["time", "user", "ip", "action", "detail"])
    for t, user, ip, action, detail in rows:
        out.writerow([_iso(t, tz), user, ip, action, detail])
    return buf.getvalue().encode("utf-8")


def _masks(config: Config) -> dict[str, PrivacyMask]:
    return {c.id: PrivacyMask(c.privacy_masks) for c in config.cameras if c.privacy_masks}


class _Builder:
    """Adds files to the ZIP and keeps their manifest entries."""

    def __init__(self, zf: zipfile.ZipFile):
        self.zf = zf
        self.entries: list[dict[str, Any]] = []

    def add_bytes(self, name: str, data: bytes, **extra: Any) -> None:
        self.zf.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data, compress_type=zipfile.ZIP_DEFLATED)
        self.entries.append({"path": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), **extra})

    def add_file(self, name: str, path: Path, **extra: Any) -> None:
        self.zf.write(path, name, compress_type=zipfile.ZIP_STORED)  # video does not compress
        self.entries.append({"path": name, "sha256": sha256_file(path), "bytes": path.stat().st_size, **extra})


def _add_recording(b: _Builder, rec: Recording, recordings: Path, mask: PrivacyMask | None,
                   work: Path) -> str | None:
    """Add one clip (masked when the camera has a mask); the reason it is missing, or None."""
    src = recordings / rec.path if rec.path else None
    if src is None or not src.is_file():
        return f"clip {rec.state}" if src is None else "file not on disk"
    name = f"clips/{rec.camera}/{Path(rec.path).stem}.mp4"
    meta = {"kind": rec.kind, "recording": rec.id, "camera": rec.camera, "start": rec.start, "end": rec.end}
    if mask is None:
        b.add_file(name, src, masked=False, **meta)
        return None
    out = work / f"{rec.kind}-{rec.id}.mp4"
    try:
        mask_clip(src, out, mask)
    except (OSError, ValueError) as err:  # av.error.FFmpegError subclasses both
        log.warning("case export: cannot mask %s: %s", src, err)
        return f"could not be masked ({type(err).__name__}); not exported unmasked"
    b.add_file(name, out, masked=True, audio="dropped", original_sha256=sha256_file(src), **meta)
    out.unlink()
    return None


def export_case(config: Config, db: sqlite_utils.Database, case_id: int, out: IO[bytes], now: float,
                user: str) -> ExportResult:
    """Write the case's ZIP to `out` (a binary file opened for writing)."""
    case = cases.get_case(db, case_id)
    if case is None:
        raise ExportError(f"case {case_id}: no such case")
    tz = config.site.tz
    recordings_dir = Path(config.storage.recordings)
    masks = _masks(config)
    found = cases.recordings(db, [Span(cam, case.t0, case.t1) for cam in case.cameras])
    missing: list[dict[str, Any]] = []
    with zipfile.ZipFile(out, "w") as zf, tempfile.TemporaryDirectory(prefix="case-export-") as tmp:
        b = _Builder(zf)
        for rec in found:
            reason = _add_recording(b, rec, recordings_dir, masks.get(rec.camera), Path(tmp))
            if reason:
                missing.append({"kind": rec.kind, "recording": rec.id, "camera": rec.camera, "start": rec.start,
                                "reason": reason})
        notes = [{"time": _iso(n.t, tz), "user": n.user, "text": n.text} for n in cases.notes(db, case_id)]
        b.add_bytes("notes.json", json.dumps(notes, ensure_ascii=False, indent=1).encode("utf-8"))
        b.add_bytes("audit.csv", _audit_csv(cases.case_audit(db, case_id), tz))
        manifest = {"format": FORMAT, "site": config.site.name, "exported": _iso(now, tz), "exported_by": user,
                    "case": _case_json(case, tz), "files": b.entries, "missing": missing,
                    "verify": "onestop case verify FILE.zip   or: unzip FILE.zip -d DIR && cd DIR && sha256sum -c SHA256SUMS"}
        data = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
        manifest_sha = hashlib.sha256(data).hexdigest()
        sums = "".join([f"{e['sha256']}  {e['path']}\n" for e in b.entries] + [f"{manifest_sha}  {MANIFEST}\n"])
        zf.writestr(zipfile.ZipInfo(MANIFEST, (1980, 1, 1, 0, 0, 0)), data, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr(zipfile.ZipInfo(SUMS, (1980, 1, 1, 0, 0, 0)), sums, compress_type=zipfile.ZIP_DEFLATED)
    total = sum(e["bytes"] for e in b.entries) + len(data) + len(sums.encode("ascii"))
    masked = sum(1 for e in b.entries if e.get("masked"))
    log.info("case %d exported by %s: %d files, %d bytes, %d masked, %d missing, manifest %s", case_id, user,
             len(b.entries) + 2, total, masked, len(missing), manifest_sha)
    return ExportResult(len(b.entries) + 2, total, manifest_sha, masked, len(missing))


def export_to_path(config: Config, db: sqlite_utils.Database, case_id: int, path: Path, now: float,
                   user: str) -> ExportResult:
    """Write the case's ZIP to `path` via a temporary file and a rename (no half-written ZIP is left)."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("wb") as f:
            result = export_case(config, db, case_id, f, now, user)
        shutil.move(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return result
