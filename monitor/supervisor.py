"""Supervisor: starts and watches the camera workers, owns the single DB writer, serves the web app."""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue as queue_mod
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from monitor.ops.alerts import AlertMonitor
from monitor.ops.delivery import make_sinks
from monitor.site.config import Camera, Config
from monitor.jobs import AlertJob, DailyReportJob, PeriodicJob, ReportCacheJob, RetentionJob
from monitor.hubjob import hub_job
from monitor.site.reload import Reloader
from monitor.site.state import SiteState
from monitor.db.durable import DurableWriter
from monitor.db.store import Writer, open_db
from monitor.camera.worker import worker_main
from monitor.messages import Heartbeat, Message, Status
from monitor.stopping import FORCED_WRITER_WAIT_S, WORKER_STOP_GRACE_S, StopRequest, ignore_late_signals

log = logging.getLogger(__name__)

RESTART_BACKOFF_START_S = 1.0  # first restart quickly: a killed worker should be back within seconds
RESTART_BACKOFF_MAX_S = 30.0  # a worker that keeps crashing (bad camera firmware) must not spin the CPU
STABLE_AFTER_S = 60.0  # a worker that ran this long resets its back-off
HUNG_AFTER_S = 20.0  # no heartbeat (sent every second) for this long: the worker is hung
WRITER_BATCH = 500  # messages per transaction: short transactions keep readers unblocked
WRITER_WAIT_S = 0.2  # the writer commits at least this often when messages trickle in
QUEUE_MAX = 20_000  # bounded: a stuck writer shows up as back-pressure, not unbounded memory
WRITER_SHUTDOWN_GRACE_S = 30.0  # at shutdown a locked/full database is waited for this long, then given up

