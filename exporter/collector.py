"""One scrape: fetch from the source, apply the rules, add the self metrics, render once.

Concurrent scrapes share one upstream fetch (single flight); with ``min_interval`` a result younger than that is
served again, and the HELP text of ``jmx_scrape_duration_seconds`` says so. What is fetched is decided by
:class:`exporter.planner.Planner` (only the beans the rules can use; ``discovery_interval`` sets how often the bean
list is read again).

Rendering reuses the last scrape's work: while the rule verdicts come out as the same objects in the same order
(the rule engine's memo makes them so when nothing but values changed), the family grouping and every line's text
up to the value are kept, and a scrape only formats its numbers.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from exporter import __version__
from exporter.compression import gzip_body
from exporter.config import Config, ConfigError, MetricType, load_config
from exporter.exposition import FamilyShape, Prerendered, SimpleFamily, SimpleSample, render_openmetrics, render_text
from exporter.families import Layout, build_layout
from exporter.planner import DEFAULT_DISCOVERY_INTERVAL, Planner
from exporter.ratelimit import RateLimitedLog
from exporter.rules import Collected, RuleEngine
from exporter.sources.base import Snapshot, Source, SourceError
from exporter.steady import SteadyPlan

log = logging.getLogger(__name__)


def _gauge(name: str, help_text: str, value: float, labels: tuple[tuple[str, str], ...] = ()) -> SimpleFamily:
    return SimpleFamily(name, "gauge", help_text, (SimpleSample(labels, value),))


def _counter(name: str, help_text: str, value: float) -> SimpleFamily:
    return SimpleFamily(name, "counter", help_text, (SimpleSample((), value),))


class ConfigWatcher:
    """The live configuration: re-read when the file changes; a bad new file keeps the old one and counts a failure."""

    def __init__(self, path: str | Path, loader: Callable[[Path], Config] = load_config) -> None:
        self.path = Path(path)
        self._loader = loader
        self._lock = threading.Lock()
        self.reload_success = 0
        self.reload_failure = 0
        self._stamp = self._file_stamp()
        self.config = loader(self.path)  # raises ConfigError at start-up: the caller exits 2
        self.engine = RuleEngine(self.config)
        self._failed_stamp: tuple[int, int] | None = None

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def refresh(self) -> None:
        """Reload when the file changed since the last look (one stat per scrape)."""
        stamp = self._file_stamp()
        if stamp == self._stamp or stamp is None or stamp == self._failed_stamp:
            return
        with self._lock:
            if stamp == self._stamp:
                return
            try:
                config = self._loader(self.path)
                engine = RuleEngine(config)
            except ConfigError as exc:
                self.reload_failure += 1
                self._failed_stamp = stamp
                log.error("config reload failed, keeping the previous config: %s", exc)
                return
            self.config, self.engine = config, engine
            self._stamp = stamp
            self.reload_success += 1
            for warning in config.warnings:
                log.warning("%s", warning)
            log.info("config reloaded path=%s rules=%d", self.path, len(config.rules))


# Family names of the exporter's own metrics (counters without _total); rules may not produce these.
SELF_METRIC_NAMES = frozenset({
    "jmx_scrape_duration_seconds",
    "jmx_scrape_error",
    "jmx_scrape_cached_beans",
    "jmx_config_reload_success",
    "jmx_config_reload_failure",
    "jmx_exporter_build_info",
    "presto_jmx_exporter_target_up",
    "presto_jmx_exporter_openmetrics_omitted_samples",
})


class _Rendering:
    """A family layout and its prerendered texts, valid for scrapes whose verdicts are these same objects.

    Of the layout's families it keeps only their shapes: the Sample objects, with their help and match strings,
    would be several MB kept between scrapes for nothing.
    """

    def __init__(self, engine: RuleEngine, verdicts: list[object], layout: Layout) -> None:
        self.engine = engine
        self.verdicts = verdicts
        self.order = layout.order
        self.stable = layout.stable
        self._shapes = [FamilyShape.of(family) for family in layout.families]
        self._texts: dict[bool, Prerendered] = {}
        self._counters = _counter_families(self._shapes)

    def invalid_counters(self, values: Sequence[float]) -> tuple[tuple[int, ...], str]:
        """Indices of COUNTER samples whose value is negative or NaN, and the first such family's name."""
        invalid = tuple(index for index in self._counters if not values[index] >= 0)  # NaN fails >= too
        return (invalid, self._counters[invalid[0]]) if invalid else ((), "")

    def reusable_for(self, engine: RuleEngine, rows: Collected) -> bool:
        # List equality checks identity first, so this costs one pointer comparison per sample.
        return self.stable and self.engine is engine and self.verdicts == rows.verdicts

    def text(self, openmetrics: bool) -> Prerendered:
        prerendered = self._texts.get(openmetrics)
        if prerendered is None:  # two threads may both build it: harmless
            prerendered = self._texts[openmetrics] = Prerendered(self._shapes, openmetrics)
        return prerendered


