"""The interface every MBean source implements, and what a fetch returns."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from exporter.mbeans import MBean


class SourceError(Exception):
    """The target could not be read. ``str()`` is a one-line cause fit for a log line and never holds a secret."""


@dataclass(frozen=True, slots=True)
class BeanRequest:
    """What the caller needs from a fetch.

    ``object_names`` lists the exact beans wanted when they are known in advance (None means "every bean");
    ``patterns`` are ObjectName patterns a source that can query on the server side may use to narrow a full list.
    ``deferred`` lets a source answer with a ``Snapshot.listing`` (a whole list, or beans fetched by name, decoded
    but not parsed) and leave the parsing to the first read of ``beans`` (a bad body then raises SourceError
    there).
    """

    object_names: tuple[str, ...] | None = None
    patterns: tuple[str, ...] = ()
    deferred: bool = False


class Listing(Protocol):
    """An answer not parsed into MBeans yet: a whole list (``exporter.sources.listing.BeanListing``) or the beans
    asked for by name (``exporter.sources.rest._NamedAnswers``)."""

    def parse(self) -> tuple[list[MBean], list[str]]: ...

    def items(self) -> Iterator[dict[str, Any]]: ...


class Snapshot:
    """The beans read in one fetch, with what it cost and what was skipped.

    With a ``listing`` and no ``beans``, ``beans`` and ``problems`` are parsed from it when first read.
    """

    __slots__ = ("_beans", "_problems", "bytes_read", "listing", "requests")

    def __init__(
        self,
        beans: tuple[MBean, ...] = (),
        bytes_read: int = 0,
        requests: int = 0,
        problems: tuple[str, ...] = (),
        listing: Listing | None = None,
    ) -> None:
        self._beans: tuple[MBean, ...] | None = None if listing is not None and not beans else beans
        self._problems = problems
        self.bytes_read = bytes_read
        self.requests = requests
        self.listing = listing

    @property
    def problems(self) -> tuple[str, ...]:
        return self._problems if self._beans is not None else self._parse()[1]

    @property
    def beans(self) -> tuple[MBean, ...]:
        return self._beans if self._beans is not None else self._parse()[0]

    def _parse(self) -> tuple[tuple[MBean, ...], tuple[str, ...]]:
        beans, problems = self.listing.parse()  # type: ignore[union-attr]
        self._beans, self._problems = tuple(beans), tuple(problems)
        return self._beans, self._problems


class Source(Protocol):
    """Reads MBeans from one target. Implementations must bound every fetch by ``deadline`` (a monotonic time)."""

    @property
    def description(self) -> str:
        """The target as shown in logs and on the landing page; it may change when the config is reloaded."""
        ...

    def fetch(self, request: BeanRequest, deadline: float) -> Snapshot:
        """Read the requested beans; raise SourceError when the target cannot be read at all."""
        ...

    def config_reloaded(self, config: object) -> None:
        """The config file was reloaded: take what the source reads from it (a JMX target's ``hostPort`` or
        ``jmxUrl``, credentials and ``ssl``); never raises."""
        ...

    def close(self) -> None:
        """Release connections and threads."""
        ...
