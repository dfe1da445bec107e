"""One scrape: fetch from the source, apply the rules, add the self metrics, render once.

Concurrent scrapes share one upstream fetch (single flight); with ``min_interval`` a result younger than that is
served again, and the HELP text of ``jmx_scrape_duration_seconds`` says so.
"""

from __future__ import annotations

import gzip
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from exporter import __version__
from exporter.config import Config, ConfigError, load_config
from exporter.exposition import SimpleFamily, SimpleSample, render_openmetrics, render_text
from exporter.families import build_families
from exporter.ratelimit import RateLimitedLog
from exporter.rules import RuleEngine
from exporter.sources.base import BeanRequest, Source, SourceError

log = logging.getLogger(__name__)


def _gauge(name: str, help_text: str, value: float, labels: tuple[tuple[str, str], ...] = ()) -> SimpleFamily:
    return SimpleFamily(name, "gauge", help_text, (SimpleSample(labels, value),))


def _counter(name: str, help_text: str, value: float) -> SimpleFamily:
    return SimpleFamily(name, "counter", help_text, (SimpleSample((), value),))


def bean_request(config: Config) -> BeanRequest:
    """What to ask the source for: the literal include list when there is one, else everything."""
    names = config.literal_object_names()
    if names is not None:
        return BeanRequest(object_names=tuple(names))
    return BeanRequest(None, tuple(pattern.text for pattern in config.include_object_names))


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
        self.request = bean_request(self.config)
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
            self.config, self.engine, self.request = config, engine, bean_request(config)
            self._stamp = stamp
            self.reload_success += 1
            for warning in config.warnings:
                log.warning("%s", warning)
            log.info("config reloaded path=%s rules=%d", self.path, len(config.rules))


@dataclass
class ScrapeResult:
    """A finished scrape. The rendered bodies are built on first use and shared by every client."""

    families: Sequence[object]
    error: str | None
    duration: float
    finished_at: float
    target_up: bool
    _bodies: dict[tuple[bool, bool], bytes] = field(default_factory=dict, repr=False)

    def body(self, openmetrics: bool = False, compressed: bool = False) -> bytes:
        key = (openmetrics, compressed)
        cached = self._bodies.get(key)
        if cached is None:
            if compressed:
                cached = gzip.compress(self.body(openmetrics), compresslevel=1)
            else:
                render = render_openmetrics if openmetrics else render_text
                cached = render(self.families).encode("utf-8")  # type: ignore[arg-type]
            self._bodies[key] = cached
        return cached


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
    ) -> None:
        self.watcher = watcher
        self.source = source
        self.timeout = timeout
        self.min_interval = min_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._flight: _Flight | None = None
        self.last: ScrapeResult | None = None
        self.upstream_fetches = 0
        self.waiting = 0  # scrapes currently waiting on another's fetch
        self._errors = RateLimitedLog(log)

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
            return self._result([], "a concurrent scrape did not finish in time", budget, False)
        result = None
        try:
            result = self._scrape_now(budget)
        finally:
            if result is None:
                result = self._result([], "internal error", budget, False)
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
        engine, request = self.watcher.engine, self.watcher.request
        families: list[object] = []
        error: str | None = None
        target_up = False
        try:
            self.upstream_fetches += 1
            snapshot = self.source.fetch(request, deadline)
            target_up = True
            for problem in snapshot.problems:
                self._errors.warning("skipped part of the target's answer: %s", problem)
            families = build_families(engine.evaluate(snapshot.beans))
            self._errors.recovered("scrape of %s succeeded again", self.source.description)
        except SourceError as exc:
            error = str(exc)
            self._errors.error("scrape failed: %s", error)
        except Exception as exc:  # a bug must cost one scrape, not the process
            error = f"internal error: {type(exc).__name__}: {exc}"
            log.exception("scrape failed with an internal error")
        return self._result(families, error, self._clock() - start, target_up)

    def _result(self, families: list[object], error: str | None, duration: float, target_up: bool) -> ScrapeResult:
        families = sorted(families, key=lambda f: f.name)  # type: ignore[attr-defined]
        families.extend(self._self_metrics(duration, error, target_up))
        return ScrapeResult(families, error, duration, self._clock(), target_up)

    def _self_metrics(self, duration: float, error: str | None, target_up: bool) -> list[SimpleFamily]:
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
        ]
