"""One scrape: fetch from the source, apply the rules, add the self metrics, render once.

Concurrent scrapes share one upstream fetch (single flight); with ``min_interval`` a result younger than that is
served again, and the HELP text of ``jmx_scrape_duration_seconds`` says so. What is fetched is decided by
:class:`exporter.scrape.planner.Planner` (only the beans the rules can use; ``discovery_interval`` sets how often the
bean list is read again).

The family layout and its prerendered lines are reused while the rule verdicts stay the same
(:class:`exporter.output.rendering.Rendering`).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from exporter import __version__
from exporter.output.compression import gzip_body
from exporter.output.exposition import (
    SimpleFamily,
    SimpleSample,
    render_openmetrics,
    render_text,
)
from exporter.output.families import build_layout
from exporter.output.rendering import Rendering
from exporter.records.mbeans import MBean
from exporter.rules.engine import RuleEngine, RuleTimeout
from exporter.scrape.planner import DEFAULT_DISCOVERY_INTERVAL, Planner
from exporter.scrape.ratelimit import RateLimitedLog
from exporter.scrape.watcher import ConfigWatcher, EngineCopy
from exporter.sources.base import FamilySource, Snapshot, Source, SourceError

log = logging.getLogger(__name__)

_GRACE = 0.1
DEFAULT_TIMEOUT = 8.0


def gauge_family(name: str, help_text: str, value: float, labels: tuple[tuple[str, str], ...] = ()) -> SimpleFamily:
    return SimpleFamily(name, "gauge", help_text, (SimpleSample(labels, value),))


def _counter(name: str, help_text: str, value: float) -> SimpleFamily:
    return SimpleFamily(name, "counter", help_text, (SimpleSample((), value),))


def _info(name: str, help_text: str, labels: tuple[tuple[str, str], ...]) -> SimpleFamily:
    return SimpleFamily(name, "info", help_text, (SimpleSample(labels, 1.0),))


# Family names of the exporter's own metrics as the text format writes them (counters without _total).
SELF_METRIC_NAMES = frozenset({
    "jmx_scrape_duration_seconds",
    "jmx_scrape_error",
    "jmx_scrape_cached_beans",
    "jmx_config_reload_success",
    "jmx_config_reload_failure",
    "jmx_exporter_build_info",
    "presto_jmx_exporter_target_up",
    "presto_jmx_exporter_openmetrics_omitted_samples",
    "presto_jmx_exporter_missing_beans",
    "presto_jmx_exporter_rule_series",
})
# What rules may not produce: also the OpenMetrics family name of jmx_exporter_build_info, an info metric (a rule
# named jmx_exporter_build_info gives it, as _info is dropped from rule names), or OpenMetrics would get two families
# of one name.
RESERVED_NAMES = SELF_METRIC_NAMES | {"jmx_exporter_build"}


@dataclass
class ScrapeResult:
    """A finished scrape. The rendered bodies are built on first use and shared by every client.

    The MBean samples are ``values`` laid out by ``rendering`` (None when the scrape produced none); the exporter's
    own metrics follow them in ``self_families``. ``invalid_counters`` are the indices of COUNTER values that are
    negative or NaN: OpenMetrics forbids them, so its body leaves those samples out; the text format keeps them.
    """

    error: str | None
    duration: float
    finished_at: float
    target_up: bool
    self_families: Sequence[SimpleFamily] = ()
    rendering: Rendering | None = field(default=None, repr=False)
    values: Sequence[float] = field(default=(), repr=False)
    invalid_counters: tuple[int, ...] = ()
    _bodies: dict[tuple[bool, bool], bytes] = field(default_factory=dict, repr=False)

    def body(self, openmetrics: bool = False, compressed: bool = False) -> bytes:
        key = (openmetrics, compressed)
        cached = self._bodies.get(key)
        if cached is None:
            if compressed:
                # The plain body is not kept for it: Prometheus asks for gzip, and a big plain body is megabytes.
                cached = gzip_body(self._bodies.get((openmetrics, False)) or self._render(openmetrics))
            else:
                cached = self._render(openmetrics)
            self._bodies[key] = cached
        return cached

    def _render(self, openmetrics: bool) -> bytes:
        own = (render_openmetrics if openmetrics else render_text)(self.self_families).encode("utf-8")
        if self.rendering is None:
            return own
        leave_out = frozenset(self.invalid_counters) if openmetrics else ()
        return self.rendering.text(openmetrics).render(self.values, leave_out, tail=own)


class _Flight:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: ScrapeResult | None = None


class SingleFlight:
    """What every scraper shares: one upstream fetch at a time (concurrent scrapes wait for it, each only as long as
    its own timeout), a result younger than ``min_interval`` served again, and the bound on one whole scrape.

    A subclass does the scrape itself (``_scrape_now``, which never raises) and says what a scrape that did not finish
    in time, or broke, answers (``_failed``). Like :class:`Scraper`, it never raises from :meth:`scrape`.
    """

    def __init__(
        self,
        watcher: ConfigWatcher | EngineCopy,
        source: Source | FamilySource,
        timeout: float | None = DEFAULT_TIMEOUT,
        min_interval: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.watcher = watcher
        self.source = source
        self._timeout = timeout
        self.min_interval = min_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._flight: _Flight | None = None
        self.last: ScrapeResult | None = None
        self.upstream_fetches = 0
        self.waiting = 0  # scrapes currently waiting on another's fetch

    @property
    def timeout(self) -> float:
        """The bound on one whole scrape: the one the scraper was built with, else (None) the live config's
        ``scrapeTimeoutSeconds`` (a reloaded value applies from the next scrape), else DEFAULT_TIMEOUT."""
        if self._timeout is not None:
            return self._timeout
        configured = self.watcher.config.scrape_timeout_seconds
        return float(configured) if configured is not None else DEFAULT_TIMEOUT

    @property
    def busy(self) -> bool:
        """Whether a fetch is under way (its source must not be closed now)."""
        return self._flight is not None

    def scrape(self, timeout: float | None = None) -> ScrapeResult:
        """One scrape, coalesced with any scrape already under way.

        The fetch runs on a thread of its own with the whole ``timeout`` the scraper was built with; each caller waits
        for it only as long as its own ``timeout`` (which can only shorten that), so a client in a hurry gets a failed
        scrape of its own without cutting short the fetch that others wait for.
        """
        budget = self.timeout if timeout is None else max(0.1, min(self.timeout, timeout))
        with self._lock:
            last = self.last
            if last is not None and self.min_interval > 0 and self._clock() - last.finished_at < self.min_interval:
                return last
            flight = self._flight
            joined = flight is not None
            if flight is None:
                flight = self._flight = _Flight()
                threading.Thread(target=self._fly, args=(flight,), name="scrape", daemon=True).start()
            if joined:
                self.waiting += 1
        try:
            # A little grace past the budget: a fetch that times out at its deadline says how, just after.
            flight.done.wait(budget + _GRACE)
        finally:
            if joined:
                with self._lock:
                    self.waiting -= 1
        if flight.result is not None:
            return flight.result
        why = (f"the scrape did not finish within this request's {budget:g}s (it may take up to {self.timeout:g}s): "
               "give this client a longer scrape timeout")
        return self._failed(why, budget)

    def _fly(self, flight: _Flight) -> None:
        result = None
        try:
            result = self._scrape_now(self.timeout)
        finally:
            if result is None:
                result = self._failed("internal error", self.timeout)
            with self._lock:
                self._flight = None
                self.last = result
            flight.result = result
            flight.done.set()

    def _scrape_now(self, budget: float) -> ScrapeResult:
        """One scrape within ``budget`` seconds; never raises."""
        raise NotImplementedError

    def _failed(self, why: str, duration: float) -> ScrapeResult:
        """The answer of a scrape that failed before it had anything: ``why`` as its error."""
        raise NotImplementedError


class Scraper(SingleFlight):
    """Turns the target's MBeans into a ScrapeResult; never raises, whatever the target or the rules do."""

    def __init__(
        self,
        watcher: ConfigWatcher | EngineCopy,
        source: Source,
        timeout: float | None = DEFAULT_TIMEOUT,
        min_interval: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        discovery_interval: float = DEFAULT_DISCOVERY_INTERVAL,
    ) -> None:
        super().__init__(watcher, source, timeout, min_interval, clock)
        self.source: Source = source
        self.discovery_interval = discovery_interval
        self.planner = Planner(*watcher.live, discovery_interval, clock)
        self._rendering: Rendering | None = None
        self._errors = RateLimitedLog(log)
        self._counter_warnings = RateLimitedLog(log)
        self._nothing_exported = RateLimitedLog(log)
        self._rule_failures = RateLimitedLog(log)

    def _failed(self, why: str, duration: float) -> ScrapeResult:
        return self._result(None, (), why, duration, False)

    def _scrape_now(self, budget: float) -> ScrapeResult:
        start = self._clock()
        deadline = start + budget
        config, engine = self.watcher.live
        planner = self.planner
        if planner.engine is not engine:  # the config was reloaded: plan afresh
            planner = self.planner = Planner(config, engine, self.discovery_interval, self._clock)
            self.source.config_reloaded(config)
        rendering: Rendering | None = None
        values: list[float] = []
        invalid: tuple[int, ...] = ()
        error: str | None = None
        target_up = False
        # A scrape allocates a few hundred thousand objects that live until its end and form no cycles: the cyclic
        # collector would only walk them again and again (a good part of a big scrape's time). Reference counting frees
        # them; cycles made meanwhile are collected once it runs again.
        paused = gc.isenabled()
        gc.disable()
        try:
            plan = planner.plan()
            self.upstream_fetches += 1
            snapshot = self.source.fetch(plan.request, deadline)
            target_up = True
            planner.learn(plan, snapshot.beans, deadline)
            for problem in snapshot.problems:
                self._errors.warning("skipped part of the target's answer: %s", problem)
            rendering, values, failures = self._lay_out(engine, snapshot, deadline)
            if failures:
                # jmx_exporter fails such a scrape (jmx_scrape_error 1); the samples the other rules made are kept.
                more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
                error = f"a rule could not be applied: {failures[0]}{more}"
                self._rule_failures.error("%s", error)
            if not values:
                why = _nothing_exported(self.source.description, plan.request.object_names, snapshot.beans)
                self._nothing_exported.warning("%s", why)
            del snapshot  # free the records before the collector runs again
            invalid, family = rendering.invalid_counters(values)
            if invalid:
                self._counter_warnings.warning(
                    "%d COUNTER sample(s) are negative or NaN, first in %s: OpenMetrics answers leave them out "
                    "(a counter never goes below zero; should the rule's type be GAUGE?)", len(invalid), family
                )
            self._errors.recovered("scrape of %s succeeded again", self.source.description)
            if not failures:
                self._rule_failures.recovered("the rules were applied without failure again")
        except (SourceError, RuleTimeout) as exc:
            rendering, values, invalid = None, [], ()
            error = str(exc)
            self._errors.error("scrape failed: %s", error)
        except Exception as exc:  # a bug must cost one scrape, not the process
            rendering, values, invalid = None, [], ()
            error = f"internal error: {type(exc).__name__}: {exc}"
            log.exception("scrape failed with an internal error")
        finally:
            if paused:
                gc.enable()
        return self._result(rendering, values, error, self._clock() - start, target_up, invalid)

    def _lay_out(
        self, engine: RuleEngine, snapshot: Snapshot, deadline: float
    ) -> tuple[Rendering, list[float], list[str]]:
        """Apply the rules; reuse the last layout when the verdicts are the same objects in the same order. The third
        item lists the rules that could not be applied."""
        rows = engine.collect(snapshot.beans, deadline=deadline)
        rendering = self._rendering
        if rendering is None or not rendering.reusable_for(engine, rows):
            layout = build_layout(rows.views(), RESERVED_NAMES)
            rendering = self._rendering = Rendering(engine, rows.verdicts, layout)
        numbers = rows.numbers
        return rendering, list(map(numbers.__getitem__, rendering.order)), rows.errors

    def _result(
        self,
        rendering: Rendering | None,
        values: Sequence[float],
        error: str | None,
        duration: float,
        target_up: bool,
        invalid: tuple[int, ...] = (),
    ) -> ScrapeResult:
        own = self._self_metrics(duration, error, target_up, len(invalid), len(values))
        return ScrapeResult(error, duration, self._clock(), target_up, own, rendering, values, invalid)

    def _self_metrics(
        self, duration: float, error: str | None, target_up: bool, invalid_counters: int, series: int
    ) -> list[SimpleFamily]:
        watcher = self.watcher
        return [
            duration_family(duration, self.min_interval),
            error_family(error),
            gauge_family(
                "jmx_scrape_cached_beans",
                "Number of beans with their matching rule cached",
                float(watcher.engine.cached_beans()),
            ),
            *reload_families(watcher),
            build_info_family(),
            target_up_family(target_up),
            gauge_family(
                "presto_jmx_exporter_rule_series",
                "Series the rules made in this scrape; 0 with jmx_scrape_error 0 means the rules fit no bean the "
                "target has.",
                float(series),
            ),
            gauge_family(
                "presto_jmx_exporter_missing_beans",
                "MBeans named in includeObjectNames that the target did not have when last asked for; they are asked "
                "for again after a back-off.",
                float(len(self.planner.missing)),
            ),
            gauge_family(
                "presto_jmx_exporter_openmetrics_omitted_samples",
                "Samples of the last scrape left out of OpenMetrics answers: COUNTER values that were negative or "
                "NaN.",
                float(invalid_counters),
            ),
        ]


