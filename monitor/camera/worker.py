"""The per-camera worker process: source -> detect -> messages. It never opens the database."""

from __future__ import annotations

import logging
import math
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from monitor.site.config import Camera, Config, Defaults, load_config
from monitor.detect.events import EventTracker, EventUpdate
from monitor.detect.motion import MotionDetector, MotionParams, polygon_mask
from monitor.detect.occupancy import SecondAggregator, ZoneSpec
from monitor.detect.presence import PersonOccupancy
from monitor.detect.tiles import height_markers, height_off, scaled_heights
from monitor.camera.diskguard import MB, DiskGuard
from monitor.camera.recorder import ClipInfo, ClipRecorder, write_thumbnail
from monitor.camera.segments import SegmentInfo, SegmentPolicy, SegmentRecorder
from monitor.camera.sources import SourceFrame, SourcePacket, SourceStatus, StreamSource, bgr, grey_small
from monitor.camera.stats import WorkerStats
from monitor.layout import clip_path, event_id, live_snapshot_path, live_watch_path, segment_path
from monitor.messages import (ClipFailed, ClipReady, EventEnded, EventStarted, Heartbeat, Message, OccupancyCorrection,
                              OccupancySample, SegmentReady, Status, Thumbnail)
from monitor.site.recording import continuous_wanted
from monitor.stopping import ignore_late_signals, install_worker_stop

log = logging.getLogger(__name__)

HEARTBEAT_S = 1.0  # the supervisor declares a worker hung after several missed beats
OFFLINE_AFTER_S = 15.0  # reconnecting for longer than this is reported as offline
ZONE_MOTION_FRACTION = 0.02  # an event "touches" a zone when this share of the zone's pixels changed
LIVE_SNAPSHOT_S = 1.0  # the live page refreshes every second while someone watches
LIVE_IDLE_SNAPSHOT_S = 60.0  # nobody watching: a fresh-enough picture for when someone opens the page
LIVE_WATCH_S = 10.0  # the web app marks a camera as watched; a mark older than this has lapsed
# At a stop, the stream readers get this long to notice it; one blocked in a stalled camera's read is
# left behind (a daemon thread) and the clip is finished without it, so the stop stays well under 10 s.
STOP_READ_WAIT_S = 1.5
PR_SET_PDEATHSIG = 1  # prctl(2) option: signal sent to this process when its parent thread dies
LIVE_SNAPSHOT_WIDTH = 640  # enough for a grid of counters on a 1366x768 screen
# Occupancy is stored once a second and the person detector runs a few times a second at most
# (PresenceParams.calls_per_s): looking at it more often (detect_fps 10 for snappier motion
# events) only costs CPU.
OCCUPANCY_FPS = 5.0
# Seconds sent up to this long ago are sent again when a late finding corrects them (a seated person found
# late counts from when they sat down: PresenceParams.backdate_found); older ones stay as stored.
CORRECT_S = 600.0
# how often the detection thread takes the person detector's height check (a median of up to 500) for the heartbeat
# and the correction: as soon as it has its 30 sightings (with the markers off, office-2c's two staff seats gave ~20
# a minute). The first 30 sightings' median was within the band on all 14 videos measured (0.96-1.12, my eight
# simulated cameras, the development offices and their degraded copies), near each one's whole-video figure.
HEIGHT_CHECK_S = 10.0


Send = Callable[[Message], None]


@dataclass
class StreamHealth:
    """What one stream source last said about itself."""

    state: str = "connecting"
    error: str | None = None
    reconnects: int = 0
    info: dict[str, Any] = field(default_factory=dict)
    online_since: float | None = None
    last_online: float | None = None


def camera_state(streams: list[StreamHealth], now: float, started: float) -> str:
    """One state for the camera from its streams: online, connecting, reconnecting or offline."""
    if all(s.state == "online" for s in streams):
        return "online"
    last = [s.last_online for s in streams if s.last_online is not None]
    since = min(last) if len(last) == len(streams) else started
    if any(s.state == "reconnecting" for s in streams) or now - started > OFFLINE_AFTER_S:
        return "offline" if now - since > OFFLINE_AFTER_S else "reconnecting"
    return "connecting"


