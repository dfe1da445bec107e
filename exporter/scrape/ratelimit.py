"""Log repeated identical errors once per interval instead of once per scrape."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable


class RateLimitedLog:
    """Logs a message the first time it is seen, then at most once per ``interval`` with a repeat count.

    A scrape every 15 s against a dead coordinator would otherwise write the same line forever.
    """

    def __init__(self, logger: logging.Logger, interval: float = 300.0, clock: Callable[[], float] = time.monotonic):
        self._logger = logger
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._last_text: str | None = None
        self._last_time = 0.0
        self._repeats = 0
        self._failing = False

    def _emit(self, level: int, fmt: str, *args: object) -> None:
        text = fmt % args if args else fmt
        now = self._clock()
        with self._lock:
            self._failing = self._failing or level >= logging.ERROR
            if text == self._last_text and now - self._last_time < self._interval:
                self._repeats += 1
                return
            repeats, self._repeats = self._repeats, 0
            previous, self._last_text, self._last_time = self._last_text, text, now
        if repeats and previous != text:
            # Close the account of the previous message before a different one, never attach it to the new one.
            self._logger.log(level, "%s (repeated %d more times before a different message)", previous, repeats)
            repeats = 0
        suffix = f" (repeated {repeats} more times since last logged)" if repeats else ""
        self._logger.log(level, "%s%s", text, suffix)

    def error(self, fmt: str, *args: object) -> None:
        self._emit(logging.ERROR, fmt, *args)

    def warning(self, fmt: str, *args: object) -> None:
        self._emit(logging.WARNING, fmt, *args)

    def recovered(self, fmt: str, *args: object) -> None:
        """Log once at INFO when a failing state ends, and forget the last error so a relapse is logged at once."""
        with self._lock:
            if not self._failing:
                return
            self._failing = False
            self._last_text = None
            self._repeats = 0
        self._logger.info(fmt, *args)
