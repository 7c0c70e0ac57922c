"""Supervisor: starts and watches the camera workers, owns the single DB writer, serves the web app."""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue as queue_mod
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from monitor.ops.alerts import AlertMonitor, read_rows
from monitor.site.config import Camera, Config
from monitor.jobs import DailyReportJob, PeriodicJob, ReportCacheJob, RetentionJob
from monitor.hubjob import hub_job
from monitor.site.reload import Reloader
from monitor.site.state import SiteState
from monitor.db.durable import DurableWriter
from monitor.db.store import Writer, open_db
from monitor.camera.worker import worker_main
from monitor.messages import Heartbeat, Message, Status

log = logging.getLogger(__name__)

RESTART_BACKOFF_START_S = 1.0  # first restart quickly: a killed worker should be back within seconds
RESTART_BACKOFF_MAX_S = 30.0  # a worker that keeps crashing (bad camera firmware) must not spin the CPU
STABLE_AFTER_S = 60.0  # a worker that ran this long resets its back-off
HUNG_AFTER_S = 20.0  # no heartbeat (sent every second) for this long: the worker is hung
STOP_GRACE_S = 25.0  # workers finish open clips; a stalled RTSP read can block up to its 10 s time-out
WRITER_BATCH = 500  # messages per transaction: short transactions keep readers unblocked
WRITER_WAIT_S = 0.2  # the writer commits at least this often when messages trickle in
QUEUE_MAX = 20_000  # bounded: a stuck writer shows up as back-pressure, not unbounded memory
WRITER_SHUTDOWN_GRACE_S = 30.0  # at shutdown a locked/full database is waited for this long, then given up

@dataclass
class WorkerSlot:
    camera: Camera
    process: mp.process.BaseProcess | None = None
    stop: Any = None
    started: float = 0.0
    restarts: int = 0
    backoff: float = RESTART_BACKOFF_START_S
    next_start: float = 0.0


