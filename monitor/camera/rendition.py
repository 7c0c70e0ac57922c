"""H.264 renditions of H.265 clips, made on demand for browsers that cannot decode HEVC, and cached.

Chromium without hardware HEVC (and Firefox) cannot play an H.265 clip. The event page offers the
original first (browsers that can decode it never cost a transcode) and this rendition second. It is
made by ffmpeg on first request: libx264 veryfast, at most 1280 pixels wide, audio copied (clips
carry AAC or nothing), niced so detection keeps its CPU. Measured (benchmarks/camera_kinds.py
--rendition, 1080p H.265 source, the shared 2-core machine under load 9): 30 s CPU and 106 s wait per
minute of clip; the wait shrinks with an idle machine. The download link always serves the original.

Renditions live in <recordings>/.renditions/<event id>.mp4: outside the <camera>/<day>/ folders that
recovery and retention walk, bounded by RENDITION_CACHE_FILES (the oldest are removed).
"""

from __future__ import annotations

import logging
import os
import resource
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import av

log = logging.getLogger(__name__)

CACHE_DIR = ".renditions"
RENDITION_CACHE_FILES = 50  # a reviewer watches a few clips a day; 50 renditions of 1-5 MB each
RENDITION_MAX_WIDTH = 1280  # enough for a player in a page; a 1080p source transcodes ~2x faster
RENDITION_TIMEOUT_S = 600.0  # a 300 s clip (max_clip_s default) transcodes in well under this
BROWSER_CODECS = ("h264",)  # what every browser plays in MP4; anything else gets a rendition
_jobs = threading.Semaphore(1)  # one transcode at a time: the cameras share the same cores
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


class RenditionError(Exception):
    """The rendition could not be made (ffmpeg missing or failed, unreadable clip)."""


@dataclass(frozen=True)
class RenditionCost:
    wall_s: float
    cpu_s: float  # ffmpeg's user + system time


def video_codec(clip: Path) -> str | None:
    """The clip's video codec ('h264', 'hevc'), read from its header; None if unreadable."""
    try:
        with av.open(str(clip)) as container:
            return container.streams.video[0].codec_context.name if container.streams.video else None
    except (av.FFmpegError, OSError):
        return None


def needs_rendition(clip: Path) -> bool:
    """True for a clip whose video some browsers cannot decode (H.265)."""
    codec = video_codec(clip)
    return codec is not None and codec not in BROWSER_CODECS


def rendition_path(recordings: Path, event_id: str) -> Path:
    return recordings / CACHE_DIR / f"{event_id}.mp4"


def ffmpeg_command(src: Path, dst: Path) -> list[str]:
    """The transcode: H.264 for every browser, audio (AAC) copied, moov first so playback starts at once."""
    return ["nice", "-n", "10", "ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(src),
            "-map", "0:v:0", "-map", "0:a:0?",
            "-vf", f"scale='min({RENDITION_MAX_WIDTH},iw)':-2", "-pix_fmt", "yuv420p",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "26", "-threads", "2",
            "-c:a", "copy", "-movflags", "+faststart", "-f", "mp4", str(dst)]


def transcode(src: Path, dst: Path) -> RenditionCost:
    """Write the H.264 rendition of src to dst (via dst.tmp); raises RenditionError."""
    tmp = dst.with_name(dst.name + ".tmp")  # '.mp4.tmp': recovery removes one a crash left behind
    dst.parent.mkdir(parents=True, exist_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    try:
        r = subprocess.run(ffmpeg_command(src, tmp), capture_output=True, text=True, timeout=RENDITION_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as err:
        tmp.unlink(missing_ok=True)
        raise RenditionError(f"ffmpeg did not run: {err}") from err
    if r.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise RenditionError(f"ffmpeg failed ({r.returncode}): {r.stderr.strip()[-300:]}")
    os.replace(tmp, dst)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return RenditionCost(time.monotonic() - t0, cpu)


def _lock_for(event_id: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(event_id, threading.Lock())


def get_rendition(recordings: Path, event_id: str, clip: Path) -> Path:
    """The cached rendition of the event's clip, made now if missing (concurrent requests wait for one)."""
    dst = rendition_path(recordings, event_id)
    with _lock_for(event_id):
        if dst.is_file() and dst.stat().st_mtime >= clip.stat().st_mtime:
            return dst
        with _jobs:
            cost = transcode(clip, dst)
        log.info("rendition of %s: H.264 made in %.1f s (%.1f s CPU)", event_id, cost.wall_s, cost.cpu_s)
        evict(dst.parent, keep=RENDITION_CACHE_FILES)
    return dst


def evict(folder: Path, keep: int) -> int:
    """Remove all but the `keep` newest renditions; returns how many were removed."""
    files = sorted(folder.glob("*.mp4"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[keep:]:
        old.unlink(missing_ok=True)
    return len(files[keep:])
