"""The interface every MBean source implements, and what a fetch returns; and the smaller one of a source that can
also give its metric families as the server wrote them (the pass-through mode)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from exporter.config.model import Config
from exporter.records.mbeans import MBean
from exporter.records.metrics import MetricFamily


class SourceError(Exception):
    """The target could not be read. ``str()`` is a one-line cause fit for a log line and never holds a secret."""


@dataclass(frozen=True, slots=True)
class BeanRequest:
    """What the caller needs from a fetch.

    ``object_names`` lists the exact beans wanted when they are known in advance (None means "every bean");
    ``patterns`` are ObjectName patterns a source that can query on the server side may use to narrow a full list;
    ``attributes`` names, for some of ``object_names`` (spelled as there), the only attributes the caller can use: a
    source that reads attributes one by one (Trino's ``/metrics``) asks for just those, the others may ignore it.
    A name without an entry needs every attribute.
    """

    object_names: tuple[str, ...] | None = None
    patterns: tuple[str, ...] = ()
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The beans read in one fetch, with what it cost (bytes, requests) and the parts that had to be skipped."""

    beans: tuple[MBean, ...] = ()
    bytes_read: int = 0
    requests: int = 0
    problems: tuple[str, ...] = ()


class Source(Protocol):
    """Reads MBeans from one target. Implementations must bound every fetch by ``deadline`` (a monotonic time)."""

    @property
    def description(self) -> str:
        """The target as shown in logs and on the landing page; it may change when the config is reloaded."""
        ...

    def fetch(self, request: BeanRequest, deadline: float) -> Snapshot:
        """Read the requested beans; raise SourceError when the target cannot be read at all."""
        ...

    def config_reloaded(self, config: Config) -> None:
        """The config file was reloaded: take what the source reads from it (a JMX target's ``hostPort`` or
        ``jmxUrl``, credentials and ``ssl``); never raises."""
        ...

    def close(self) -> None:
        """Release connections and threads."""
        ...


@dataclass(frozen=True, slots=True)
class FamilyRequest:
    """What a pass-through fetch asks for: ``names``, the exact metric names the server is asked for (None: every
    family it has)."""

    names: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class FamilySnapshot:
    """The metric families read in one fetch, each once, in the server's order, with what it cost."""

    families: tuple[MetricFamily, ...] = ()
    bytes_read: int = 0
    requests: int = 0


class FamilySource(Protocol):
    """Reads the metric families of one target as its server writes them; every fetch is bounded by ``deadline``."""

    @property
    def description(self) -> str:
        """The target as shown in logs and on the landing page."""
        ...

    def fetch_families(self, request: FamilyRequest, deadline: float) -> FamilySnapshot:
        """Read the requested families; raise SourceError when the target cannot be read."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
