"""Start-up recovery with real clips: a ClipWriter killed with SIGKILL, garbage, missing and orphan files."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import av
import pytest

from monitor.site.config import load_config
from monitor.camera.recorder import ClipWriter
from monitor.upkeep.recovery import probe_clip, recover
from monitor.db.store import Writer, get_event, open_db
from monitor.layout import clip_path

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2026, 11, 24, 9, 30, 0, tzinfo=TZ).timestamp()
KILL_SCRIPT = textwrap.dedent("""\
    import os, signal, sys, av
    from pathlib import Path
    from monitor.camera.recorder import ClipWriter
    src, dst, n = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    with av.open(src) as inp:
        stream = inp.streams.video[0]
        w = ClipWriter(stream, dst)
        for i, p in enumerate(inp.demux(stream)):
            if p.size:
                w.write(p, i * 0.04)
            if i >= n:
                os.kill(os.getpid(), signal.SIGKILL)
    """)


def write_clip(src: Path, dst: Path, seconds: float) -> Path:
    with av.open(str(src)) as inp:
        stream = inp.streams.video[0]
        with ClipWriter(stream, dst) as w:
            for i, p in enumerate(inp.demux(stream)):
                if p.size and i < seconds * 25:
                    w.write(p, i * 0.04)
    return dst


@pytest.fixture
def site(tmp_path):
    cfg = tmp_path / "cameras.yaml"
    cfg.write_text("site: {name: t}\ncameras: []\n", encoding="utf-8")
    config = load_config(cfg)
    db = open_db(config.storage.database)
    yield config, db, Path(config.storage.recordings)
    db.conn.close()


def start_event(db, eid: str, start: float = START) -> None:
    Writer(db).apply([{"type": "event_start", "camera": "cam", "id": eid, "start": start, "clip": True, "t": start}])


def test_every_crash_leftover_is_repaired(site, test_videos):
    config, db, rec = site
    # 1. a worker SIGKILLed while writing: its fragmented .part becomes a playable clip
    killed = clip_path(rec, "cam", "cam-20261124-093000-aaaaaa", START, TZ)
    start_event(db, killed.stem)
    run = subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(test_videos.sub), str(killed), "200"],
                         capture_output=True, env={**os.environ, "PYTHONPATH": str(Path.cwd())})
    assert run.returncode == -9, run.stderr
    part = killed.with_name(killed.name + ".part")
    assert part.is_file() and not killed.exists()
    # 2. a .part with nothing readable
    garbage = clip_path(rec, "cam", "cam-20261124-093000-bbbbbb", START, TZ)
    start_event(db, garbage.stem)
    garbage.with_name(garbage.name + ".part").write_bytes(os.urandom(5000))
    # 3. renamed into place but the 'clip' message never arrived
    renamed = write_clip(test_videos.sub, clip_path(rec, "cam", "cam-20261124-093000-cccccc", START, TZ), 4)
    start_event(db, renamed.stem)
    # 4. a complete row whose file is gone
    start_event(db, "gone")
    Writer(db).apply([{"type": "clip", "camera": "cam", "id": "gone", "path": "cam/2026-11-24/gone.mp4",
                       "state": "complete", "duration": 3.0, "t": START}])
    # 5. files without rows: a playable clip (adopted), garbage and a lone thumbnail (removed)
    orphan = write_clip(test_videos.sub, clip_path(rec, "cam", "cam-20261124-101500-dddddd", START, TZ), 3)
    junk = orphan.with_name("cam-20261124-101600-eeeeee.mp4")
    junk.write_bytes(b"\0" * 4000)
    lone = orphan.with_name("cam-20261124-101700-ffffff.jpg")
    lone.write_bytes(b"\xff\xd8")
    summary = recover(config, db)
    print(f"\nrecovery: {summary.line()}")

    ev = get_event(db, killed.stem)
    assert ev["clip_state"] == "complete" and not part.exists()
    assert 6.0 <= probe_clip(killed) <= 8.5  # 200 packets at 25 fps, cut at the last whole fragment
    assert 6.0 <= ev["clip_duration"] <= 8.5
    assert get_event(db, garbage.stem)["clip_state"] == "failed"
    assert not list(rec.rglob("*.part"))
    assert get_event(db, renamed.stem)["clip_state"] == "complete"
    assert get_event(db, "gone")["clip_state"] == "missing"
    adopted = get_event(db, orphan.stem)
    assert adopted["clip_state"] == "complete" and adopted["camera"] == "cam"
    assert adopted["start"] == datetime(2026, 11, 24, 10, 15, tzinfo=TZ).timestamp()
    assert not junk.exists() and not lone.exists()
    assert (summary.parts_finalised, summary.parts_removed, summary.recording_completed, summary.recording_failed,
            summary.marked_missing, summary.adopted, summary.orphans_removed) == (1, 1, 2, 1, 1, 1, 2)
    assert recover(config, db).line() == recover(config, db).line()  # a second run finds nothing new
    assert recover(config, db).adopted == 0


def test_a_closed_clip_is_a_faststart_mp4(tmp_path, test_videos):
    clip = write_clip(test_videos.sub, tmp_path / "c.mp4", 3)
    head = clip.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and (head.find(b"mdat") == -1 or head.find(b"moov") < head.find(b"mdat"))
    assert b"moof" not in clip.read_bytes()  # remuxed from the fragmented .part into a plain MP4
    assert not clip.with_name("c.mp4.part").exists()
    assert 2.5 <= probe_clip(clip) <= 3.5