def motion_params(settings: Defaults) -> MotionParams:
    m = settings.motion
    return MotionParams(
        pixel_threshold=m.pixel_threshold,
        min_area=m.min_area,
        lighting_guard=m.lighting_guard,
        background_alpha=m.background_alpha,
    )


class CameraWorker:
    """Runs detection on the detect stream and records clips from the main stream."""

    def __init__(self, config: Config, camera: Camera, send: Send, clock: Callable[[], float] = time.time):
        self.config = config
        self.camera = camera
        self.settings = camera.settings(config.defaults)
        self.send = send
        self.clock = clock
        self.tz = ZoneInfo(config.site.timezone)
        self.recordings = Path(config.storage.recordings)
        self.base_dir = Path(config.path).parent
        st = self.settings
        # an event is cut so that pre-roll + event + post-roll fits in one clip of max_clip_s
        self.tracker = EventTracker(
            st.events.min_length_s,
            st.events.merge_gap_s,
            max(10.0, st.max_clip_s - st.pre_roll_s - st.post_roll_s),
        )
        # the ring reaches back a full pre-roll even when the event is confirmed min_length_s late
        self.recorder = ClipRecorder(st.pre_roll_s, st.post_roll_s, st.max_clip_s,
                                     ring_s=st.pre_roll_s + st.events.min_length_s + 2.0, camera=camera.id,
                                     audio=st.audio)
        self.main_stream: object | None = None
        self.disk = DiskGuard(self.recordings, int(config.retention.pause_free_mb * MB), camera.id)
        self.segments = self._segment_recorder() if camera.recording != "events" else None
        self.lock = threading.Lock()  # recorder is fed by the main-stream thread and driven by detection
        self.detector: MotionDetector | None = None
        self.zones = [ZoneSpec.from_zone(z) for z in camera.zones]
        self.occupancy: PersonOccupancy | None = None
        self.seconds = SecondAggregator(correct_s=CORRECT_S)
        self.occupancy_shape: tuple[int, ...] = ()
        self.occupancy_due = -math.inf  # time of the next frame occupancy analyses
        # PersonOccupancy.height_check's factor, taken every HEIGHT_CHECK_S by the detection thread (the heartbeat's)
        self.height_factor: float | None = None
        self.height_checked = -math.inf
        self.height_corrected = False  # the zones' person_height corrected by height_factor (once per worker)
        self.current: str | None = None  # open event id
        self.best_score = -1.0
        self.best_frame: Any = None  # the decoded frame itself: converted to BGR only for the thumbnail
        self.last_motion = 0.0
        self.frames = 0
        self.last_snapshot = 0.0
        self.zone_masks: dict[str, np.ndarray] = {}
        self.event_zones: set[str] = set()
        self.packets = 0
        self.finished = False  # set by finish(): a stream reader still blocked at the stop is ignored after
        # lag is only meaningful (and frames only dropped) on live streams: files are paced to real time
        live = not camera.is_file("sub" if camera.streams.sub else "main")
        self.stats = WorkerStats(time.time, live=live)

    def _segment_recorder(self) -> SegmentRecorder:
        """Continuous recording for the camera's mode (opening_hours or always)."""
        hours, mode, cam = self.config.site.opening_hours, self.camera.recording, self.camera.id
        return SegmentRecorder(SegmentPolicy(
            segment_s=self.settings.segment_s,
            path_for=lambda start: segment_path(self.recordings, cam, start, self.tz),
            wanted=lambda t: continuous_wanted(mode, hours, self.tz, t),
            allowed=lambda t: self.disk.recording_allowed(self.clock()),
            audio=self.settings.audio, camera=cam))

    # -- detection side -----------------------------------------------------------------
    def on_frame(self, item: SourceFrame) -> None:
        if self.finished:
            return
        grey = grey_small(item.frame, self.settings.detect_width)
        if self.detector is None or self.detector.shape != grey.shape:
            mask = polygon_mask(grey.shape, self.camera.masks) if self.camera.masks else None
            self.detector = MotionDetector(grey.shape, motion_params(self.settings), mask)
            self.zone_masks = {z.id: m for z in self.camera.zones
                               if (m := polygon_mask(grey.shape, [z.points])).any()}
        result = self.detector.update(grey)
        self.frames += 1
        t = item.t
        self.update_occupancy(grey, t, item.frame)
        if t - self.last_snapshot >= LIVE_SNAPSHOT_S and self.snapshot_wanted(t):
            self.last_snapshot = t
            try:
                write_thumbnail(bgr(item.frame), live_snapshot_path(self.recordings, self.camera.id),
                                width=LIVE_SNAPSHOT_WIDTH)
            except OSError as err:  # a full disk must not stop detection
                log.warning("%s: live snapshot not written: %s", self.camera.id, err)
        if result.motion:
            if not self.tracker.active and t - self.last_motion > self.settings.events.merge_gap_s:
                self.best_score, self.best_frame = -1.0, None
                self.event_zones = set()
            self.last_motion = t
            self.note_zones()
            if result.score > self.best_score:
                self.best_score, self.best_frame = result.score, item.frame
        for update in self.tracker.update(t, result.motion, result.score):
            self.on_event(update)

    def snapshot_wanted(self, t: float) -> bool:
        """Every second while the live page watches this camera, else once a minute."""
        if t - self.last_snapshot >= LIVE_IDLE_SNAPSHOT_S:
            return True
        try:
            watched = live_watch_path(self.recordings, self.camera.id).stat().st_mtime
        except OSError:
            return False
        return time.time() - watched <= LIVE_WATCH_S

    def note_zones(self) -> None:
        """Remember which zones the current motion touches (events are filtered by zone)."""
        assert self.detector is not None
        changed = self.detector.changed
        for zone_id, mask in self.zone_masks.items():
            if zone_id not in self.event_zones and np.count_nonzero(changed[mask]) >= ZONE_MOTION_FRACTION * mask.sum():
                self.event_zones.add(zone_id)

    def update_occupancy(self, grey: np.ndarray, t: float, frame: Any) -> None:
        """Zone presence (the same PersonOccupancy as `onestop analyze`); one sample per zone per whole second."""
        if not self.zones or self.detector is None or not self.occupancy_frame(t):
            return
        if self.occupancy is None or self.occupancy_shape != grey.shape:
            self.occupancy = PersonOccupancy(self.zones, frame.width / frame.height, masks=self.camera.masks)
            self.occupancy_shape = grey.shape
        states = self.occupancy.update(t, self.detector.changed, lambda: frame.to_ndarray(format="rgb24"), grey)
        for second, zones in self.seconds.add(t, states):
            self.send(OccupancySample.of(self.camera.id, second, zones))
        for second, zones in self.seconds.corrections():  # seconds sent already, corrected since
            self.send(OccupancyCorrection.of(self.camera.id, second, zones))
        if t - self.height_checked >= HEIGHT_CHECK_S and not self.height_corrected:
            self.height_checked = t
            self.height_factor = factor = self.occupancy.height_check()[1]
            if height_off(factor):
                # the markers are off: analyse from now on with them corrected (a new PersonOccupancy at the next
                # frame, which finds the seated people again within seconds); the heartbeat keeps the factor found
                corrected = self.camera.with_heights(scaled_heights(self.camera.zones, factor))
                self.zones = [ZoneSpec.from_zone(z) for z in corrected.zones]
                self.occupancy = None
                self.height_corrected = True
                log.warning("%s: the officers at the staff seats are %.2f times as tall as person_height says: "
                            "analysing with person_height x %.2f from now on; set the markers again", self.camera.id,
                            factor, factor)

    def occupancy_frame(self, t: float) -> bool:
        """True when occupancy analyses the frame at t: every frame up to OCCUPANCY_FPS, else on its grid."""
        period = 1.0 / OCCUPANCY_FPS
        detect_period = 1.0 / self.settings.detect_fps
        if detect_period >= period:
            return True
        if t < self.occupancy_due - detect_period / 2:  # half a detect frame of slack for arrival jitter
            return False
        # on the grid while frames keep coming; after a gap (or the first frame) from this frame
        self.occupancy_due = t + period if t - self.occupancy_due > period else self.occupancy_due + period
        return True

    def on_event(self, update: EventUpdate) -> None:
        cam = self.camera.id
        if update.kind == "start":
            eid = event_id(cam, update.start, self.tz)
            path = clip_path(self.recordings, cam, eid, update.start, self.tz)
            self.current = eid
            record = self.disk.recording_allowed(self.clock())  # a full disk: the event is kept, without a clip
            self.send(EventStarted(camera=cam, id=eid, start=update.start, peak=update.peak, clip=record,
                                   t=self.clock()))
            if record:
                with self.lock:
                    closed = self.recorder.start(path, update.start)
                self.report_clip(closed)
            self.save_thumbnail(eid, path)
            log.info("%s: event %s started", cam, eid)
        elif self.current is not None:
            eid, self.current = self.current, None
            self.send(EventEnded(camera=cam, id=eid, end=update.end, peak=update.peak,
                                 zones=tuple(sorted(self.event_zones)), t=self.clock()))
            self.event_zones = set()
            with self.lock:
                self.recorder.stop(update.end if update.end is not None else self.clock())
            self.save_thumbnail(eid, clip_path(self.recordings, cam, eid, update.start, self.tz))
            self.best_score, self.best_frame = -1.0, None
            log.info("%s: event %s ended after %.1f s", cam, eid, (update.end or update.start) - update.start)

    def save_thumbnail(self, eid: str, clip: Path) -> None:
        if self.best_frame is None:
            return
        thumb = clip.with_suffix(".jpg")
        try:
            write_thumbnail(bgr(self.best_frame), thumb)
        except OSError as err:
            log.warning("%s: thumbnail for %s not written: %s", self.camera.id, eid, err)
            return
        self.send(Thumbnail(camera=self.camera.id, id=eid, path=str(thumb.relative_to(self.recordings)),
                            t=self.clock()))

    # -- recording side -----------------------------------------------------------------
    def on_packet(self, item: SourcePacket) -> None:
        self.packets += 1
        self.stats.on_packet(item.packet.size)
        with self.lock:
            if self.finished:
                return
            if item.stream is not self.main_stream:
                # a new connection: the recorder must copy the stream while its container is open
                self.main_stream = item.stream
                self.report_clip(self.recorder.use_stream(item.stream, item.audio))
                if self.segments is not None:
                    self.report_segment(self.segments.use_stream(item.stream, item.audio))
            info = self.recorder.on_packet(item.packet, item.t)
            segment = self.segments.on_packet(item.packet, item.t) if self.segments is not None else None
        self.report_clip(info)
        self.report_segment(segment)

    def on_main_lost(self) -> None:
        """The main stream broke: finish the open clip (timestamps restart after a reconnect)."""
        with self.lock:
            info = self.recorder.close()
            self.recorder.ring.clear()
            self.main_stream = None
            segment = self.segments.close() if self.segments is not None else None
        self.report_clip(info)
        self.report_segment(segment)

    def report_clip(self, info: ClipInfo | None) -> None:
        failed = self.recorder.take_failed()
        if failed:  # out of space (ENOSPC) is the usual cause: look now, not at the next check
            self.disk.recording_allowed(self.clock(), force=True)
        for path in failed:
            self.send(ClipFailed(camera=self.camera.id, id=path.stem, t=self.clock()))
            log.warning("%s: clip %s failed", self.camera.id, path.name)
        if info is None:
            return
        self.send(ClipReady(camera=self.camera.id, id=info.path.stem, path=str(info.path.relative_to(self.recordings)),
                            duration=info.duration_s, t=self.clock()))
        log.info("%s: clip %s written (%.1f s)", self.camera.id, info.path.name, info.duration_s)

    def finish(self) -> None:
        """End any open event and clip (shutdown); a reader that comes back later changes nothing."""
        with self.lock:
            self.finished = True
        for update in self.tracker.flush(self.clock()):
            self.on_event(update)
        for second, zones in self.seconds.flush():  # samples held back for late corrections
            self.send(OccupancySample.of(self.camera.id, second, zones))
        with self.lock:
            info = self.recorder.close()
            segment = self.segments.close() if self.segments is not None else None
        self.report_clip(info)
        self.report_segment(segment)

    def report_segment(self, info: SegmentInfo | None) -> None:
        """Tell the writer about a finished segment."""
        if info is None:
            return
        self.send(SegmentReady(camera=self.camera.id, path=str(info.path.relative_to(self.recordings)),
                               start=info.start, duration=info.duration, bytes=info.bytes, t=self.clock()))


