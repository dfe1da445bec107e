"""The live configuration: the rule file and its compiled engine, re-read when the file changes."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from exporter.config.loader import load_config
from exporter.config.model import Config, ConfigError
from exporter.rules.engine import RuleEngine

log = logging.getLogger(__name__)


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
        self._failed_stamp: tuple[int, ...] | None = None
        self._gone = False  # the file was missing at the last look (said once)

    def _file_stamp(self) -> tuple[int, ...] | None:
        """What tells one version of the file from another. The change time and inode are in it: an editor or a
        ConfigMap update may write the same size with the old modification time, never the old change time."""
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size, stat.st_ctime_ns, stat.st_ino

    def refresh(self) -> None:
        """Reload when the file changed since the last look (one stat per scrape)."""
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
            self.config, self.engine = config, engine
            self._stamp = stamp
            self.reload_success += 1
            for warning in config.warnings:
                log.warning("%s", warning)
            log.info("config reloaded path=%s rules=%d", self.path, len(config.rules))
