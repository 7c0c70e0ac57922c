"""Complaint cases, the recording notice, the held figure on the health page and the viewers' masked live view,
through Flask's test client on a real SQLite file with real clips (tests/casesite.py)."""

from __future__ import annotations

import html
import io
import json
import zipfile
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from casesite import NOW, at, build_site
from monitor.cases.verify import verify_zip
from monitor.db import audit as audit_store
from monitor.db import cases
from monitor.db.store import connect
from monitor.site.config import load_config
from webtest import csrf_token, log_in
from webui import create_app


@pytest.fixture
def folder(make_site) -> Path:
    return make_site(build_site)


@pytest.fixture
def client_as(folder):
    app = create_app(load_config(folder / "cameras.yaml"), {"TESTING": True, "CLOCK": lambda: NOW})

    def make(role: str):
        client = app.test_client()
        log_in(client, role)
        return client

    return make


def post(client, path: str, data: dict) -> object:  # noqa: ANN001 - flask test client
    return client.post(path, data={"csrf_token": csrf_token(client, "/cases" if "cases" in path else "/reports"), **data},
                       follow_redirects=False)


def audit_rows(folder: Path, action: str) -> list[audit_store.Entry]:
    db = connect(folder / "t.db", readonly=True)
    try:
        return audit_store.query(db, audit_store.AuditFilter(action=action), limit=100)
    finally:
        db.conn.close()


OPEN = {"title": "Phản ánh thái độ cán bộ", "date": "2026-11-24", "time_from": "08:55", "time_to": "09:25",
        "counters": "quay-1"}


def open_case(client) -> int:  # noqa: ANN001
    r = post(client, "/cases", OPEN)
    assert r.status_code == 302, r.get_data(as_text=True)
    return int(r.location.rsplit("/", 1)[1])


def test_a_supervisor_opens_a_case_from_a_counter_and_sees_its_recordings(client_as, folder):
    client = client_as("supervisor")
    cid = open_case(client)
    page = client.get(f"/cases/{cid}").get_data(as_text=True)
    # the counter's seat camera and its queue's camera: quay-1 and quay-2
    assert page.count('href="/events/') == 4
    for eid in ("q1-0900", "q1-0910", "q2-0905", "q1-0920"):
        assert f'href="/events/{eid}"' in page
    assert "q1-1400" not in page
    assert [(e.user, e.target) for e in audit_rows(folder, "case_open")] == [("giam-sat", f"case:{cid}")]
    assert [e.target for e in audit_rows(folder, "case_view")] == [f"case:{cid}"]
    listing = client.get("/cases").get_data(as_text=True)
    assert "Phản ánh thái độ cán bộ" in listing and client.get("/cases?status=closed").get_data(as_text=True).count(
        "Phản ánh thái độ") == 0


@pytest.mark.parametrize("change, message", [
    ({"date": ""}, "date, time_from, time_to"),
    ({"time_to": "25:00"}, "time_to: expected a time of day"),
    ({"time_to": "08:00"}, "the end must be after the start"),
    ({"counters": "nope"}, "counters: 'nope' is not a counter"),
    ({"counters": [], "cameras": "nope"}, "cameras: 'nope' is not a camera"),
    ({"counters": []}, "choose at least one"),
    ({"title": ""}, "title: empty"),
])
def test_bad_case_forms_get_a_400_naming_the_field(client_as, change, message):
    r = post(client_as("supervisor"), "/cases", {**OPEN, **change})
    assert r.status_code == 400 and message in html.unescape(r.get_data(as_text=True))


def test_notes_are_appended_with_who_and_when_and_audited(client_as, folder):
    client = client_as("supervisor")
    cid = open_case(client)
    assert post(client, f"/cases/{cid}/notes", {"note": "Đã gọi điện cho công dân"}).status_code == 302
    assert post(client, f"/cases/{cid}/notes", {"note": "  "}).status_code == 400
    page = client.get(f"/cases/{cid}").get_data(as_text=True)
    assert "giam-sat, " in page and "Đã gọi điện cho công dân" in page
    assert [e.detail for e in audit_rows(folder, "case_note")] == ["Đã gọi điện cho công dân"]
    assert post(client, "/cases/99/notes", {"note": "x"}).status_code == 404


def test_only_admins_close_and_release_and_each_happens_once(client_as, folder):
    sup, admin = client_as("supervisor"), client_as("admin")
    cid = open_case(sup)
    assert post(sup, f"/cases/{cid}/close", {}).status_code == 403
    assert post(sup, f"/cases/{cid}/release", {}).status_code == 403
    assert post(admin, f"/cases/{cid}/close", {}).status_code == 302
    assert post(admin, f"/cases/{cid}/close", {}).status_code == 409
    db = connect(folder / "t.db", readonly=True)
    assert cases.get_case(db, cid).status == "closed" and cases.held_spans(db)  # closed, still held
    assert post(admin, f"/cases/{cid}/release", {}).status_code == 302
    assert cases.held_spans(db) == [] and cases.get_case(db, cid).released_by == "quan-tri"
    db.conn.close()
    assert [e.action for e in audit_rows(folder, "case_close") + audit_rows(folder, "case_release")] == [
        "case_close", "case_release"]
    assert f'/cases/{cid}/release"' not in admin.get(f"/cases/{cid}").get_data(as_text=True)  # nothing left to release