class Supervisor:
    """Runs everything for one site until SIGINT/SIGTERM."""

    def __init__(self, config: Config, host: str = "127.0.0.1", port: int = 8000, web: bool = True):
        self.config = config
        self.host, self.port, self.web = host, port, web
        self.ctx = mp.get_context("spawn")
        self.queue = self.ctx.Queue(QUEUE_MAX)
        self.stopping = threading.Event()
        self.slots: dict[str, WorkerSlot] = {}
        self.last_beat: dict[str, float] = {}
        self.writer_done = threading.Event()
        self.writer_done_at: float | None = None
        self.durable: DurableWriter | None = None
        self.server: Any = None
        self.app: Any = None
        # cameras.yaml edits without a restart; the web app reads the config through `site`
        self.reloader = Reloader(config, on_config=self.config_changed, start_worker=self.start_camera,
                                 stop_worker=self.retire_worker)
        self.site = SiteState(config, request_reload=self.reloader.nudge)  # a save in the web UI applies at once
        self.alerts = AlertMonitor(config)
        cache = ReportCacheJob(lambda: self.config)
        self.jobs: list[PeriodicJob] = [cache, DailyReportJob(lambda: self.config, after=cache.run_soon),
                                        RetentionJob(lambda: self.config)]
        self.hub = hub_job(lambda: self.config)  # None without a hub: section
        if self.hub is not None:
            self.jobs.append(self.hub)

    # -- workers ------------------------------------------------------------------------
    def start_worker(self, slot: WorkerSlot) -> None:
        slot.stop = self.ctx.Event()
        slot.process = self.ctx.Process(
            target=worker_main,
            args=(str(self.config.path), slot.camera.id, self.queue, slot.stop),
            name=f"worker-{slot.camera.id}",
            daemon=False,
        )
        slot.process.start()
        slot.started = time.time()
        self.last_beat[slot.camera.id] = slot.started
        log.info("%s: worker started (pid %s)", slot.camera.id, slot.process.pid)

    def start_camera(self, camera: Camera) -> None:
        """A new slot for the camera, and its worker started (the reloader's start_worker)."""
        self.slots[camera.id] = WorkerSlot(camera)
        self.start_worker(self.slots[camera.id])

    def retire_worker(self, cam_id: str) -> Any:
        """Forget the camera's slot and ask its worker to stop; returns its process (the reloader's stop_worker)."""
        slot = self.slots.pop(cam_id, None)
        if slot is None:
            return None
        if slot.stop is not None:
            slot.stop.set()
        return slot.process

    def check_workers(self, now: float) -> None:
        """Restart dead or hung workers with back-off."""
        if self.durable is not None and self.durable.stalled_since is not None:
            # the writer is waiting for the database and reads no heartbeats: nobody is hung for that
            for cam_id in self.slots:
                self.last_beat[cam_id] = now
        for cam_id, slot in self.slots.items():
            proc = slot.process
            if proc is not None and proc.is_alive():
                if now - self.last_beat.get(cam_id, now) > HUNG_AFTER_S:
                    log.warning("%s: worker hung (no heartbeat for %.0f s), killing it", cam_id, HUNG_AFTER_S)
                    proc.kill()
                    proc.join(5)
                else:
                    continue
            if proc is not None:
                code = proc.exitcode
                proc.join(0)
                slot.process = None
                if now - slot.started > STABLE_AFTER_S:
                    slot.backoff = RESTART_BACKOFF_START_S
                slot.next_start = now + slot.backoff
                slot.backoff = min(slot.backoff * 2, RESTART_BACKOFF_MAX_S)
                slot.restarts += 1
                log.warning("%s: worker exited (code %s); restart in %.0f s", cam_id, code, slot.next_start - now)
                self.queue.put(Status(camera=cam_id, state="restarting", error=f"worker exited with code {code}",
                                      t=now))
            if now >= slot.next_start:
                self.start_worker(slot)

    # -- writer -------------------------------------------------------------------------
    def writer_loop(self, writer: Writer) -> None:
        """The only code that writes to SQLite: batches of messages, one short transaction each."""
        self.durable = DurableWriter(writer, give_up=self.writes_abandoned)
        while True:
            batch: list[Message] = []
            try:
                batch.append(self.queue.get(timeout=WRITER_WAIT_S))
                while len(batch) < WRITER_BATCH:
                    batch.append(self.queue.get_nowait())
            except queue_mod.Empty:
                pass
            for msg in batch:
                if isinstance(msg, (Heartbeat, Status)):
                    self.last_beat[msg.camera] = time.time()
            if batch:
                self.durable.write(batch)
            elif self.writer_done.is_set():
                return

    def writes_abandoned(self) -> bool:
        """True once shutdown has waited WRITER_SHUTDOWN_GRACE_S for an unavailable database."""
        return self.writer_done_at is not None and time.time() - self.writer_done_at > WRITER_SHUTDOWN_GRACE_S

    # -- web ----------------------------------------------------------------------------
    def start_web(self) -> threading.Thread | None:
        if not self.web:
            return None
        from waitress import create_server

        from webui import create_app

        # 8 threads: up to 2 long-lived MJPEG streams may each hold one; pages need the rest
        self.app = create_app(self.site)
        self.server = create_server(self.app, host=self.host, port=self.port, threads=8)
        th = threading.Thread(target=self.server.run, name="web", daemon=True)
        th.start()
        log.info("web UI on http://%s:%s", self.host, self.port)
        return th

    # -- lifecycle ----------------------------------------------------------------------
    def run(self) -> int:
        db = open_db(self.config.storage.database)
        writer = Writer(db)
        writer.register_cameras((c.id, c.name, c.enabled) for c in self.config.cameras)
        from monitor.upkeep.recovery import recover

        recover(self.config, db)  # before any worker: no clip is being written while it looks
        writer_thread = threading.Thread(target=self.writer_loop, args=(writer,), name="writer")
        writer_thread.start()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stopping.set())
        try:
            self.start_web()
            for cam in self.config.cameras:
                if cam.enabled:
                    self.start_camera(cam)
            while not self.stopping.wait(0.5):
                self.check_workers(time.time())
                self.reloader.tick(time.time())
                alerts = self.alerts.check(lambda: read_rows(self.config.storage.database))
                if self.hub is not None:
                    self.hub.alerts(alerts)
                for job in self.jobs:  # the report cache, the daily report, retention: each in its own thread
                    job.tick(time.time())
        finally:
            self.shutdown()
            self.writer_done_at = time.time()
            self.writer_done.set()
            writer_thread.join()
            db.conn.close()
            self.alerts.close()
            if self.hub is not None:
                self.hub.close()
        log.info("supervisor stopped")
        return 0

    def config_changed(self, config: Config) -> None:
        """A reloaded cameras.yaml (the reloader's on_config): DB rows, the web app, alerts, camera names."""
        self.config = config
        db = open_db(config.storage.database)
        try:
            Writer(db).register_cameras((c.id, c.name, c.enabled) for c in config.cameras)
        finally:
            db.conn.close()
        self.site.replace(config)  # the web app shows the new config
        self.alerts.config = config  # new threshold and cameras; a changed webhook URL needs a restart
        cameras = {c.id: c for c in config.cameras}
        for cam_id, slot in self.slots.items():  # a worker whose view did not change keeps running: new name only
            slot.camera = cameras.get(cam_id, slot.camera)

    def shutdown(self) -> None:
        self.reloader.shutdown(STOP_GRACE_S)
        log.info("stopping %d workers", len(self.slots))
        for slot in self.slots.values():
            if slot.stop is not None:
                slot.stop.set()
        deadline = time.time() + STOP_GRACE_S
        for slot in self.slots.values():
            if slot.process is not None:
                slot.process.join(max(0.1, deadline - time.time()))
                if slot.process.is_alive():
                    log.warning("%s: worker did not stop in time; terminating", slot.camera.id)
                    slot.process.terminate()
                    slot.process.join(5)
        if self.server is not None:
            self.server.close()
