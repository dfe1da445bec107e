"""The threads every HTTP client of the process runs its concurrent GETs on.

A :class:`~concurrent.futures.ThreadPoolExecutor` per client keeps its threads until the client is closed: one
exporter probing many targets would hold ``parallelism`` idle threads (and their stacks) for every target it keeps.
Here the clients share one set of threads, made when a call finds none waiting and ended after ``idle`` seconds
without work, so the process holds about as many threads as GETs were in flight at once lately. There is no cap on
the total: a target that hangs ties up only its own GETs' threads, never the others' (each call bounds its own
concurrency).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")
DEFAULT_IDLE = 30.0


class ElasticThreads:
    """Runs calls on daemon threads that are made on demand and end when idle for ``idle`` seconds."""

    def __init__(self, idle: float = DEFAULT_IDLE, name: str = "http-get") -> None:
        self.idle = idle
        self.name = name
        self._work: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._waiting = 0  # threads waiting for work that no queued call has claimed
        self._threads = 0
        self._made = 0

    @property
    def threads(self) -> int:
        """The threads alive now."""
        with self._lock:
            return self._threads

    def submit(self, call: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``call(*args)`` on a waiting thread, or a new one when none is waiting."""
        future: Future[T] = Future()
        with self._lock:
            self._work.put((future, call, args))
            if self._waiting:
                self._waiting -= 1  # that thread now owes this call
                return future
            self._threads += 1
            self._made += 1
            name = f"{self.name}-{self._made}"
        threading.Thread(target=self._run, name=name, daemon=True).start()
        return future

    def _run(self) -> None:
        while True:
            try:
                future, call, args = self._work.get(timeout=self.idle)
            except queue.Empty:
                with self._lock:
                    if self._waiting:  # no call claimed this thread: it may end
                        self._waiting -= 1
                        self._threads -= 1
                        return
                continue  # a call claimed it just as the wait ran out: its work is in the queue
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(call(*args))
                except BaseException as exc:  # handed to the caller through the future
                    future.set_exception(exc)
            del future, call, args
            with self._lock:
                self._waiting += 1


_shared: ElasticThreads | None = None
_shared_lock = threading.Lock()


def shared() -> ElasticThreads:
    """The process's one set of GET threads, made on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ElasticThreads()
        return _shared
