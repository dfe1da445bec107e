"""Steps the scraping subcommands share: load the config, open the source, build the scraper."""

from __future__ import annotations

import argparse
import dataclasses
import logging

from exporter.commands.options import given_scrape_timeout, source_settings
from exporter.errors import UsageError
from exporter.scrape.scraper import Scraper
from exporter.scrape.watcher import ConfigWatcher
from exporter.sources.factory import open_source

log = logging.getLogger(__name__)


def build_scraper(args: argparse.Namespace, min_interval: float = 0.0) -> Scraper:
    """Load and validate the config (ConfigError propagates: exit 2), then connect it to the target."""
    settings = source_settings(args)
    if not args.config:
        raise UsageError("--config is required (a jmx_exporter-format YAML file, e.g. rules/trino.yml)")
    watcher = ConfigWatcher(args.config)
    for warning in watcher.config.warnings:
        log.warning("%s", warning)
    timeout = given_scrape_timeout(args)
    configured = watcher.config.scrape_timeout_seconds
    if timeout is None and configured is not None:
        # A JMX call is bounded by the start-up value; a reloaded scrapeTimeoutSeconds bounds the next scrapes.
        settings = dataclasses.replace(settings, jmx=dataclasses.replace(settings.jmx, call_timeout=float(configured)))
    source = open_source(settings, watcher.config)
    return Scraper(watcher, source, timeout=timeout, min_interval=min_interval,
                   discovery_interval=args.discovery_interval)