# The self metrics every scraper has (the pass-through mode's too), each built afresh for one scrape.


def duration_family(duration: float, min_interval: float) -> SimpleFamily:
    reuse = f" Results are reused for up to {min_interval:g}s." if min_interval > 0 else ""
    return gauge_family("jmx_scrape_duration_seconds", "Time this JMX scrape took, in seconds." + reuse, duration)


def error_family(error: str | None) -> SimpleFamily:
    return gauge_family("jmx_scrape_error", "Non-zero if this scrape failed.", 1.0 if error else 0.0)


def reload_families(watcher: ConfigWatcher | EngineCopy) -> list[SimpleFamily]:
    return [
        _counter(
            "jmx_config_reload_success_total",
            "Number of times configuration have successfully been reloaded.",
            watcher.reload_success,
        ),
        _counter(
            "jmx_config_reload_failure_total",
            "Number of times configuration have failed to be reloaded.",
            watcher.reload_failure,
        ),
    ]


def build_info_family() -> SimpleFamily:
    return _info(
        "jmx_exporter_build_info",
        "JMX Exporter build information",
        (("name", "presto-jmx-exporter"), ("version", __version__)),
    )


def target_up_family(target_up: bool) -> SimpleFamily:
    return gauge_family(
        "presto_jmx_exporter_target_up",
        "1 if the last fetch from the Presto/Trino target succeeded, 0 if the target could not be read.",
        1.0 if target_up else 0.0,
    )


_PACKS = (
    ("trino.", "rules/trino.yml"), ("presto.", "rules/presto.yml"), ("com.facebook.presto.", "rules/prestodb.yml"),
)


def _nothing_exported(target: str, names: Sequence[str] | None, beans: Sequence[MBean]) -> str:
    """Why a scrape that worked exported nothing, and where to look."""
    if names is not None and not names:
        return "the config's includeObjectNames is an empty list, which selects no MBean (as in jmx_exporter)"
    if not beans and names:
        return (f"none of the {len(names)} MBeans the config's includeObjectNames lists is on {target}: is the pack "
                "for another product or version?")
    if not beans:
        return f"{target} has no MBeans to export (an empty list)"
    domains = sorted({bean.domain for bean in beans})
    shown = ", ".join(domains[:6]) + (f" and {len(domains) - 6} more" if len(domains) > 6 else "")
    packs = [pack for prefix, pack in _PACKS if any(domain.startswith(prefix) for domain in domains)]
    fits = f"; a pack for these: {' or '.join([*packs, 'rules/coordinator.yml'])}" if packs else ""
    return (f"the rules exported nothing from {target}, whose MBeans are in the domains {shown}{fits}; "
            "'presto-jmx-exporter explain' shows what each rule made of each attribute")
