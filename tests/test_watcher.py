"""The live configuration over a real file: what counts as a change, and a file that goes away."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from exporter.scrape.watcher import ConfigWatcher

FIRST = "rules:\n  - pattern: 'a<>(\\w+)'\n    name: first_$1\n"
SECOND = "rules:\n  - pattern: 'a<>(\\w+)'\n    name: other_$1\n"  # the same size as FIRST


def names(watcher: ConfigWatcher) -> list[str | None]:
    return [rule.name for rule in watcher.config.rules]


def test_a_rewrite_that_keeps_the_size_and_the_modification_time_is_reloaded(tmp_path: Path) -> None:
    assert len(FIRST) == len(SECOND)
    path = tmp_path / "config.yml"
    path.write_text(FIRST)
    watcher = ConfigWatcher(path)
    before = path.stat()
    path.write_text(SECOND)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # as some editors and sync tools leave it
    assert (path.stat().st_mtime_ns, path.stat().st_size) == (before.st_mtime_ns, before.st_size)
    watcher.refresh()
    assert names(watcher) == ["other_$1"] and watcher.reload_success == 1


def test_a_deleted_config_keeps_the_loaded_one_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "config.yml"
    path.write_text(FIRST)
    watcher = ConfigWatcher(path)
    path.unlink()
    with caplog.at_level(logging.WARNING, logger="exporter.scrape.watcher"):
        for _ in range(3):
            watcher.refresh()
    assert [record.getMessage() for record in caplog.records] == [
        f"the config file {path} is gone; the config loaded from it stays in use"
    ]
    assert names(watcher) == ["first_$1"]
    path.write_text(SECOND)
    watcher.refresh()
    assert names(watcher) == ["other_$1"]
