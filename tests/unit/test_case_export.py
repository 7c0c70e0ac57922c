"""Case export: a ZIP of real clips (privacy-masked on quay-1), notes, audit extract, manifest and SHA256SUMS;
`onestop case verify` passes it and names the first bad file after each kind of tampering; coreutils'
`sha256sum -c` accepts the unpacked folder."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner

from casesite import NOW, at, build_site
from monitor.cases.export import export_to_path, sha256_file
from monitor.cases.verify import verify_zip
from monitor.cli import main as cli
from monitor.db import audit, cases
from monitor.db.cases import NewCase
from monitor.db.store import open_db
from monitor.site.config import load_config


@pytest.fixture
def exported(make_site, tmp_path: Path):
    """A case over 08:55-09:25 on both counters' cameras, with two notes, exported to case.zip."""
    folder = make_site(build_site)
    config = load_config(folder / "cameras.yaml")
    db = open_db(config.storage.database)
    cid = cases.create_case(db, NewCase("Phản ánh nhũng nhiễu", at(8, 55), at(9, 25), ("quay-1", "quay-2")),
                            "giam-sat", NOW)
    cases.add_note(db, cid, "giam-sat", "Công dân Nguyễn Văn A phản ánh", NOW + 1)
    audit.write(db, audit.Entry(NOW + 2, "giam-sat", "10.0.0.7", "case_view", cases.audit_target(cid)))
    zpath = tmp_path / "case.zip"
    result = export_to_path(config, db, cid, zpath, NOW + 3, "giam-sat")
    db.conn.close()
    return folder, zpath, result


