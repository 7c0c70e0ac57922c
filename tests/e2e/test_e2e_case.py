"""End to end: `onestop run` records real clips from a camera (a file source, paced at real time); a supervisor
opens a complaint case over them in the web UI; `onestop case export` writes the ZIP with the clips masked;
`onestop case verify` passes it, and fails naming the file after one byte of a clip is changed; retention
with a tiny disk budget leaves the held clip alone. Run with -s to see the figures."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import urllib.parse
import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from harness import Onestop
from media import MotionWindow, VideoSpec, make_video
from support import free_port

pytestmark = [pytest.mark.slow]

USER, PASSWORD = "e2e-giam-sat", "Pw-cases-e2e-7q2w"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def cli(*args: str, cfg: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monitor.cli", *args], capture_output=True, text=True, timeout=120,
                          cwd=cfg.parent)


@pytest.fixture
def recorded(tmp_path: Path):
    """`onestop run` until two complete clips of cam-a exist, then stopped; the site folder and the app."""
    video = make_video(tmp_path / "counter.mp4", VideoSpec(12, 640, 360, motion=(MotionWindow(2, 5),)))
    config = textwrap.dedent(f"""\
        site: {{name: "Bộ phận một cửa - e2e hồ sơ"}}
        storage: {{recordings: recordings, database: onestop.db}}
        retention: {{max_recordings_gb: 0.000001, min_free_gb: 0}}
        defaults: {{pre_roll_s: 1, post_roll_s: 2, events: {{min_length_s: 1, merge_gap_s: 1}}}}
        cameras:
          - id: cam-a
            name: "Quầy A"
            streams: {{main: "{video}", loop: true}}
            privacy_masks: [[[0.0, 0.0], [0.5, 0.0], [0.5, 0.6], [0.0, 0.6]]]
        """)
    app = Onestop(tmp_path, config, free_port())
    app.start()
    try:
        app.wait("two complete clips", lambda: len(app.rows(
            "select id from events where clip_state = 'complete'")) >= 2, 90)
        app.add_user(USER, "supervisor", PASSWORD)
        app.login(USER, PASSWORD)
        yield app
    finally:
        app.close()


def open_case(app: Onestop, t0: float, t1: float) -> int:
    _, page, _ = app.http("/cases")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    a, b = datetime.fromtimestamp(t0, TZ), datetime.fromtimestamp(t1 + 60, TZ)
    form = {"csrf_token": token, "title": "Phản ánh e2e", "date": a.date().isoformat(),
            "time_from": a.strftime("%H:%M"), "time_to": b.strftime("%H:%M"), "cameras": "cam-a"}
    status, html, _ = app.http("/cases", data=urllib.parse.urlencode(form).encode())
    assert status == 200 and "Phản ánh e2e".encode() in html
    return int(app.rows("select max(id) as id from cases")[0]["id"])


def test_a_case_export_from_recorded_clips_verifies_and_tampering_is_found(recorded, tmp_path: Path):
    app = recorded
    clips = app.rows("select * from events where clip_state = 'complete' order by start")
    case_id = open_case(app, clips[0]["start"], clips[-1]["end"] or clips[-1]["start"])
    assert app.stop() == 0
    held = [c for c in app.rows("select * from events where clip_state = 'complete'")
            if c["start"] >= clips[0]["start"] - 60]

    # retention with a 1 kB budget: the held clips stay
    r = cli("prune", "-c", str(app.cfg), cfg=app.cfg)
    assert r.returncode == 0, r.stderr
    for c in clips:
        assert (app.folder / "recordings" / c["clip_path"]).is_file(), c["id"]

    out = tmp_path / f"case-{case_id}.zip"
    r = cli("case", "export", str(case_id), "-c", str(app.cfg), "-o", str(out), cfg=app.cfg)
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        sizes = sum(i.file_size for i in zf.infolist())
    clip_names = [n for n in names if n.startswith("clips/")]
    assert len(clip_names) >= len(clips) and f"{len(clip_names)} masked" in r.stdout
    r = cli("case", "verify", str(out), cfg=app.cfg)
    assert r.returncode == 0 and "intact" in r.stdout, r.stderr
    print(f"\ne2e case export: {len(held)} recorded clips held, ZIP {out.stat().st_size} bytes "
          f"({len(names)} files, {sizes} bytes unpacked, {len(clip_names)} clips masked)\n  {r.stdout.strip()}")

    bad = tmp_path / "tampered.zip"
    with zipfile.ZipFile(out) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == clip_names[0]:
                data = data[:1000] + bytes([data[1000] ^ 0x01]) + data[1001:]
            zout.writestr(info.filename, data)
    r = cli("case", "verify", str(bad), cfg=app.cfg)
    assert r.returncode == 1 and clip_names[0] in r.stderr and "SHA-256" in r.stderr
    print(f"  tampered: exit {r.returncode}: {r.stderr.strip()}")
    audit = [row["action"] for row in app.rows("select action from audit where target = ?", (f"case:{case_id}",))]
    assert audit[:2] == ["case_open", "case_view"] and audit[-1] == "case_export"
