"""The live configuration over a real file: what counts as a change, and a file that goes away."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pytest

from exporter.config.loader import load_config
from exporter.config.model import Config
from exporter.scrape.scraper import Scraper
from exporter.scrape.watcher import ConfigWatcher
from exporter.sources.dump import DumpSource
from tests.helpers.waiting import wait_until

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


def test_a_slow_reload_happens_beside_the_scrapes_which_keep_the_old_config(tmp_path: Path) -> None:
    """A reload that takes long (a huge file) runs on the watcher's thread: a scrape meanwhile is answered at once
    with the configuration that was live, and the next one after the reload has the new one."""
    path = tmp_path / "config.yml"
    path.write_text(FIRST.replace("a<>", "trino.memory<type=ClusterMemoryPool, name=general><>"))
    dump = tmp_path / "dump.json"
    dump.write_text('[{"objectName": "trino.memory:type=ClusterMemoryPool,name=general", "attributes": '
                    '[{"name": "FreeBytes", "type": "long", "value": 7}]}]')
    loading, release = threading.Event(), threading.Event()

    def slow_loader(file: Path) -> Config:
        if watcher_started.is_set():
            loading.set()
            assert release.wait(30)
        return load_config(file)

    watcher_started = threading.Event()
    watcher = ConfigWatcher(path, loader=slow_loader, poll_interval=0.01)
    watcher_started.set()
    scraper = Scraper(watcher, DumpSource(dump), timeout=5.0)
    watcher.start()
    try:
        path.write_text(SECOND.replace("a<>", "trino.memory<type=ClusterMemoryPool, name=general><>"))
        wait_until(loading.is_set, what="the watcher to start reading the changed file")
        during = scraper.scrape(timeout=1.0)
        assert during.error is None
        assert "first_FreeBytes 7.0" in during.body().decode()
        release.set()
        wait_until(lambda: watcher.reload_success == 1, what="the reload to finish")
        assert "other_FreeBytes 7.0" in scraper.scrape().body().decode()
    finally:
        release.set()
        watcher.stop()
