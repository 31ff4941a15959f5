"""Group commit: the writes queued meanwhile share one transaction.

SQLite takes one writer at a time, so a process's writes already run back to back on
one thread. ``GroupCommitter`` is that thread: it takes every write function queued
while the last batch ran and runs them in ONE write transaction (``BEGIN IMMEDIATE
... COMMIT``). Inside it each ``Database.write()`` is a SAVEPOINT, so a write that
fails rolls back alone and its caller gets its error while the others commit. No
caller hears back before the batch's COMMIT; if that fails, every caller of the
batch gets the error. The fixed costs of a write transaction (connection checkout,
BEGIN, COMMIT and its WAL flush, the process lock, the thread hand-off both ways) are
paid once per batch instead of once per write.

PostgreSQL cart mutations are group-committed too (``savepoints=False``), by a few
writer threads at once. There a savepoint would cost a round trip per write, so a
batch runs its writes bare and, when one of them fails after it sent changes (or
leaves the transaction aborted), rolls the whole batch back and runs every write
of it again on its own, in its own transaction on the executor: the batch is only
a fast path, and what each caller hears is what it would have heard alone. Other
replicas hold row locks too, and a batch that waited for one while holding its
earlier writes' locks could deadlock with them; so inside a batch rows are locked
``NOWAIT`` (``Database.in_batch``), and meeting a lock sends the batch down that
same slow path, where a write may wait as it always did.
"""
from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

MAX_BATCH = 64
_SAVEPOINT = "omnifit_write"


class BatchAborted(RuntimeError):
    """SQLite rolled the batch's transaction back on its own (disk full, I/O error); nothing after it ran."""


class _RunAlone(Exception):
    """A bare batch (no savepoints) cannot commit as it is: roll it back, run its writes one by one."""


def _transaction_alive(driver: Any) -> bool:
    """Whether the driver connection's transaction can still commit (SQLite may roll it back on its own;
    PostgreSQL refuses everything after an error)."""
    if hasattr(driver, "in_transaction"):  # sqlite3
        return bool(driver.in_transaction)
    from psycopg.pq import TransactionStatus

    return bool(driver.info.transaction_status != TransactionStatus.INERROR)


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
    assert driver is not None  # a connection in a transaction has its driver connection
    if not _transaction_alive(driver):
        raise BatchAborted("the batch's write transaction was rolled back by the database; retry")
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
    """The writer threads; ``begin`` opens (and on exit commits) one write transaction.

    ``savepoints``: each write in its own savepoint (SQLite), or bare with the whole
    batch run again write by write on ``executor`` when one fails (PostgreSQL).
    """

    def __init__(
        self,
        begin: Callable[[], contextlib.AbstractContextManager[Connection]],
        max_batch: int = MAX_BATCH,
        *,
        threads: int = 1,
        savepoints: bool = True,
        executor: Executor | None = None,
    ) -> None:
        if not savepoints and executor is None:
            raise ValueError("a batch without savepoints needs an executor to run its writes alone")
        self._begin = begin
        self._max_batch = max_batch
        self._savepoints = savepoints
        self._executor = executor
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._local = threading.local()
        self._threads = [threading.Thread(target=self._run, name=f"omnifit-db-write-{i}", daemon=True) for i in range(threads)]
        for thread in self._threads:
            thread.start()

    @property
    def connection(self) -> Connection | None:
        """The batch's connection while this thread runs a write function, else ``None``."""
        return getattr(self._local, "conn", None)

    @property
    def in_batch(self) -> bool:
        """Whether the calling thread runs a write inside a batch (row locks must not wait)."""
        return getattr(self._local, "conn", None) is not None

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """One write inside this thread's batch: a savepoint, or (bare) marked so a failure after it
        sent changes sends the batch down the slow path."""
        conn = self._local.conn
        if self._savepoints:
            with savepoint(conn):
                yield conn
            return
        self._local.sent = False
        try:
            yield conn
        except BaseException:
            if self._local.sent or not _transaction_alive(conn.connection.driver_connection):
                self._local.poisoned = True
            raise

    def note_sent(self) -> None:
        """The running write sent changes to the database (``Database.execute_writes``)."""
        if self.in_batch:
            self._local.sent = True

    def submit(self, fn: Callable[[], Any]) -> asyncio.Future[Any]:
        """Queue ``fn`` (it uses ``Database.write()``); the future settles after its batch commits."""
        loop = asyncio.get_running_loop()
        job = _Job(fn, loop, loop.create_future())
        self._queue.put(job)
        return job.future

    def close(self) -> None:
        """Run what is queued, then stop the threads."""
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()

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
                if self._run_batch(jobs):
                    self._reply(jobs)
                else:
                    for job in jobs:
                        self._run_alone(job)
            if batch[-1] is None:
                return

    def _run_batch(self, jobs: list[_Job]) -> bool:
        """Run ``jobs`` in one transaction; False when (bare) it was rolled back for them to run alone."""
        self._local.poisoned = False
        try:
            with self._begin() as conn:
                self._local.conn = conn
                try:
                    for job in jobs:
                        self._run_job(job)
                        if self._local.poisoned:
                            raise _RunAlone
                    if not _transaction_alive(conn.connection.driver_connection):
                        if not self._savepoints:
                            raise _RunAlone
                        raise BatchAborted("the batch's write transaction was rolled back by the database; retry")
                finally:
                    self._local.conn = None
        except _RunAlone:
            return False
        except Exception as exc:  # noqa: BLE001 - the batch did not commit: every caller hears why
            for job in jobs:
                if job.error is None:
                    job.error = exc
        return True

    def _run_alone(self, job: _Job) -> None:
        """Run ``job`` from scratch in its own transaction on the executor; its caller hears from there."""
        assert self._executor is not None
        job.result, job.error = None, None

        def settle(done: Any) -> None:
            job.error = done.exception()
            job.result = None if job.error is not None else done.result()
            self._reply([job])

        try:
            self._executor.submit(job.fn).add_done_callback(settle)
        except RuntimeError as exc:  # the executor is shut down
            job.error = exc
            self._reply([job])

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
