"""Read a target once for a tool: open the source the settings name, fetch, close."""

from __future__ import annotations

import logging
import time

from exporter.config.model import Config
from exporter.sources.base import BeanRequest, Snapshot
from exporter.sources.factory import open_source
from exporter.sources.settings import SourceSettings

log = logging.getLogger(__name__)


def read_once(settings: SourceSettings, config: Config | None, request: BeanRequest, timeout: float) -> Snapshot:
    """One fetch bounded by ``timeout`` seconds; SourceError and UsageError propagate to the command."""
    source = open_source(settings, config)
    try:
        snapshot = source.fetch(request, time.monotonic() + timeout)
    finally:
        source.close()
    for problem in snapshot.problems:
        log.warning("skipped part of the target's answer: %s", problem)
    return snapshot
