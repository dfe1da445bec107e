"""Many targets from one exporter: a :class:`~exporter.scrape.scraper.Scraper` per (module, target), made on demand.

Each probed target keeps what makes its next scrape cheap, as a single-target exporter does: its source (the REST
connection pool, or the JMX session), its planner, its rule engine with the engine's memo (an
:class:`~exporter.scrape.watcher.EngineCopy` of the module's live config) and its last layout. Concurrent probes of
one target share one fetch (the scraper's single flight). A target nobody probed for ``idle`` seconds is dropped,
source closed; so is the least recently probed one when ``max_targets`` are kept and another is asked for. A target
being scraped is never dropped: with every kept target busy, a new one is refused (:class:`PoolFull`).

With ``passthrough`` each target gets a :class:`~exporter.scrape.passthrough.PassthroughScraper` on the module's
config instead (no rule engine to copy: it re-serves the target's own families).

What may be probed is not decided here (see :mod:`exporter.web.probe`): the pool opens whatever it is asked for.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from exporter.config.model import Config
from exporter.scrape.passthrough import PassthroughScraper
from exporter.scrape.planner import DEFAULT_DISCOVERY_INTERVAL
from exporter.scrape.scraper import Scraper, ScrapeResult, SingleFlight
from exporter.scrape.watcher import ConfigWatcher, EngineCopy
from exporter.sources.base import FamilySource, Source

log = logging.getLogger(__name__)

DEFAULT_IDLE = 300.0
DEFAULT_MAX_TARGETS = 500


class PoolFull(Exception):
    """Every kept target is being scraped right now; ``str()`` says how many there are."""


@dataclass
class _Entry:
    scraper: SingleFlight
    last_used: float
    users: int = 0  # probes between taking the entry and their answer


class TargetPool:
    """The probed targets' scrapers. ``open_source(target, config)`` opens a target's source (UsageError for one it
    cannot read, e.g. a JMX target without JPype; a FamilySource with ``passthrough``); ``modules`` are the
    configurations probes may name."""

    def __init__(
        self,
        modules: Mapping[str, ConfigWatcher],
        open_source: Callable[[str, Config], Source | FamilySource],
        *,
        timeout: float = 8.0,
        min_interval: float = 0.0,
        discovery_interval: float = DEFAULT_DISCOVERY_INTERVAL,
        idle: float = DEFAULT_IDLE,
        max_targets: int = DEFAULT_MAX_TARGETS,
        clock: Callable[[], float] = time.monotonic,
        passthrough: bool = False,
    ) -> None:
        self.modules = dict(modules)
        self.passthrough = passthrough
        self._open_source = open_source
        self.timeout = timeout
        self.min_interval = min_interval
        self.discovery_interval = discovery_interval
        self.idle = idle
        self.max_targets = max_targets
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], _Entry] = {}
        self.opened = 0  # sources opened so far
        self.dropped = 0  # targets dropped so far (idle, or to make room)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def targets(self) -> list[tuple[str, str]]:
        """The (module, target) pairs kept now."""
        with self._lock:
            return list(self._entries)

    def scrape(self, target: str, module: str, timeout: float | None = None) -> ScrapeResult:
        """One scrape of ``target`` with ``module``'s config, as ``Scraper.scrape`` (never raises for the target's
        or the rules' failures); KeyError for an unknown module, UsageError when the source cannot be opened,
        PoolFull when no room can be made."""
        watcher = self.modules[module]
        key = (module, target)
        entry = self._take(key)
        if entry is None:
            source = self._open_source(target, watcher.config)  # outside the lock: starting a JVM takes seconds
            # The scraper keeps time as the sources do (its deadlines are theirs); ``clock`` is for idleness only.
            scraper: SingleFlight
            if self.passthrough:
                scraper = PassthroughScraper(watcher, source, timeout=self.timeout, min_interval=self.min_interval)
            else:
                scraper = Scraper(EngineCopy(watcher), source, timeout=self.timeout, min_interval=self.min_interval,
                                  discovery_interval=self.discovery_interval)  # fmt: skip
            entry, extra = self._keep(key, scraper)
            if extra is not None:
                extra.close()  # another probe of the same target opened it first
        try:
            return entry.scraper.scrape(timeout)
        finally:
            with self._lock:
                entry.users -= 1
                entry.last_used = self._clock()

    def sweep(self) -> int:
        """Drop the targets idle for longer than ``idle`` seconds; returns how many."""
        now = self._clock()
        with self._lock:
            stale = [key for key, entry in self._entries.items() if self._droppable(entry, now - self.idle)]
            closing = [self._entries.pop(key).scraper.source for key in stale]
            self.dropped += len(stale)
        for source in closing:
            source.close()
        if stale:
            log.debug("dropped %d probe target(s) idle for %gs", len(stale), self.idle)
        return len(stale)

    def close(self) -> None:
        with self._lock:
            entries, self._entries = list(self._entries.values()), {}
        for entry in entries:
            entry.scraper.source.close()

    def _droppable(self, entry: _Entry, used_before: float) -> bool:
        return entry.users == 0 and not entry.scraper.busy and entry.last_used <= used_before

    def _take(self, key: tuple[str, str]) -> _Entry | None:
        self.sweep()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry.users += 1
                entry.last_used = self._clock()
            return entry

    def _keep(self, key: tuple[str, str], scraper: SingleFlight) -> tuple[_Entry, Source | FamilySource | None]:
        """Keep ``scraper`` for ``key`` (making room if needed) and take it; or take the one another probe kept
        first, and give back the source to close."""
        evicted: Source | FamilySource | None = None
        full = 0
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry.users += 1
                return entry, scraper.source
            if len(self._entries) >= self.max_targets:
                droppable = [(e.last_used, k) for k, e in self._entries.items() if self._droppable(e, float("inf"))]
                if droppable:
                    evicted = self._entries.pop(min(droppable)[1]).scraper.source
                    self.dropped += 1
                else:
                    full = len(self._entries)
            if not full:
                entry = self._entries[key] = _Entry(scraper, self._clock(), users=1)
                self.opened += 1
        if full:
            scraper.source.close()
            raise PoolFull(f"all {full} probe targets kept (--probe-max-targets) are being scraped")
        if evicted is not None:
            evicted.close()
        return entry, None
