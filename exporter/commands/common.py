"""Steps the scraping subcommands share: load the config, open the source, build the scraper."""

from __future__ import annotations

import argparse
import dataclasses
import logging

from exporter.commands.options import given_scrape_timeout, source_settings
from exporter.config.model import Config
from exporter.errors import UsageError
from exporter.scrape.passthrough import PassthroughScraper
from exporter.scrape.scraper import Scraper, SingleFlight
from exporter.scrape.watcher import ConfigWatcher
from exporter.sources.factory import open_family_source, open_source

log = logging.getLogger(__name__)

PASSTHROUGH = "passthrough"


def build_scraper(args: argparse.Namespace, min_interval: float = 0.0) -> SingleFlight:
    """Load and validate the config (ConfigError propagates: exit 2), then connect it to the target: the rules'
    scraper, or with ``--source passthrough`` the one that re-serves the target's own families."""
    settings = source_settings(args)
    if not args.config:
        if settings.http_source == PASSTHROUGH:
            raise UsageError("--config is required: a YAML file whose passthrough.names lists the families to "
                             "re-serve (examples/passthrough.yml)")  # fmt: skip
        raise UsageError("--config is required (a jmx_exporter-format YAML file, e.g. rules/trino.yml)")
    watcher = ConfigWatcher(args.config)
    for warning in watcher.config.warnings:
        log.warning("%s", warning)
    for warning in mode_warnings(watcher.config, settings.http_source):
        log.warning("%s", warning)
    timeout = given_scrape_timeout(args)
    if settings.http_source == PASSTHROUGH:
        return PassthroughScraper(watcher, open_family_source(settings), timeout=timeout, min_interval=min_interval)
    configured = watcher.config.scrape_timeout_seconds
    if timeout is None and configured is not None:
        # A JMX call is bounded by the start-up value; a reloaded scrapeTimeoutSeconds bounds the next scrapes.
        settings = dataclasses.replace(settings, jmx=dataclasses.replace(settings.jmx, call_timeout=float(configured)))
    source = open_source(settings, watcher.config)
    return Scraper(watcher, source, timeout=timeout, min_interval=min_interval,
                   discovery_interval=args.discovery_interval)


def mode_warnings(config: Config, http_source: str) -> list[str]:
    """What the config holds that this run will not read (warnings); UsageError for a pass-through without
    ``passthrough.names``."""
    if http_source != PASSTHROUGH:
        if config.passthrough is None:
            return []
        return [f"{config.source}: passthrough.names is read only with --source passthrough (this run reads "
                f"--source {http_source}, through the rules)"]  # fmt: skip
    if config.passthrough is None:
        raise UsageError(f"--source passthrough re-serves the families the config's passthrough.names lists, and "
                         f"{config.source} has no passthrough key (passthrough: {{names: ['*']}} for every family; "
                         "docs/configuration.md#passthrough)")  # fmt: skip
    filters = (config.include_object_names, config.exclude_object_names, config.include_object_name_attributes,
               config.exclude_object_name_attributes, config.metric_customizers)  # fmt: skip
    if not config.implicit_default_rule or config.include_nothing or any(filters):
        return [f"{config.source}: its rules and MBean filters are not applied with --source passthrough, which "
                "re-serves the target's own families as they are"]  # fmt: skip
    return []
