"""Logging configuration, done once by the CLI; library modules only create loggers."""

from __future__ import annotations

import logging
import sys

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def configure(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # urllib3 logs every new connection at DEBUG with the URL; keep it at WARNING unless asked for.
    logging.getLogger("urllib3").setLevel(logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING)