def _sources(worker: CameraWorker, stop: Any) -> tuple[StreamSource, StreamSource | None]:
    cam, base = worker.camera, worker.base_dir
    main_url = cam.stream_url("main", base)
    sub_url = cam.stream_url("sub", base)
    loop = cam.streams.loop
    fps = worker.settings.detect_fps
    if sub_url:
        main = StreamSource(main_url, f"{cam.id}/main", packets=True, decode=False, loop=loop,
                            is_file=cam.is_file("main"), stop=stop)
        det = StreamSource(sub_url, f"{cam.id}/sub", packets=False, decode=True, detect_fps=fps, loop=loop,
                           is_file=cam.is_file("sub"), stop=stop)
        return main, det
    main = StreamSource(main_url, f"{cam.id}/main", packets=True, decode=True, detect_fps=fps, loop=loop,
                        is_file=cam.is_file("main"), stop=stop)
    return main, None


class _Health:
    """Tracks stream states and turns them into status messages (on change and with each heartbeat)."""

    def __init__(self, worker: CameraWorker, roles: list[str]):
        self.worker = worker
        self.streams = {r: StreamHealth() for r in roles}
        self.started = worker.clock()
        self.sent_state: tuple[str, list[str]] | None = None
        self.lock = threading.Lock()

    def update(self, role: str, status: SourceStatus) -> None:
        now = self.worker.clock()
        with self.lock:
            h = self.streams[role]
            h.state, h.error, h.reconnects = status.state, status.error, status.reconnects
            if status.info:
                h.info = dict(status.info)
            if status.state == "online":
                h.online_since = h.last_online = now
            elif h.online_since is not None:
                h.last_online, h.online_since = now, None
        self.tick(force=True)

    def tick(self, force: bool = False) -> None:
        now = self.worker.clock()
        self.worker.disk.recording_allowed(now)
        with self.lock:
            for h in self.streams.values():
                if h.state == "online":
                    h.last_online = now
            state = camera_state(list(self.streams.values()), now, self.started)
            errors = [e for e in [self.worker.disk.alert] + [h.error for h in self.streams.values()] if e]
            changed = (state, errors[:1]) != self.sent_state
            self.sent_state = (state, errors[:1])
            msg = Status(camera=self.worker.camera.id, state=state, error=errors[0] if errors else None,
                         reconnects=max(h.reconnects for h in self.streams.values()),
                         info={r: h.info for r, h in self.streams.items()}, t=now)
        if changed or force:
            self.worker.send(msg)