def test_the_export_zip_verifies_lists_its_own_export_and_masks_quay_1(client_as, folder, tmp_path: Path):
    client = client_as("supervisor")
    cid = open_case(client)
    post(client, f"/cases/{cid}/notes", {"note": "Ghi chú 1"})
    with client.get(f"/cases/{cid}/export.zip") as r:  # closing the response closes (and deletes) the temporary ZIP
        assert r.status_code == 200 and r.mimetype == "application/zip"
        assert r.headers["Content-Disposition"] == f"attachment; filename=case-{cid}.zip"
        data, manifest_sha = r.get_data(), r.headers["X-Manifest-SHA256"]
    path = tmp_path / "c.zip"
    path.write_bytes(data)
    verdict = verify_zip(path)
    assert verdict.problem is None and verdict.manifest_sha256 == manifest_sha
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        audit_csv = zf.read("audit.csv").decode()
    masked = {f["path"]: f.get("masked") for f in manifest["files"] if f["path"].startswith("clips/")}
    assert masked == {"clips/quay-1/q1-0900.mp4": True, "clips/quay-1/q1-0910.mp4": True,
                      "clips/quay-2/q2-0905.mp4": False}
    for action in ("case_open", "case_note", "case_export"):
        assert action in audit_csv
    assert manifest["exported_by"] == "giam-sat" and [e.target for e in audit_rows(folder, "case_export")] == [
        f"case:{cid}"]
    assert client_as("viewer").get(f"/cases/{cid}/export.zip").status_code == 403
    assert client.get("/cases/99/export.zip").status_code == 404


def test_the_health_page_shows_the_held_footage(client_as, folder):
    client = client_as("supervisor")
    assert 'data-files="0" data-bytes="0"' in client.get("/health").get_data(as_text=True)
    open_case(client)
    clips = [folder / "rec" / cam / "2026-11-24" / f"{eid}.mp4" for cam, eid in
             (("quay-1", "q1-0900"), ("quay-1", "q1-0910"), ("quay-2", "q2-0905"))]
    page = client.get("/health").get_data(as_text=True)
    assert f'data-files="3" data-bytes="{sum(p.stat().st_size for p in clips)}"' in page


def test_the_notice_is_printable_in_both_languages_from_the_settings(client_as):
    page = client_as("viewer").get("/notice").get_data(as_text=True)
    assert "KHU VỰC CÓ CAMERA GHI HÌNH" in page and "CCTV RECORDING IN THIS AREA" in page
    assert page.count("Bộ phận một cửa phường thử") == 4  # office and (no controller set) responsible body, twice
    assert page.count("Văn phòng UBND phường, 028 3822 0000") == 2
    assert "Đoạn ghi hình: 30 ngày" in page and "Video clips: 30 days" in page
    assert "Nghị định 13/2023/NĐ-CP" in page and "91/2025/QH15" in page and "notice.css" in page
    assert "<script" not in page


# ---------------------------------------------------------------- the viewers' live view


def _live_jpeg(folder: Path) -> bytes:
    yy, xx = np.mgrid[0:240, 0:320]
    board = (((yy // 4) + (xx // 4)) % 2 * 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", np.dstack([board] * 3), [cv2.IMWRITE_JPEG_QUALITY, 95])
    (folder / "rec" / "quay-1").mkdir(parents=True, exist_ok=True)
    (folder / "rec" / "quay-1" / "live.jpg").write_bytes(buf.tobytes())
    return buf.tobytes()


def test_viewers_see_the_live_picture_masked_and_supervisors_as_recorded(client_as, folder):
    raw = _live_jpeg(folder)
    assert client_as("supervisor").get("/live/quay-1.jpg").data == raw
    r = client_as("viewer").get("/live/quay-1.jpg")
    assert r.status_code == 200 and r.data != raw
    seen = cv2.imdecode(np.frombuffer(r.data, np.uint8), cv2.IMREAD_GRAYSCALE).astype(float)
    assert seen[10:100, 10:140].std() < 10  # the mask (top-left quarter): the checkerboard is gone
    assert seen[140:230, 180:310].std() > 100  # outside: still sharp
    with client_as("viewer").get("/live/quay-1.mjpeg", buffered=False) as stream:
        first = next(iter(stream.response))
    assert raw not in first and first.startswith(b"--frame")


def test_a_downloaded_clip_of_a_masked_camera_is_masked_and_the_player_gets_the_original(client_as, folder):
    client = client_as("supervisor")
    original = (folder / "rec" / "quay-1" / "2026-11-24" / "q1-0900.mp4").read_bytes()
    with client.get("/events/q1-0900/clip.mp4") as r:
        assert r.get_data() == original  # watching in the browser: the recording as it is
    with client.get("/events/q1-0900/clip.mp4?download=1") as r:
        assert r.status_code == 200 and 'filename=q1-0900.masked.mp4' in r.headers["Content-Disposition"]
        data = r.get_data()
    with av.open(io.BytesIO(data)) as masked, av.open(io.BytesIO(original)) as plain:
        a = next(plain.decode(video=0)).to_ndarray(format="gray").astype(int)
        b = next(masked.decode(video=0)).to_ndarray(format="gray").astype(int)
    assert np.abs(b[10:110, 10:150] - a[10:110, 10:150]).mean() > 3 * np.abs(b[130:, 170:] - a[130:, 170:]).mean()
    with client.get("/events/q2-0905/clip.mp4?download=1") as r:  # no mask on quay-2: the file itself
        assert r.get_data() == (folder / "rec" / "quay-2" / "2026-11-24" / "q2-0905.mp4").read_bytes()