def test_the_zip_holds_masked_and_plain_clips_notes_audit_and_a_manifest(exported):
    folder, zpath, result = exported
    with zipfile.ZipFile(zpath) as zf:
        names = sorted(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        notes = json.loads(zf.read("notes.json"))
        audit_csv = zf.read("audit.csv").decode()
    assert names == ["SHA256SUMS", "audit.csv", "clips/quay-1/q1-0900.mp4", "clips/quay-1/q1-0910.mp4",
                     "clips/quay-2/q2-0905.mp4", "manifest.json", "notes.json"]
    files = {f["path"]: f for f in manifest["files"]}
    assert files["clips/quay-1/q1-0900.mp4"]["masked"] is True and files["clips/quay-1/q1-0900.mp4"]["audio"] == "dropped"
    original = folder / "rec" / "quay-1" / "2026-11-24" / "q1-0900.mp4"
    assert files["clips/quay-1/q1-0900.mp4"]["original_sha256"] == sha256_file(original)
    plain = folder / "rec" / "quay-2" / "2026-11-24" / "q2-0905.mp4"
    assert (files["clips/quay-2/q2-0905.mp4"]["masked"], files["clips/quay-2/q2-0905.mp4"]["sha256"]) == (
        False, sha256_file(plain))  # no mask on quay-2: the file as recorded
    assert manifest["missing"] == [{"kind": "event", "recording": "q1-0920", "camera": "quay-1", "start": at(9, 20),
                                    "reason": "clip none"}]
    assert manifest["case"]["title"] == "Phản ánh nhũng nhiễu" and manifest["case"]["start"] == "2026-11-24T08:55:00+07:00"
    assert [n["text"] for n in notes] == ["Công dân Nguyễn Văn A phản ánh"]
    assert "case_view" in audit_csv and "giam-sat" in audit_csv
    assert (result.files, result.masked, result.missing) == (7, 2, 1)


def test_a_masked_clip_is_blurred_in_the_mask_and_unchanged_outside(exported):
    folder, zpath, _ = exported
    with zipfile.ZipFile(zpath) as zf:
        masked = av.open(io.BytesIO(zf.read("clips/quay-1/q1-0900.mp4")))
    original = av.open(str(folder / "rec" / "quay-1" / "2026-11-24" / "q1-0900.mp4"))
    a = next(original.decode(video=0)).to_ndarray(format="bgr24").astype(int)
    b = next(masked.decode(video=0)).to_ndarray(format="bgr24").astype(int)
    original.close(), masked.close()
    inside, outside = (slice(10, 110), slice(10, 150)), (slice(130, 240), slice(170, 320))
    assert np.abs(b[inside] - a[inside]).mean() > 4 * np.abs(b[outside] - a[outside]).mean()
    assert np.abs(b[outside] - a[outside]).mean() < 3  # encoder loss only


def test_verify_passes_an_intact_zip_and_sha256sum_agrees(exported, tmp_path: Path):
    _, zpath, result = exported
    v = verify_zip(zpath)
    assert v.problem is None and v.files == 7 and v.manifest_sha256 == result.manifest_sha256 and v.bytes == result.bytes
    r = CliRunner().invoke(cli, ["case", "verify", str(zpath)])
    assert r.exit_code == 0 and "intact, 7 files" in r.output
    if shutil.which("sha256sum") is None:
        pytest.skip("no sha256sum (coreutils)")
    out = tmp_path / "unpacked"
    zipfile.ZipFile(zpath).extractall(out)
    done = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.count(": OK") == 6, done.stdout


def _rewrite(src: Path, dst: Path, change) -> None:  # noqa: ANN001 - change(name, data) -> bytes | None
    """A new ZIP with each member passed through change (None drops it); CRCs are recomputed, as a forger would."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info.filename, data)


@pytest.mark.parametrize("change, named", [
    (lambda n, d: d[:-1] + bytes([d[-1] ^ 1]) if n == "clips/quay-2/q2-0905.mp4" else d,
     "clips/quay-2/q2-0905.mp4: SHA-256"),
    (lambda n, d: None if n == "clips/quay-1/q1-0910.mp4" else d, "clips/quay-1/q1-0910.mp4: listed in the manifest"),
    (lambda n, d: d.replace("phản ánh".encode(), "xin lỗi".encode()) if n == "notes.json" else d, "notes.json: SHA-256"),
    (lambda n, d: d.replace(b'"masked": true', b'"masked": false') if n == "manifest.json" else d,
     "SHA256SUMS: the line for manifest.json"),
    (lambda n, d: None if n == "SHA256SUMS" else d, "SHA256SUMS missing"),
])
def test_verify_names_the_first_tampered_file(exported, tmp_path: Path, change, named):
    _, zpath, _ = exported
    bad = tmp_path / "bad.zip"
    _rewrite(zpath, bad, change)
    assert named in (verify_zip(bad).problem or "")
    r = CliRunner().invoke(cli, ["case", "verify", str(bad)])
    assert r.exit_code == 1 and named in r.output and "Traceback" not in r.output


def test_an_added_file_and_a_flipped_byte_are_found(exported, tmp_path: Path):
    _, zpath, _ = exported
    extra = tmp_path / "extra.zip"
    shutil.copy(zpath, extra)
    with zipfile.ZipFile(extra, "a") as zf:
        zf.writestr("clips/quay-1/planted.mp4", b"x")
    assert verify_zip(extra).problem == "clips/quay-1/planted.mp4: in the ZIP but not in the manifest"
    flipped = tmp_path / "flipped.zip"
    data = bytearray(zpath.read_bytes())
    with zipfile.ZipFile(zpath) as zf:
        info = zf.getinfo("clips/quay-1/q1-0910.mp4")
    data[info.header_offset + 30 + len(info.filename) + 500] ^= 0xFF  # a byte of the stored clip, CRC left as it was
    flipped.write_bytes(bytes(data))
    assert verify_zip(flipped).problem.startswith("clips/quay-1/q1-0910.mp4: damaged in the ZIP")


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 not really", "plain text".encode()])
def test_a_file_that_is_no_case_zip_gets_one_line(tmp_path: Path, content):
    path = tmp_path / "x.zip"
    path.write_bytes(content)
    r = CliRunner().invoke(cli, ["case", "verify", str(path)])
    assert r.exit_code == 1 and len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output
    r = CliRunner().invoke(cli, ["case", "verify", str(tmp_path / "missing.zip")])
    assert r.exit_code == 1 and "cannot read" in r.output


def test_cli_export_is_audited_and_refuses_an_unknown_case(make_site, tmp_path: Path):
    folder = make_site(build_site)
    config = load_config(folder / "cameras.yaml")
    db = open_db(config.storage.database)
    cid = cases.create_case(db, NewCase("t", at(13, 55), at(14, 5), ("quay-1",)), "giam-sat", NOW)
    db.conn.close()
    out = tmp_path / "c.zip"
    r = CliRunner().invoke(cli, ["case", "export", str(cid), "-c", str(folder / "cameras.yaml"), "-o", str(out)])
    assert r.exit_code == 0 and "1 masked" in r.output, r.output
    assert CliRunner().invoke(cli, ["case", "verify", str(out)]).exit_code == 0
    db = open_db(config.storage.database)
    assert [row[3] for row in cases.case_audit(db, cid)] == ["case_export"]
    db.conn.close()
    with zipfile.ZipFile(out) as zf:
        assert "case_export" in zf.read("audit.csv").decode()  # the export itself is in its own audit extract
    r = CliRunner().invoke(cli, ["case", "export", "99", "-c", str(folder / "cameras.yaml"), "-o", str(out)])
    assert r.exit_code == 1 and "case 99: no such case" in r.output
    r = CliRunner().invoke(cli, ["case", "list", "-c", str(folder / "cameras.yaml")])
    assert r.exit_code == 0 and "open    held" in r.output


def test_cli_open_resolves_counters_and_refuses_bad_input_with_one_line(make_site):
    folder = make_site(build_site)
    cfg = str(folder / "cameras.yaml")
    r = CliRunner().invoke(cli, ["case", "open", "-c", cfg, "--title", "Phản ánh", "--from", "2026-11-24 08:55",
                                 "--to", "2026-11-24 09:25", "--counter", "quay-1"])
    assert r.exit_code == 0 and "case 1 opened and held: quay-1, quay-2" in r.output, r.output
    db = open_db(folder / "t.db")
    case = cases.get_case(db, 1)
    assert (case.t0, case.t1, case.counters, case.created_by) == (at(8, 55), at(9, 25), ("quay-1",), "cli")
    assert [row[3] for row in cases.case_audit(db, 1)] == ["case_open"]
    db.conn.close()
    span = ["--from", "2026-11-24 08:55", "--to", "2026-11-24 09:25"]
    for args, message in ((span + ["--counter", "nope"], "counters: 'nope' is not a counter"),
                          (span + ["--camera", "nope"], "cameras: 'nope' is not a camera"),
                          (span, "choose at least one"),
                          (["--from", "24/11 8h", "--to", "2026-11-24 09:25", "--camera", "quay-1"],
                           "expected a local time")):
        r = CliRunner().invoke(cli, ["case", "open", "-c", cfg, "--title", "x", *args])
        assert r.exit_code != 0 and message in r.output and "Traceback" not in r.output, (args, r.output)
