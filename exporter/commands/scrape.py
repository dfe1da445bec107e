"""`scrape`: one scrape printed to stdout, for scripts and for a standalone look at a host."""

from __future__ import annotations

import argparse
import logging
import sys

from exporter.commands import options
from exporter.commands.common import build_scraper
from exporter.commands.exitcodes import ExitCode

HELP = "print one scrape of the target in the Prometheus text format and exit"
DESCRIPTION = (
    "Fetch the target's MBeans once, apply the rules and print the result (Prometheus text format, or OpenMetrics "
    "with --openmetrics); with --source passthrough, print the families of Trino's /metrics that the config's "
    "passthrough.names picks, as Trino wrote them, instead. Exits 1 with a one-line error on stderr when the target "
    "cannot be read; the printed scrape then carries jmx_scrape_error 1."
)
# The scrapers' loggers: their error line would repeat the one this command prints.
SCRAPER_LOGGERS = ("exporter.scrape.scraper", "exporter.scrape.passthrough")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_config_argument(parser)
    options.add_target_arguments(parser)
    parser.add_argument("--openmetrics", action="store_true", help="print OpenMetrics instead of the text format")


def run(args: argparse.Namespace) -> int:
    # The failure is reported below as the command's one line on stderr; the scraper's log line would repeat it.
    scraper_logs = [logging.getLogger(name) for name in SCRAPER_LOGGERS]
    quiet = args.log_level != "DEBUG"
    if quiet:
        for scraper_log in scraper_logs:
            scraper_log.addFilter(_below_error)
    try:
        scraper = build_scraper(args)
        try:
            result = scraper.scrape()
        finally:
            scraper.source.close()
    finally:
        if quiet:
            for scraper_log in scraper_logs:
                scraper_log.removeFilter(_below_error)
    sys.stdout.write(result.body(openmetrics=args.openmetrics).decode("utf-8"))
    sys.stdout.flush()
    if result.error:
        print(f"presto-jmx-exporter: scrape failed: {result.error}", file=sys.stderr)
        return ExitCode.FAILED
    return ExitCode.OK


def _below_error(record: logging.LogRecord) -> bool:
    return record.levelno < logging.ERROR
