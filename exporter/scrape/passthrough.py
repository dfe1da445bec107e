"""The pass-through mode (``--source passthrough``): Trino's own ``/metrics`` families re-served as Trino wrote them,
with the exporter's self metrics after them.

No MBean records and no rules. Each scrape takes the live config's ``passthrough`` (a reload applies from the next
scrape) and asks the source for its exact names (``name[]``); when a ``*`` pattern is among them it reads the whole
``/metrics`` and picks the families here (:meth:`exporter.config.model.Passthrough.selects`). A family named like one
of the exporter's own metrics is left out, said once in a while and counted: two families of one name would make
Prometheus refuse the whole scrape, and the exporter's own are what tells whether the scrape worked. The single
flight, the scrape timeout and ``min_interval`` are the rule path's (:class:`exporter.scrape.scraper.SingleFlight`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from exporter.output.exposition import SimpleFamily, render_openmetrics, render_read_families, render_text
from exporter.records.metrics import MetricFamily
from exporter.scrape.ratelimit import RateLimitedLog
from exporter.scrape.scraper import (
    DEFAULT_TIMEOUT,
    ScrapeResult,
    SingleFlight,
    build_info_family,
    duration_family,
    error_family,
    gauge_family,
    reload_families,
    target_up_family,
)
from exporter.scrape.watcher import ConfigWatcher
from exporter.sources.base import FamilyRequest, FamilySource, SourceError

log = logging.getLogger(__name__)

_SHOWN = 5  # names listed in a log line


@dataclass
class PassthroughResult(ScrapeResult):
    """A finished pass-through scrape: the target's ``families`` as read, then the exporter's own metrics."""

    families: Sequence[MetricFamily] = field(default=(), repr=False)

    def _render(self, openmetrics: bool) -> bytes:
        own = (render_openmetrics if openmetrics else render_text)(self.self_families)
        return (render_read_families(self.families, openmetrics) + own).encode("utf-8")


class PassthroughScraper(SingleFlight):
    """Re-serves the families of a :class:`FamilySource` that the config's ``passthrough`` picks; never raises."""

    def __init__(
        self,
        watcher: ConfigWatcher,
        source: FamilySource,
        timeout: float | None = DEFAULT_TIMEOUT,
        min_interval: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(watcher, source, timeout, min_interval, clock)
        self.source: FamilySource = source
        self.missing: tuple[str, ...] = ()  # exact names the last answer had nothing of
        self._errors = RateLimitedLog(log)
        self._clashes = RateLimitedLog(log)
        self._missing_log = RateLimitedLog(log)
        # Every name an exposition of the exporter's own metrics uses, in either format.
        self._reserved = frozenset(_names_of(self._self_metrics(0.0, None, False, 0, 0)))

    def _failed(self, why: str, duration: float) -> ScrapeResult:
        return self._result((), why, duration, False, 0)

    def _scrape_now(self, budget: float) -> ScrapeResult:
        start = self._clock()
        config = self.watcher.config
        selection = config.passthrough
        families: list[MetricFamily] = []
        clashing: list[MetricFamily] = []
        error: str | None = None
        target_up = False
        try:
            if selection is None:
                raise SourceError(f"{config.source} has no passthrough.names, which --source passthrough re-serves "
                                  "(names: ['*'] for every family)")  # fmt: skip
            request = FamilyRequest(None if selection.patterns else selection.names)
            self.upstream_fetches += 1
            snapshot = self.source.fetch_families(request, start + budget)
            target_up = True
            read = snapshot.families
            if request.names is None:
                read = tuple(family for family in read if selection.selects(family.name))
            for family in read:
                (clashing if self._clashes_with_own(family) else families).append(family)
            self._say_what_was_left_out(selection.names, families, clashing)
            self._errors.recovered("scrape of %s succeeded again", self.source.description)
        except SourceError as exc:
            families, clashing = [], []
            error = str(exc)
            self._errors.error("scrape failed: %s", error)
        except Exception as exc:  # a bug must cost one scrape, not the process
            families, clashing = [], []
            error = f"internal error: {type(exc).__name__}: {exc}"
            log.exception("scrape failed with an internal error")
        return self._result(families, error, self._clock() - start, target_up, len(clashing))

    def _clashes_with_own(self, family: MetricFamily) -> bool:
        reserved = self._reserved
        return family.name in reserved or any(sample.name in reserved for sample in family.samples)

    def _say_what_was_left_out(
        self, names: Sequence[str], kept: Sequence[MetricFamily], clashing: Sequence[MetricFamily]
    ) -> None:
        if clashing:
            self._clashes.warning(
                "left out %d famil%s of %s named like the exporter's own metrics: %s", len(clashing),
                "y" if len(clashing) == 1 else "ies", self.source.description, _listed([f.name for f in clashing]),
            )  # fmt: skip
        found = [family.name for family in kept]
        self.missing = tuple(name for name in names if not _answered(name, found))
        if self.missing:
            self._missing_log.warning(
                "%d of the %d names in passthrough.names are not on %s: %s (a typo, a bean this node does not have, "
                "or a name this Trino version spells otherwise?)", len(self.missing), len(names),
                self.source.description, _listed(self.missing),
            )  # fmt: skip
        else:
            self._missing_log.recovered("every name in passthrough.names is on %s again", self.source.description)

    def _result(
        self, families: Sequence[MetricFamily], error: str | None, duration: float, target_up: bool, clashing: int
    ) -> PassthroughResult:
        own = self._self_metrics(duration, error, target_up, len(families), clashing)
        return PassthroughResult(error, duration, self._clock(), target_up, own, families=families)

    def _self_metrics(
        self, duration: float, error: str | None, target_up: bool, families: int, clashing: int
    ) -> list[SimpleFamily]:
        return [
            duration_family(duration, self.min_interval),
            error_family(error),
            *reload_families(self.watcher),
            build_info_family(),
            target_up_family(target_up),
            gauge_family(
                "presto_jmx_exporter_passthrough_families",
                "Metric families of the target re-served by this scrape; 0 with jmx_scrape_error 0 means none of "
                "the config's passthrough.names is on the target.",
                float(families),
            ),
            gauge_family(
                "presto_jmx_exporter_passthrough_missing_names",
                "Exact names in the config's passthrough.names of which the target's last answer had nothing.",
                float(len(self.missing)),
            ),
            gauge_family(
                "presto_jmx_exporter_passthrough_clashing_families",
                "Metric families of the target left out of this scrape because they are named like one of the "
                "exporter's own metrics.",
                float(clashing),
            ),
        ]


def _names_of(own: Iterable[SimpleFamily]) -> Iterable[str]:
    """The family and sample names of the exporter's own metrics, with and without ``_total`` (the OpenMetrics
    family name of a counter, the text format's)."""
    for family in own:
        base = family.name.removesuffix("_total")
        yield from (base, base + "_total")


def _answered(name: str, found: Sequence[str]) -> bool:
    """Whether the answer has something of an exact name: its family or its parts; the airlift of Trino 480-482
    answers a raw JMX name without its ``JMX_``."""
    spellings = (name, name.removeprefix("JMX_"))
    return any(family == spelled or family.startswith(spelled + "_") for family in found for spelled in spellings)


def _listed(names: Sequence[str]) -> str:
    more = f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
    return ", ".join(names[:_SHOWN]) + more
