"""The cluster's nodes as probe targets: the coordinator's node list, read at most every ``refresh`` seconds.

Each node becomes the target ``/probe`` takes for it: its base URI (REST), or, with ``jmx_port``, the JMX registry
on the same host (``jmx://HOST:PORT``, for Trino 480+, which no longer serves ``/v1/jmx``). Reads are single flight:
callers that come while one runs wait for it. A failed read keeps the last good list (and says why); the list is
read again at the next call after ``refresh`` seconds (after a failure, after ``RETRY_FAILED`` seconds): asking for
a target nobody discovered can make the exporter read the list, but never more often than that.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from exporter.scrape.ratelimit import RateLimitedLog
from exporter.sources.address import AddressError, TargetAddress, target_address
from exporter.sources.base import SourceError
from exporter.sources.rest.nodes import Node

log = logging.getLogger(__name__)

DEFAULT_REFRESH = 30.0
RETRY_FAILED = 5.0  # seconds before a failed read is tried again (at most ``refresh``)


class Lister(Protocol):
    """What reads the node list (:class:`exporter.sources.rest.nodes.NodeLister`)."""

    @property
    def description(self) -> str: ...

    def nodes(self, deadline: float) -> tuple[tuple[Node, ...], tuple[str, ...]]: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Found:
    """A node and the probe target that reads it."""

    node: Node
    target: str


@dataclass(frozen=True, slots=True)
class NodeList:
    """The last good list (empty before the first), when it was read (None: never), and the error of the last read
    if it failed."""

    found: tuple[Found, ...] = ()
    read_at: float | None = None
    error: str | None = None


class Discovery:
    """The nodes of the cluster ``lister`` reads, as probe targets."""

    def __init__(
        self,
        lister: Lister,
        timeout: float = 8.0,
        refresh: float = DEFAULT_REFRESH,
        jmx_port: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lister = lister
        self.timeout = timeout
        self.refresh = refresh
        self.jmx_port = jmx_port
        self._clock = clock
        self._lock = threading.Lock()
        self._list = NodeList()
        self._known: frozenset[str] = frozenset()
        self.reads = 0
        self._errors = RateLimitedLog(log)
        self._problems = RateLimitedLog(log)

    def current(self) -> NodeList:
        """The node list, read again first when it is older than ``refresh`` seconds (or failed last time)."""
        snapshot = self._list
        if self._fresh(snapshot):
            return snapshot
        if not self._lock.acquire(timeout=self.timeout):
            return self._list
        try:
            if self._fresh(self._list):
                return self._list
            self._read()
            return self._list
        finally:
            self._lock.release()

    def knows(self, address: TargetAddress) -> bool:
        """Whether ``address`` is one of the discovered targets (the list read again if it is due)."""
        if address.target in self._known:
            return True
        self.current()
        return address.target in self._known

    def close(self) -> None:
        self.lister.close()

    def _fresh(self, snapshot: NodeList) -> bool:
        if snapshot.read_at is None:
            return False
        valid = self.refresh if snapshot.error is None else min(self.refresh, RETRY_FAILED)
        return self._clock() - snapshot.read_at < valid

    def _read(self) -> None:
        self.reads += 1
        started = self._clock()
        try:
            nodes, problems = self.lister.nodes(time.monotonic() + self.timeout)
        except SourceError as exc:
            self._errors.error("cannot read the node list of %s: %s", self.lister.description, exc)
            self._list = NodeList(self._list.found, started, str(exc))
            return
        for problem in problems:
            self._problems.warning("%s", problem)
        found = tuple(Found(node, target) for node in nodes if (target := self._target(node)) is not None)
        self._list = NodeList(found, started)
        self._known = frozenset(item.target for item in found)
        self._errors.recovered("read the node list of %s again", self.lister.description)

    def _target(self, node: Node) -> str | None:
        try:
            address = target_address(node.uri)
        except AddressError:
            return None
        if self.jmx_port is None:
            return address.target
        return target_address(f"jmx://{address.netloc.rsplit(':', 1)[0]}:{self.jmx_port}").target