@dataclass
class WorkerSlot:
    camera: Camera
    process: mp.process.BaseProcess | None = None
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
        self.stop = StopRequest(on_force=self.kill_workers)
        self.stopping = self.stop.requested
        self.slots: dict[str, WorkerSlot] = {}
        self.last_beat: dict[str, float] = {}
        self.writer_done = threading.Event()
        self.writer_done_at: float | None = None
        self.durable: DurableWriter | None = None
        self.server: Any = None
        self.web_closing = threading.Event()  # set just before stop closes the web server's sockets
        self.app: Any = None
        # cameras.yaml edits without a restart; the web app reads the config through `site`
        self.reloader = Reloader(config, on_config=self.config_changed, start_worker=self.start_camera,
                                 stop_worker=self.retire_worker)
        self.site = SiteState(config, request_reload=self.reloader.nudge)  # a save in the web UI applies at once
        self.hub = hub_job(lambda: self.config)  # None without a hub: section
        hub_sink = [self.hub.alert_sink()] if self.hub is not None else []
        # the alert rules, run as one of the jobs; the hub link is one more place alerts go
        self.alerts = AlertMonitor(config, sinks=make_sinks(config) + hub_sink)
        cache = ReportCacheJob(lambda: self.config)
        self.jobs: list[PeriodicJob] = [cache, DailyReportJob(lambda: self.config, after=cache.run_soon),
                                        RetentionJob(lambda: self.config), AlertJob(self.alerts)]
        if self.hub is not None:
            self.jobs.append(self.hub)

    # -- workers ------------------------------------------------------------------------
    def start_worker(self, slot: WorkerSlot) -> None:
        slot.process = self.ctx.Process(
            target=worker_main,
            args=(str(self.config.path), slot.camera.id, self.queue),
            name=f"worker-{slot.camera.id}",
            daemon=False,
        )
        slot.process.start()
        slot.started = time.time()
        self.last_beat[slot.camera.id] = slot.started
        # the new worker's pid at once, not at its first heartbeat: starting a Python process and importing
        # the detector takes seconds on a loaded machine, and the health page shows a restarted worker by its pid
        self.queue.put(Heartbeat(camera=slot.camera.id, t=slot.started, pid=slot.process.pid))
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
        if slot.process is not None:
            slot.process.terminate()  # SIGTERM: the worker's stop request (monitor/stopping.py)
        return slot.process

    def check_workers(self, now: float) -> None:
        """Restart dead or hung workers with back-off."""
        if self.durable is not None and self.durable.stalled_since is not None:
            # the writer is waiting for the database and reads no heartbeats: nobody is hung for that
            for cam_id in self.slots:
                self.last_beat[cam_id] = now
        for cam_id, slot in self.slots.items():
            if self.stopping.is_set():  # a signal to the whole group stops the workers first: no restarts
                return
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
        """True once shutdown has waited WRITER_SHUTDOWN_GRACE_S for an unavailable database, or was forced."""
        if self.stop.forced.is_set():
            return True
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
        th = threading.Thread(target=self.serve_web, name="web", daemon=True)
        th.start()
        log.info("web UI on http://%s:%s", self.host, self.port)
        return th

    def serve_web(self) -> None:
        """The web thread: serve until the stop closes the server.

        The stop closes the listening socket from the main thread while this one may be waiting in
        select() on it, which then fails (EBADF, or a negative descriptor): that is the end of serving,
        not an error. Seen once in a loaded test run, as a traceback in the log of a clean stop.
        """
        try:
            self.server.run()
        except (OSError, ValueError) as err:
            if not self.web_closing.is_set():
                raise
            log.debug("web server closed while waiting for requests: %s", err)

    # -- lifecycle ----------------------------------------------------------------------
    def run(self) -> int:
        """Run until SIGINT/SIGTERM; 0 after a clean stop, 1 when the stop was forced (monitor/stopping.py)."""
        db = open_db(self.config.storage.database)
        writer = Writer(db)
        writer.register_cameras((c.id, c.name, c.enabled) for c in self.config.cameras)
        from monitor.upkeep.recovery import recover

        recover(self.config, db)  # before any worker: no clip is being written while it looks
        # The supervisor reads this queue itself: at exit, never wait to flush its own puts into a pipe
        # whose write lock a SIGKILLed worker may hold.
        self.queue.cancel_join_thread()
        writer_thread = threading.Thread(target=self.writer_loop, args=(writer,), name="writer")
        writer_thread.start()
        self.stop.install()
        clean = False
        try:
            self.start_web()
            for cam in self.config.cameras:
                if cam.enabled and not self.stopping.is_set():
                    self.start_camera(cam)
            while not self.stopping.wait(0.5):
                self.check_workers(time.time())
                self.reloader.tick(time.time())
                for job in self.jobs:  # report cache, daily report, retention, alerts: each in its own thread
                    job.tick(time.time())
        finally:
            clean = self.shutdown()
            self.writer_done_at = time.time()
            self.writer_done.set()
            self.join_writer(writer_thread)
            db.conn.close()
            self.alerts.close()
            if self.hub is not None:
                self.hub.close()
            ignore_late_signals()
        clean = clean and not self.stop.forced.is_set() and (self.durable is None or not self.durable.dropped)
        log.info("supervisor stopped%s", "" if clean else " (not cleanly: see the warnings above)")
        return 0 if clean else 1

    def join_writer(self, writer_thread: threading.Thread) -> None:
        """Wait for the writer to store the queue; after a forced stop only FORCED_WRITER_WAIT_S."""
        while writer_thread.is_alive():
            writer_thread.join(0.2)
            if self.stop.forced.is_set():
                writer_thread.join(FORCED_WRITER_WAIT_S)
                if writer_thread.is_alive():
                    # blocked on a message a SIGKILLed worker left half-written: SQLite (WAL) rolls
                    # back the open transaction, if any, at the next start
                    log.error("writer still busy after a forced stop; exiting without it")
                    logging.shutdown()
                    os._exit(1)

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

    def worker_processes(self) -> list[tuple[str, mp.process.BaseProcess]]:
        """(camera, process) of every worker started, retiring ones included."""
        procs = [(cam_id, slot.process) for cam_id, slot in self.slots.items() if slot.process is not None]
        return procs + self.reloader.retiring_processes()

    def kill_workers(self) -> None:
        """SIGKILL every worker still running (a forced stop; runs in the signal watcher thread)."""
        for _, proc in self.worker_processes():
            proc.kill()

    def shutdown(self) -> bool:
        """Ask every worker to stop (SIGTERM) and wait; True when all of them stopped by themselves."""
        procs = self.worker_processes()
        log.info("stopping %d workers", len(procs))
        for _, proc in procs:
            proc.terminate()  # a no-op for a worker the group's signal already ended
        deadline = time.monotonic() + WORKER_STOP_GRACE_S
        clean = True
        for cam_id, proc in procs:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                log.warning("%s: worker did not stop within %.0f s; killing it (its clip is recovered "
                            "at the next start)", cam_id, WORKER_STOP_GRACE_S)
                proc.kill()
                proc.join(2)
            # -SIGTERM: the signal came before the worker's handler was in place (nothing open yet)
            clean = clean and proc.exitcode in (0, -signal.SIGTERM)
        if self.server is not None:
            self.web_closing.set()
            self.server.close()
        return clean
