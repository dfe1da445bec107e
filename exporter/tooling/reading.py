"""Read a target once for a tool: open the source named by the target options, fetch, close."""

from __future__ import annotations

import argparse
import logging
import time

from exporter.options import open_source
from exporter.sources.base import BeanRequest, Snapshot

log = logging.getLogger(__name__)


def read_once(args: argparse.Namespace, config: object, request: BeanRequest) -> Snapshot:
    """One fetch bounded by ``--scrape-timeout``; SourceError and UsageError propagate to the command."""
    source = open_source(args, config)
    try:
        snapshot = source.fetch(request, time.monotonic() + args.scrape_timeout)
    finally:
        source.close()
    for problem in snapshot.problems:
        log.warning("skipped part of the target's answer: %s", problem)
    return snapshot
