"""``--source auto`` for an http(s) target: the REST source, until the server shows it has no ``/v1/jmx`` and its
``/metrics`` answers OpenMetrics (Trino 480 and later); from then on the native source.

The switch happens inside the fetch that met the 404s (so that scrape already has the native answer), and is logged
once. ``/v1/jmx`` is asked again every ``RECHECK`` seconds: a 404 that was passing (a proxy while the server restarts)
moves the source back to REST. When ``/metrics`` does not answer OpenMetrics either, the fetch fails with the REST
source's message (which names the targets that work) and what ``/metrics`` answered.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from exporter.config.model import Config
from exporter.sources.base import BeanRequest, Snapshot, SourceError
from exporter.sources.native.source import METRICS_PATH, NativeSource
from exporter.sources.resolver import BoundedResolver
from exporter.sources.rest.settings import HttpSettings
from exporter.sources.rest.source import JmxHttpGone, RestSource

log = logging.getLogger(__name__)

RECHECK = 300.0


class AutoSource:
    """REST first, native once ``/v1/jmx`` is gone and ``/metrics`` is there (implements the Source protocol)."""

    def __init__(
        self,
        target: str,
        settings: HttpSettings | None = None,
        resolver: BoundedResolver | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._target = target
        self._clock = clock
        self._recheck_at = 0.0
        self._settings = settings or HttpSettings()
        self._resolver = resolver
        self._rest = RestSource(target, self._settings, resolver)
        self._native: NativeSource | None = None
        self._lock = threading.Lock()

    @property
    def description(self) -> str:
        native = self._native
        return native.description if native is not None else self._rest.description

    @property
    def switched(self) -> bool:
        """Whether the native source reads the target now."""
        return self._native is not None

    def fetch(self, request: BeanRequest, deadline: float) -> Snapshot:
        native = self._native
        if native is not None:
            return self._fetch_native(native, request, deadline)
        try:
            return self._rest.fetch(request, deadline)
        except JmxHttpGone as gone:
            native = self._switch(gone, deadline)
            self._recheck_at = self._clock() + RECHECK
        return native.fetch(request, deadline)

    def _fetch_native(self, native: NativeSource, request: BeanRequest, deadline: float) -> Snapshot:
        """The native source's answer, unless it is time to look at ``/v1/jmx`` again and it answers."""
        if self._clock() < self._recheck_at:
            return native.fetch(request, deadline)
        self._recheck_at = self._clock() + RECHECK
        try:
            snapshot = self._rest.fetch(request, deadline)
        except SourceError:
            return native.fetch(request, deadline)
        log.info("%s serves /v1/jmx again: reading it from now on", self._rest.base)
        with self._lock:
            self._native = None
        native.close()
        return snapshot

    def _switch(self, gone: JmxHttpGone, deadline: float) -> NativeSource:
        with self._lock:
            if self._native is not None:
                return self._native
            candidate = NativeSource(self._target, self._settings, self._resolver)
            why = candidate.probe(deadline)
            if why is not None:
                candidate.close()
                raise SourceError(f"{gone}; {candidate.base}{METRICS_PATH} answered {why}") from None
            log.info("%s has no /v1/jmx (Trino 480 and later removed it) and its %s answers OpenMetrics: reading "
                     "that from now on (--source native)", self._rest.base, METRICS_PATH)
            self._native = candidate
        return candidate

    def config_reloaded(self, config: Config) -> None:
        """The HTTP sources' settings come from the command line only."""

    def close(self) -> None:
        self._rest.close()
        native = self._native
        if native is not None:
            native.close()