def run_camera(worker: CameraWorker, stop: Any) -> None:
    """Run the camera until stop is set: a thread for the main stream when a sub-stream does detection."""
    main, det = _sources(worker, stop)
    health = _Health(worker, ["main", "sub"] if det else ["main"])
    detect = det if det is not None else main

    def consume(source: StreamSource, role: str) -> None:
        for item in source.items():
            if isinstance(item, SourcePacket):
                worker.on_packet(item)
            elif isinstance(item, SourceFrame):
                if worker.stats.admit(item.pts_s):  # False: behind real time, skipped (counted as dropped)
                    worker.on_frame(item)
            elif isinstance(item, SourceStatus):
                if item.state == "online" and source is detect:
                    worker.stats.on_connect()
                if role == "main" and item.state in ("reconnecting", "stopped"):
                    worker.on_main_lost()
                health.update(role, item)

    markers = height_markers(worker.camera.zones)  # the markers as configured: a worker's camera never changes

    def beat() -> None:
        while True:  # the first beat at once: the supervisor sees a restarted worker's pid within a second
            health.tick()
            worker.send(Heartbeat(camera=worker.camera.id, t=worker.clock(), pid=os.getpid(), frames=worker.frames,
                                  packets=worker.packets,
                                  stats={**worker.stats.snapshot(det.decoded if det is not None else None),
                                         "height_factor": worker.height_factor,
                                         "height_corrected": worker.height_corrected,
                                         "height_markers": markers}))
            if stop.wait(HEARTBEAT_S):
                return

    failed: list[BaseException] = []

    def guarded(source: StreamSource, role: str) -> None:
        try:
            consume(source, role)
        except Exception as err:  # noqa: BLE001 - re-raised in the worker's main thread below
            log.exception("%s: %s stream loop failed", worker.camera.id, role)
            failed.append(err)
            stop.set()

    roles = [(main, "main"), (det, "sub")] if det is not None else [(main, "main")]
    readers = [threading.Thread(target=guarded, args=(src, role), name=f"{worker.camera.id}-{role}", daemon=True)
               for src, role in roles]
    threads = [threading.Thread(target=beat, name=f"{worker.camera.id}-heartbeat", daemon=True), *readers]
    for th in threads:
        th.start()
    try:
        stop.wait()  # the readers run until stop (a non-looping file that ended leaves the worker idle)
    finally:
        stop.set()
        deadline = time.monotonic() + STOP_READ_WAIT_S
        for th in readers:
            th.join(max(0.0, deadline - time.monotonic()))
        stuck = [th.name for th in readers if th.is_alive()]
        if stuck:  # a stalled camera: its read returns only at RTSP_READ_TIMEOUT_S
            log.warning("%s: %s still blocked in a read; finishing the clip without waiting", worker.camera.id,
                        ", ".join(stuck))
        worker.finish()
    if failed:
        raise failed[0]


def die_with_parent(parent_pid: int) -> None:
    """Linux: be SIGKILLed when the supervisor dies, so a restarted one never finds two workers per camera.

    The open clip is left as a fragmented '.part' that the new supervisor's start-up check recovers.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        log.warning("cannot ask to die with the supervisor (not Linux?)")
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def worker_main(config_path: str, camera_id: str, queue: Any) -> None:
    """Process entry point (spawned by the supervisor, which stops it with SIGTERM: monitor/stopping.py)."""
    import multiprocessing

    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s %(levelname)s [{camera_id}] %(name)s: %(message)s")
    stop = threading.Event()
    install_worker_stop(stop)
    parent = multiprocessing.parent_process()
    if parent is not None and parent.pid is not None:
        die_with_parent(parent.pid)
    config = load_config(config_path)
    camera = next(c for c in config.cameras if c.id == camera_id)
    worker = CameraWorker(config, camera, queue.put)
    try:
        run_camera(worker, stop)
    finally:
        ignore_late_signals((signal.SIGTERM,))
    queue.put(Status(camera=camera_id, state="stopped", t=time.time()))
