"""Group commit for SQLite's single writer: the writes queued meanwhile share one transaction.

SQLite takes one writer at a time, so a process's writes already run back to back on
one thread. ``GroupCommitter`` is that thread: it takes every write function queued
while the last batch ran and runs them in ONE write transaction (``BEGIN IMMEDIATE
... COMMIT``). Inside it each ``Database.write()`` is a SAVEPOINT, so a write that
fails rolls back alone and its caller gets its error while the others commit. No
caller hears back before the batch's COMMIT; if that fails, every caller of the
batch gets the error. The fixed costs of a write transaction (connection checkout,
BEGIN, COMMIT, the process lock, the thread hand-off both ways) are paid once per
batch instead of once per write.
"""
from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ContextManager

from sqlalchemy.engine import Connection

MAX_BATCH = 64
_SAVEPOINT = "omnifit_write"


class BatchAborted(RuntimeError):
    """SQLite rolled the batch's transaction back on its own (disk full, I/O error); nothing after it ran."""


@dataclass(eq=False)
class _Job:
    fn: Callable[[], Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    result: Any = None
    error: BaseException | None = None


@contextlib.contextmanager
def savepoint(conn: Connection) -> Iterator[Connection]:
    """One write inside the batch's transaction: released on success, rolled back alone on any error."""
    driver = conn.connection.driver_connection
    if not driver.in_transaction:
        raise BatchAborted("the batch's write transaction was rolled back by SQLite; retry")
    driver.execute(f"SAVEPOINT {_SAVEPOINT}")
    try:
        yield conn
    except BaseException:
        driver.execute(f"ROLLBACK TO {_SAVEPOINT}")
        driver.execute(f"RELEASE {_SAVEPOINT}")
        raise
    driver.execute(f"RELEASE {_SAVEPOINT}")


def _settle(jobs: list[_Job]) -> None:
    """Hand each job's outcome to its caller (on the caller's event loop)."""
    for job in jobs:
        if job.future.done():  # the caller gave up (cancelled)
            continue
        if job.error is not None:
            job.future.set_exception(job.error)
        else:
            job.future.set_result(job.result)


class GroupCommitter:
    """The writer thread; ``begin`` opens (and on exit commits) one write transaction."""

    def __init__(self, begin: Callable[[], ContextManager[Connection]], max_batch: int = MAX_BATCH) -> None:
        self._begin = begin
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._local = threading.local()
        self._thread = threading.Thread(target=self._run, name="omnifit-db-write", daemon=True)
        self._thread.start()

    @property
    def connection(self) -> Connection | None:
        """The batch's connection while this thread runs a write function, else ``None``."""
        return getattr(self._local, "conn", None)

    def submit(self, fn: Callable[[], Any]) -> asyncio.Future[Any]:
        """Queue ``fn`` (it uses ``Database.write()``); the future settles after its batch commits."""
        loop = asyncio.get_running_loop()
        job = _Job(fn, loop, loop.create_future())
        self._queue.put(job)
        return job.future

    def close(self) -> None:
        """Run what is queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while batch[-1] is not None and len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            jobs = [job for job in batch if job is not None]
            if jobs:
                self._run_batch(jobs)
                self._reply(jobs)
            if batch[-1] is None:
                return

    def _run_batch(self, jobs: list[_Job]) -> None:
        try:
            with self._begin() as conn:
                self._local.conn = conn
                try:
                    for job in jobs:
                        self._run_job(job)
                    if not conn.connection.driver_connection.in_transaction:
                        raise BatchAborted("the batch's write transaction was rolled back by SQLite; retry")
                finally:
                    self._local.conn = None
        except Exception as exc:  # noqa: BLE001 - the batch did not commit: every caller hears why
            for job in jobs:
                if job.error is None:
                    job.error = exc

    @staticmethod
    def _run_job(job: _Job) -> None:
        try:
            job.result = job.fn()
        except Exception as exc:  # noqa: BLE001 - handed to the caller
            job.error = exc

    @staticmethod
    def _reply(jobs: list[_Job]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
        for job in jobs:
            by_loop.setdefault(job.loop, []).append(job)
        for loop, its_jobs in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting
                loop.call_soon_threadsafe(_settle, its_jobs)
