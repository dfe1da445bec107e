"""The live configuration: the rule file and its compiled engine, re-read when the file changes.

Reloading happens on a thread of its own (:meth:`ConfigWatcher.start`), never inside a scrape: a scrape takes the
configuration that is live when it starts, so a huge or slow file costs the reloading thread, not the scrapes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from exporter.config.loader import load_config
from exporter.config.model import Config, ConfigError
from exporter.rules.engine import RuleEngine

log = logging.getLogger(__name__)

DEFAULT_POLL_INTERVAL = 1.0


class ConfigWatcher:
    """The live configuration: re-read when the file changes; a bad new file keeps the old one and counts a failure."""

    def __init__(
        self,
        path: str | Path,
        loader: Callable[[Path], Config] = load_config,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        self.path = Path(path)
        self.poll_interval = poll_interval
        self._loader = loader
        self._lock = threading.Lock()
        self.reload_success = 0
        self.reload_failure = 0
        self._stamp = self._file_stamp()
        config = loader(self.path)  # raises ConfigError at start-up: the caller exits 2
        self._live = (config, RuleEngine(config))
        self._failed_stamp: tuple[int, ...] | None = None
        self._gone = False  # the file was missing at the last look (said once)
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def live(self) -> tuple[Config, RuleEngine]:
        """The configuration and its engine, as one pair (a reload replaces both at once)."""
        return self._live

    @property
    def config(self) -> Config:
        return self._live[0]

    @property
    def engine(self) -> RuleEngine:
        return self._live[1]

    def start(self) -> None:
        """Look at the file every ``poll_interval`` seconds on a thread of its own, until :meth:`stop`."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="config-watcher", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def _watch(self) -> None:
        while not self._stopped.wait(self.poll_interval):
            try:
                self.refresh()
            except Exception:  # a bug must not end the watching
                log.exception("config reload failed with an internal error")

    def _file_stamp(self) -> tuple[int, ...] | None:
        """What tells one version of the file from another. The change time and inode are in it: an editor or a
        ConfigMap update may write the same size with the old modification time, never the old change time."""
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size, stat.st_ctime_ns, stat.st_ino

    def refresh(self) -> None:
        """Reload now if the file changed since the last look."""
        stamp = self._file_stamp()
        if stamp is None:
            if not self._gone:
                self._gone = True
                log.warning("the config file %s is gone; the config loaded from it stays in use", self.path)
            return
        self._gone = False
        if stamp == self._stamp or stamp == self._failed_stamp:
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
            self._live = (config, engine)
            self._stamp = stamp
            self.reload_success += 1
            for warning in config.warnings:
                log.warning("%s", warning)
            log.info("config reloaded path=%s rules=%d", self.path, len(config.rules))


class EngineCopy:
    """A watcher's live configuration with a rule engine of its own, rebuilt when the watcher's config changes.

    One per probed target (:mod:`exporter.scrape.targets`): an engine's memo describes the beans of one target, and
    one engine is never run by two scrapes at once. Reloads stay the watcher's, counted once for every target.
    """

    def __init__(self, watcher: ConfigWatcher) -> None:
        self.watcher = watcher
        self._lock = threading.Lock()
        self._live: tuple[Config, RuleEngine] | None = None

    @property
    def live(self) -> tuple[Config, RuleEngine]:
        config = self.watcher.config
        with self._lock:
            live = self._live
            if live is None or live[0] is not config:
                live = self._live = (config, RuleEngine(config))
            return live

    @property
    def config(self) -> Config:
        return self.live[0]

    @property
    def engine(self) -> RuleEngine:
        return self.live[1]

    @property
    def reload_success(self) -> int:
        return self.watcher.reload_success

    @property
    def reload_failure(self) -> int:
        return self.watcher.reload_failure
