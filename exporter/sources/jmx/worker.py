"""Run calls into the JVM on one long-lived thread and wait for them with a deadline.

Why a dedicated thread: every Python thread that touches Java is attached to the JVM, and an attached thread that
ends without detaching leaks its Java thread object. HTTP handler threads come and go, so they never call Java;
they hand work to this thread and wait on an event. A call that overruns its deadline is abandoned: the caller
gets :class:`CallTimeout` at once, the stuck thread finishes its call whenever the remote side lets it (RMI's own
timeouts bound that) and then exits, and the next call starts a fresh thread. At most ``max_stuck`` abandoned
threads may linger; beyond that calls fail fast instead of piling up threads behind a hung server.

Pure Python: attaching and detaching are injected, so this is testable without a JVM.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class CallTimeout(Exception):
    """The call did not finish before its deadline (it may still be running on an abandoned thread)."""


class WorkerUnavailable(Exception):
    """The worker is closed, or too many earlier calls are still stuck."""


def _nothing() -> None:
    return None


class _Job(Generic[T]):
    __slots__ = ("done", "error", "fn", "result")

    def __init__(self, fn: Callable[[], T]) -> None:
        self.fn = fn
        self.done = threading.Event()
        self.result: T | None = None
        self.error: BaseException | None = None

    def execute(self) -> None:
        try:
            self.result = self.fn()
        except BaseException as exc:  # handed to the waiting caller, whatever it is
            self.error = exc
        finally:
            self.fn = _nothing  # type: ignore[assignment]  # drop the closure (and what it holds) on this thread
            self.done.set()


class _Lane:
    """One thread and its queue of jobs; ``None`` in the queue stops it."""

    def __init__(self, name: str, attach: Callable[[], None], detach: Callable[[], None]) -> None:
        self.jobs: queue.SimpleQueue[_Job[object] | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, args=(attach, detach), name=name, daemon=True)

    def _loop(self, attach: Callable[[], None], detach: Callable[[], None]) -> None:
        try:
            attach()
        except Exception:
            log.exception("cannot attach the worker thread to the JVM")
        try:
            while True:
                job = self.jobs.get()
                if job is None:
                    return
                job.execute()
                del job
        finally:
            try:
                detach()
            except Exception:
                log.exception("cannot detach the worker thread from the JVM")


class JvmWorker:
    """Runs callables one at a time on an attached daemon thread; callers wait at most until their deadline."""

    def __init__(
        self,
        name: str = "jmx-worker",
        attach: Callable[[], None] = _nothing,
        detach: Callable[[], None] = _nothing,
        max_stuck: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._name = name
        self._attach = attach
        self._detach = detach
        self._max_stuck = max_stuck
        self._clock = clock
        self._lock = threading.Lock()
        self._lane: _Lane | None = None
        self._abandoned: list[_Lane] = []
        self._lanes_started = 0
        self._closed = False

    @property
    def stuck_threads(self) -> int:
        """Abandoned threads still running a call."""
        with self._lock:
            self._abandoned = [lane for lane in self._abandoned if lane.thread.is_alive()]
            return len(self._abandoned)

    def call(self, fn: Callable[[], T], deadline: float) -> T:
        """Run ``fn`` on the worker thread; re-raise what it raised; CallTimeout once ``deadline`` passes."""
        if deadline <= self._clock():
            raise CallTimeout("no time left before the deadline")  # do not abandon a healthy thread for nothing
        with self._lock:
            if self._closed:
                raise WorkerUnavailable("the JMX worker is closed")
            lane = self._lane
            if lane is None:
                self._abandoned = [old for old in self._abandoned if old.thread.is_alive()]
                if len(self._abandoned) >= self._max_stuck:
                    raise WorkerUnavailable(
                        f"{len(self._abandoned)} earlier calls to the JMX server are still hung; not starting another"
                    )
                self._lanes_started += 1
                lane = self._lane = _Lane(f"{self._name}-{self._lanes_started}", self._attach, self._detach)
                lane.thread.start()
            job: _Job[T] = _Job(fn)
            lane.jobs.put(job)  # type: ignore[arg-type]
        if not job.done.wait(max(0.0, deadline - self._clock())):
            with self._lock:
                if not job.done.is_set():
                    if self._lane is lane:
                        self._lane = None
                        self._abandoned.append(lane)
                        lane.jobs.put(None)  # stop once the stuck call returns
                    raise CallTimeout("the call did not finish before the deadline")
        if job.error is not None:
            error, job.error = job.error, None
            raise error
        return job.result  # type: ignore[return-value]

    def spawn(self, fn: Callable[[], object], name: str = "cleanup") -> None:
        """Run ``fn`` on a short-lived attached daemon thread, for work nobody waits on (closing a dead connection).

        Errors are logged at debug level. The reference to ``fn`` is dropped before the thread detaches.
        """
        holder = [fn]
        attach, detach = self._attach, self._detach

        def run() -> None:
            try:
                attach()
                task = holder.pop()
                try:
                    task()
                except Exception as exc:
                    log.debug("background %s failed: %s", name, exc)
                finally:
                    del task
            finally:
                detach()

        threading.Thread(target=run, name=f"{self._name}-{name}", daemon=True).start()

    def close(self, timeout: float = 2.0) -> None:
        """Stop accepting calls; let the thread finish its queue and detach, waiting at most ``timeout``."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            lane, self._lane = self._lane, None
        if lane is not None:
            lane.jobs.put(None)
            lane.thread.join(timeout)