def _counter_families(families: Sequence[FamilyShape]) -> dict[int, str]:
    """Family name by sample index (in exposition order) of every COUNTER family sample."""
    counters: dict[int, str] = {}
    start = 0
    for family in families:
        if family.type is MetricType.COUNTER:
            counters.update((start + offset, family.name) for offset in range(len(family.labels)))
        start += len(family.labels)
    return counters


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
    rendering: _Rendering | None = field(default=None, repr=False)
    values: Sequence[float] = field(default=(), repr=False)
    invalid_counters: tuple[int, ...] = ()
    _bodies: dict[tuple[bool, bool], bytes] = field(default_factory=dict, repr=False)

    def body(self, openmetrics: bool = False, compressed: bool = False) -> bytes:
        key = (openmetrics, compressed)
        cached = self._bodies.get(key)
        if cached is None:
            if compressed:
                # The plain body is not kept for it: Prometheus asks for gzip, and 17,000 series are 1.8 MB.
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


class Scraper:
    """Turns the target's MBeans into a ScrapeResult; never raises, whatever the target or the rules do."""

    def __init__(
        self,
        watcher: ConfigWatcher,
        source: Source,
        timeout: float = 8.0,
        min_interval: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        discovery_interval: float = DEFAULT_DISCOVERY_INTERVAL,
    ) -> None:
        self.watcher = watcher
        self.source = source
        self.timeout = timeout
        self.min_interval = min_interval
        self.discovery_interval = discovery_interval
        self._clock = clock
        self.planner = Planner(watcher.config, watcher.engine, discovery_interval, clock)
        self._rendering: _Rendering | None = None
        self._steady: tuple[_Rendering, SteadyPlan | None] | None = None
        self.steady_reads = 0  # scrapes whose values were read without records (exporter/steady.py)
        self._lock = threading.Lock()
        self._flight: _Flight | None = None
        self.last: ScrapeResult | None = None
        self.upstream_fetches = 0
        self.waiting = 0  # scrapes currently waiting on another's fetch
        self._errors = RateLimitedLog(log)
        self._counter_warnings = RateLimitedLog(log)

    @property
    def steady_plan(self) -> SteadyPlan | None:
        """The plan the next scrape may read values by (exporter/steady.py), if there is one."""
        return self._steady[1] if self._steady is not None else None

    def scrape(self, timeout: float | None = None) -> ScrapeResult:
        """One scrape, coalesced with any scrape already under way; ``timeout`` can only shorten the budget."""
        budget = self.timeout if timeout is None else max(0.1, min(self.timeout, timeout))
        with self._lock:
            last = self.last
            if last is not None and self.min_interval > 0 and self._clock() - last.finished_at < self.min_interval:
                return last
            flight = self._flight
            leader = flight is None
            if flight is None:
                flight = self._flight = _Flight()
        if not leader:
            with self._lock:
                self.waiting += 1
            try:
                flight.done.wait(budget + 1.0)
            finally:
                with self._lock:
                    self.waiting -= 1
            if flight.result is not None:
                return flight.result
            return self._result(None, (), "a concurrent scrape did not finish in time", budget, False)
        result = None
        try:
            result = self._scrape_now(budget)
        finally:
            if result is None:
                result = self._result(None, (), "internal error", budget, False)
            with self._lock:
                self._flight = None
                self.last = result
            flight.result = result
            flight.done.set()
        return result

    def _scrape_now(self, budget: float) -> ScrapeResult:
        start = self._clock()
        deadline = start + budget
        self.watcher.refresh()
        engine = self.watcher.engine
        planner = self.planner
        if planner.engine is not engine:  # the config was reloaded: plan afresh
            planner = self.planner = Planner(self.watcher.config, engine, self.discovery_interval, self._clock)
            self.source.config_reloaded(self.watcher.config)
        rendering: _Rendering | None = None
        values: list[float] = []
        invalid: tuple[int, ...] = ()
        error: str | None = None
        target_up = False
        # A scrape allocates a few hundred thousand objects that live until its end and form no cycles: the cyclic
        # collector would only walk them again and again (a third of a big scrape's time). Reference counting frees
        # them; cycles made meanwhile are collected once it runs again.
        paused = gc.isenabled()
        gc.disable()
        try:
            plan = planner.plan()
            request = plan.request
            # An answer may be read without records (exporter/steady.py), unless it is to teach the planner.
            steady = engine.steady_safe
            if steady:
                request = replace(request, deferred=True)
            self.upstream_fetches += 1
            snapshot = self.source.fetch(request, deadline)
            read = self._read_steady(engine, snapshot) if steady and not plan.discovery else None
            if read is not None:
                rendering, values = read
                target_up = True
            else:
                beans = snapshot.beans  # a deferred body is parsed here, and a bad one raises SourceError
                target_up = True
                planner.learn(plan, beans)
                for problem in snapshot.problems:
                    self._errors.warning("skipped part of the target's answer: %s", problem)
                rendering, values = self._lay_out(engine, snapshot, steady and snapshot.listing is not None)
                del beans
            del snapshot  # free the records before the collector runs again
            invalid, family = rendering.invalid_counters(values)
            if invalid:
                self._counter_warnings.warning(
                    "%d COUNTER sample(s) are negative or NaN, first in %s: OpenMetrics answers leave them out "
                    "(a counter never goes below zero; should the rule's type be GAUGE?)", len(invalid), family
                )
            self._errors.recovered("scrape of %s succeeded again", self.source.description)
        except SourceError as exc:
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

    def _lay_out(self, engine: RuleEngine, snapshot: Snapshot, plan_steady: bool) -> tuple[_Rendering, list[float]]:
        """Apply the rules; reuse the last layout when the verdicts are the same objects in the same order.

        ``plan_steady``: the snapshot's listing is an answer the next scrape may read directly; note how.
        """
        rows = engine.collect(snapshot.beans)
        rendering = self._rendering
        if rendering is None or not rendering.reusable_for(engine, rows):
            layout = build_layout(rows.views(), SELF_METRIC_NAMES)
            rendering = self._rendering = _Rendering(engine, rows.verdicts, layout)
        self._steady = None
        if plan_steady and rendering.stable and not snapshot.problems:
            self._steady = (rendering, SteadyPlan.build(snapshot.beans, rows, partial=not engine.caches))
        numbers = rows.numbers
        return rendering, list(map(numbers.__getitem__, rendering.order))

    def _read_steady(self, engine: RuleEngine, snapshot: Snapshot) -> tuple[_Rendering, list[float]] | None:
        """The last layout and this answer's values when only values changed since the last full scrape."""
        if self._steady is None or snapshot.listing is None:
            return None
        rendering, plan = self._steady
        if plan is None or rendering is not self._rendering or rendering.engine is not engine:
            return None
        numbers = plan.read(snapshot.listing, engine)
        if numbers is None:
            self._steady = None
            return None
        self.steady_reads += 1
        return rendering, list(map(numbers.__getitem__, rendering.order))

    def _result(
        self,
        rendering: _Rendering | None,
        values: Sequence[float],
        error: str | None,
        duration: float,
        target_up: bool,
        invalid: tuple[int, ...] = (),
    ) -> ScrapeResult:
        own = self._self_metrics(duration, error, target_up, len(invalid))
        return ScrapeResult(error, duration, self._clock(), target_up, own, rendering, values, invalid)

    def _self_metrics(
        self, duration: float, error: str | None, target_up: bool, invalid_counters: int
    ) -> list[SimpleFamily]:
        reuse = f" Results are reused for up to {self.min_interval:g}s." if self.min_interval > 0 else ""
        watcher = self.watcher
        return [
            _gauge("jmx_scrape_duration_seconds", "Time this JMX scrape took, in seconds." + reuse, duration),
            _gauge("jmx_scrape_error", "Non-zero if this scrape failed.", 1.0 if error else 0.0),
            _gauge(
                "jmx_scrape_cached_beans",
                "Number of beans with their matching rule cached",
                float(watcher.engine.cached_beans()),
            ),
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
            _gauge(
                "jmx_exporter_build_info",
                "A metric with a constant '1' value labeled with the version of the JMX exporter.",
                1.0,
                (("name", "presto-jmx-exporter"), ("version", __version__)),
            ),
            _gauge(
                "presto_jmx_exporter_target_up",
                "1 if the last fetch from the Presto/Trino target succeeded, 0 if the target could not be read.",
                1.0 if target_up else 0.0,
            ),
            _gauge(
                "presto_jmx_exporter_openmetrics_omitted_samples",
                "Samples of the last scrape left out of OpenMetrics answers: COUNTER values that were negative or "
                "NaN.",
                float(invalid_counters),
            ),
        ]
