"""Checking a case ZIP against its manifest: every listed file present with its SHA-256 and size, nothing
added, and SHA256SUMS agreeing with the manifest. The first problem is named; none means intact."""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from monitor.cases.export import CHUNK, FORMAT, MANIFEST, SUMS


@dataclass(frozen=True)
class Verdict:
    """The outcome: problem is None when the ZIP is intact."""

    problem: str | None
    files: int
    bytes: int
    manifest_sha256: str | None


def _sha(zf: zipfile.ZipFile, name: str) -> tuple[str, int]:
    h, n = hashlib.sha256(), 0
    with zf.open(name) as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            n += len(chunk)
    return h.hexdigest(), n


def _manifest(zf: zipfile.ZipFile) -> tuple[dict, bytes]:
    data = zf.read(MANIFEST)
    manifest = json.loads(data.decode("utf-8"))
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), list):
        raise ValueError(f"{MANIFEST}: not an {FORMAT} manifest")
    return manifest, data


def _check_files(zf: zipfile.ZipFile, entries: list[dict]) -> tuple[str | None, int]:
    total = 0
    for e in entries:
        name = e.get("path")
        try:
            digest, size = _sha(zf, name)
        except KeyError:
            return f"{name}: listed in the manifest but not in the ZIP", total
        except (zipfile.BadZipFile, zlib.error) as err:  # bytes changed inside the ZIP: its CRC-32 no longer matches
            return f"{name}: damaged in the ZIP ({err})", total
        if digest != e.get("sha256") or size != e.get("bytes"):
            return f"{name}: SHA-256 {digest[:16]}... does not match the manifest's {str(e.get('sha256'))[:16]}...", total
        total += size
    return None, total


def _check_sums(zf: zipfile.ZipFile, entries: list[dict], manifest_sha: str) -> str | None:
    want = {e["path"]: e["sha256"] for e in entries} | {MANIFEST: manifest_sha}
    got = {}
    for line in zf.read(SUMS).decode("utf-8").splitlines():
        digest, _, name = line.partition("  ")
        got[name] = digest
    for name in sorted(set(want) | set(got)):
        if want.get(name) != got.get(name):
            return f"{SUMS}: the line for {name} does not match the manifest"
    return None


def verify_zip(path: Path) -> Verdict:
    """Check a case ZIP; the Verdict names the first bad file, if any."""
    try:
        with zipfile.ZipFile(path) as zf:
            manifest, data = _manifest(zf)
            manifest_sha = hashlib.sha256(data).hexdigest()
            entries = manifest["files"]
            problem, total = _check_files(zf, entries)
            if problem is None:
                extra = sorted(set(zf.namelist()) - {e.get("path") for e in entries} - {MANIFEST, SUMS})
                problem = f"{extra[0]}: in the ZIP but not in the manifest" if extra else _check_sums(zf, entries, manifest_sha)
            return Verdict(problem, len(entries) + 2, total + len(data) + zf.getinfo(SUMS).file_size, manifest_sha)
    except (zipfile.BadZipFile, zlib.error, KeyError, UnicodeDecodeError, ValueError, TypeError) as err:
        return Verdict(_unreadable(err), 0, 0, None)
    except OSError as err:
        return Verdict(f"cannot read: {err.strerror or err}", 0, 0, None)


def _unreadable(err: Exception) -> str:
    if isinstance(err, zipfile.BadZipFile | zlib.error):
        return f"not a readable ZIP file ({err})"
    if isinstance(err, KeyError):
        return f"{MANIFEST} or {SUMS} missing: not a case export"
    return f"{MANIFEST}: unreadable ({type(err).__name__}: {str(err)[:80]})"
