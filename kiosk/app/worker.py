"""Work the kiosk must never do on its UI thread: cloud calls and scans.

The UI loop hands a job to :class:`Worker` and keeps drawing; the job runs on the
worker's asyncio loop (cloud calls through :class:`cloud.client.SyncClient`) or in
its work process (scans, face capture, calibration: see ``kiosk.app.isolated``), and
its outcome comes back as a
:class:`Outcome` in a thread-safe queue that the UI loop drains once per frame.
A slow or dead cloud therefore costs the shopper a spinner, never a frozen screen.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
import queue
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloud.client import SyncClient
from cloud.client.types import Session
from kiosk.app import isolated

_LOGGER = logging.getLogger(__name__)
# A fresh interpreter for the work process: forking a process that runs gRPC and SDL threads is unsafe.
_SPAWN = multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class Outcome:
    """A finished job (``value`` or ``error``) or, with ``progress`` set, a progress report of a running one."""

    job: int
    value: Any = None
    error: BaseException | None = None
    progress: tuple[str, float] | None = None
    event: Any = None  # one item of a running watch
    cloud: bool = False  # a cloud call: its success or failure says whether the cloud is reachable


class Worker:
    """An asyncio loop on a daemon thread holding the kiosk's cloud clients, plus a pool for blocking work.

    ``device`` is the client with the kiosk's device token (the shopper journey);
    ``staff`` the client of a signed-in staff member (admin mode), None otherwise.
    """

    def __init__(self, targets: list[str], *, device_token: str | None, store_path: Path | str,
                 tls_root_cert: bytes | None = None, device_token_file: Path | None = None) -> None:
        self._targets = targets
        self._device_token = device_token
        self._device_token_file = device_token_file
        self._store_path = store_path
        self._tls_root_cert = tls_root_cert
        self.outcomes: queue.Queue[Outcome] = queue.Queue()
        self.device: SyncClient | None = None
        self.staff: SyncClient | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="kiosk-cloud", daemon=True)
        self._next_job = 0
        self._watches: dict[int, concurrent.futures.Future] = {}
        self._progress = _SPAWN.Queue()
        self._frames = _SPAWN.Queue(maxsize=2)  # the mirror's pictures: two in flight at most, newest wins
        # Which streaming job should run (0: none): a per-job flag, so stopping one mirror and starting the
        # next cannot race (an event cleared for the new job could be cleared before the old one saw it).
        self._streaming = _SPAWN.Value("q", 0)
        self._progress_reader = threading.Thread(target=self._read_progress, name="kiosk-progress", daemon=True)
        self._process: concurrent.futures.ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._running = 0  # jobs in the work process now
        self._restarts = 0  # times the work process died and was started again

    def start(self, *, warm_up: bool = False) -> Worker:
        """Start the cloud loop; ``warm_up`` also starts the work process and loads the scanning stack now."""
        self._thread.start()
        self._progress_reader.start()
        asyncio.run_coroutine_threadsafe(self._open(), self._loop).result(30)
        if warm_up:
            self._work_process().submit(isolated.warm_up)
        return self

    def _work_process(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._process is None:
            self._process = concurrent.futures.ProcessPoolExecutor(
                1, mp_context=_SPAWN, initializer=isolated.start_child,
                initargs=(self._progress, self._frames, self._streaming))
        return self._process

    def _read_progress(self) -> None:
        while (report := self._progress.get()) is not None:
            job, stage, fraction = report
            self.outcomes.put(Outcome(job, progress=(stage, fraction)))

    async def _open(self) -> None:
        # grpc.aio channels belong to the loop they are made on, so clients are made here.
        self.device = SyncClient(self._targets, token=self._device_token, store_path=self._store_path,
                                 tls_root_cert=self._tls_root_cert, on_token_renewed=self._save_device_token)

    def _save_device_token(self, session: Session) -> None:
        """Keep the renewed device token for the next start (0600, replaced atomically)."""
        if self._device_token_file is None:
            return
        tmp = self._device_token_file.with_name(self._device_token_file.name + ".new")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(session.token + "\n")
        os.replace(tmp, self._device_token_file)

    def _job_id(self) -> int:
        with self._lock:
            self._next_job += 1
            return self._next_job

    def call(self, make: Callable[[SyncClient], Awaitable[Any]], *, staff: bool = False) -> int:
        """Run ``make(client)`` on the loop with the device (or staff) client; returns the job id."""
        job = self._job_id()

        async def run() -> None:
            client = self.staff if staff else self.device
            try:
                if client is None:
                    raise PermissionError("no staff member is signed in")
                value = await make(client)
            except Exception as exc:  # every failure goes back to the screen that asked, as data
                _LOGGER.info("kiosk job %d failed: %s: %s", job, type(exc).__name__, exc)
                self.outcomes.put(Outcome(job, error=exc, cloud=True))
            else:
                self.outcomes.put(Outcome(job, value=value, cloud=True))

        asyncio.run_coroutine_threadsafe(run(), self._loop)
        return job

    def watch(self, make: Callable[[SyncClient], AsyncIterator[Any]]) -> int:
        """Stream ``make(client)`` (e.g. ``client.watch(cart_id)``): each item comes back as an outcome's ``event``
        until :meth:`cancel`; an error ends the stream and comes back like a call's."""
        job = self._job_id()

        async def run() -> None:
            try:
                async for item in make(self.device):
                    self.outcomes.put(Outcome(job, event=item, cloud=True))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the screen hears that its live view stopped
                _LOGGER.info("kiosk watch %d ended: %s: %s", job, type(exc).__name__, exc)
                self.outcomes.put(Outcome(job, error=exc, cloud=True))

        self._watches[job] = asyncio.run_coroutine_threadsafe(run(), self._loop)
        return job

    def cancel(self, job: int) -> None:
        """Stop a watch (thread-safe; nothing happens for a finished or unknown job)."""
        future = self._watches.pop(job, None)
        if future is not None:
            future.cancel()

    def run_blocking(self, work: Callable[..., Any], *, reports_progress: bool = False) -> int:
        """Run ``work(progress)`` (``work()`` without ``reports_progress``) in the work process.

        ``work`` must be picklable: a module-level function, or a ``functools.partial`` of one
        with picklable arguments. ``progress(stage, fraction)`` reports come back as outcomes.
        """
        job = self._job_id()
        self._submit(job, isolated.run_job, job, work, reports_progress)
        return job

    def run_streaming(self, work: Callable[..., Any]) -> int:
        """Start ``work(job)`` in the work process: a job that sends pictures (:func:`isolated.send_frame`)
        until :meth:`stop_streaming`; :meth:`latest_frame` takes them on the UI thread."""
        job = self._job_id()
        self._streaming.value = job
        self._submit(job, isolated.run_streaming_job, job, work)
        return job

    def _submit(self, job: int, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` in the work process; its value or error comes back as ``job``'s outcome."""
        with self._lock:
            self._running += 1
        future = self._work_process().submit(fn, *args)

        def finished(done: concurrent.futures.Future) -> None:
            with self._lock:
                self._running -= 1
            if done.cancelled():  # the kiosk is closing: nobody waits for it
                return
            error = done.exception()
            if isinstance(error, BrokenProcessPool):
                _LOGGER.error("the kiosk's work process died during job %d; starting a new one", job)
                self._process = None
                self._restarts += 1
            self.outcomes.put(Outcome(job, error=error) if error is not None else Outcome(job, value=done.result()))

        future.add_done_callback(finished)

    def state(self) -> str:
        """The work process as staff read it: not started, ready, working, or restarted after a crash."""
        if self._process is None:
            return "not started" if not self._restarts else f"restarted {self._restarts} time(s); starts on the next job"
        if self._running:
            return "working" if not self._restarts else f"working (restarted {self._restarts} time(s))"
        return "ready" if not self._restarts else f"ready (restarted {self._restarts} time(s))"

    def stop_streaming(self) -> None:
        """Ask the streaming job to finish (it returns its figures as its outcome)."""
        self._streaming.value = 0

    def latest_frame(self, job: int) -> Any:
        """The newest picture ``job`` sent since the last call, or None; older ones are dropped."""
        newest = None
        while True:
            try:
                sender, payload = self._frames.get_nowait()
            except queue.Empty:
                return newest
            if sender == job:
                newest = payload

    def sign_in_staff(self, staff_id: str, password: str) -> int:
        """A job that signs a staff member in on a client of its own; that client becomes ``staff``."""

        async def sign_in(_device: SyncClient) -> Any:
            client = SyncClient(self._targets, tls_root_cert=self._tls_root_cert)
            try:
                session = await client.staff_sign_in(staff_id, password)
            except BaseException:
                await client.close()
                raise
            await self._close_staff()
            self.staff = client
            return session

        return self.call(sign_in)

    def adopt_staff_token(self, token: str) -> None:
        """Use a staff token obtained elsewhere (a badge reader, a test) for admin calls."""

        async def adopt() -> None:
            await self._close_staff()
            self.staff = SyncClient(self._targets, token=token, tls_root_cert=self._tls_root_cert)

        asyncio.run_coroutine_threadsafe(adopt(), self._loop).result(10)

    async def _close_staff(self) -> None:
        staff, self.staff = self.staff, None
        if staff is not None:
            await staff.close()

    def sign_out_staff(self) -> None:
        """Forget the staff client (and with it the staff token) at once."""
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._close_staff(), self._loop).result(10)

    def stop(self) -> None:
        for job in list(self._watches):
            self.cancel(job)

        async def close() -> None:
            # Calls still in flight (a cloud that does not answer) are given up, not left dangling.
            pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            await self._close_staff()
            if self.device is not None:
                await self.device.close()

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop.close()
        self._streaming.value = 0  # a mirror still running ends its loop
        if self._process is not None:
            self._process.shutdown(wait=True, cancel_futures=True)
        if self._progress_reader.is_alive():
            self._progress.put(None)
            self._progress_reader.join(10)
        self._progress.close()
        self._frames.close()
