"""The sidecar's HTTP endpoints over real HTTP, with targets that work, fail, hang or answer garbage."""

from __future__ import annotations

import gzip
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from exporter import __version__
from exporter.scrape.scraper import Scraper
from exporter.scrape.watcher import ConfigWatcher
from exporter.sources.rest.source import RestSource
from exporter.web.server import SCRAPE_TIMEOUT_HEADER, ExporterServer, accepts_gzip
from tests.helpers.canned_server import CannedServer, Reply
from tests.helpers.pool_target import BODY, RULES
from tests.helpers.ports import free_port
from tests.helpers.waiting import wait_until


def samples(text: str) -> dict[str, float]:
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}


class Running:
    """An exporter server on 127.0.0.1 in this process, scraping ``target``."""

    def __init__(self, config: Path, target: str, timeout: float = 3.0) -> None:
        self.scraper = Scraper(ConfigWatcher(config, poll_interval=0.05), RestSource(target), timeout=timeout)
        self.server = ExporterServer(("127.0.0.1", 0), self.scraper)
        self.server.serve_in_thread()
        self.scraper.watcher.start()
        self.url = self.server.url

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return requests.get(self.url + path, timeout=30, **kwargs)  # type: ignore[arg-type]

    def reloads(self) -> int:
        return self.scraper.watcher.reload_success + self.scraper.watcher.reload_failure

    def wait_for_reload(self, before: int) -> None:
        wait_until(lambda: self.reloads() > before, what="the config watcher to read the changed file")

    def close(self) -> None:
        self.scraper.watcher.stop()
        self.server.shutdown()
        self.server.server_close()
        self.scraper.source.close()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(RULES)
    return path


@pytest.fixture
def coordinator() -> Iterator[CannedServer]:
    with CannedServer(lambda path: Reply(body=BODY, headers={"Content-Type": "application/json"})) as server:
        yield server


@pytest.fixture
def running(config: Path, coordinator: CannedServer) -> Iterator[Running]:
    exporter = Running(config, coordinator.url)
    yield exporter
    exporter.close()


def test_metrics_has_the_rule_output_and_self_metrics(running: Running) -> None:
    response = running.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    values = samples(response.text)
    assert values["trino_clustermemorypool_general_FreeDistributedBytes"] == 1024.0
    assert values["jmx_scrape_error"] == 0.0
    assert values["presto_jmx_exporter_target_up"] == 1.0
    assert values["jmx_exporter_build_info"] == 1.0
    assert f'jmx_exporter_build_info{{name="presto-jmx-exporter",version="{__version__}"}} 1\n' in response.text
    assert "# TYPE trino_clustermemorypool_general_FreeDistributedBytes gauge" in response.text


def test_gzip_and_openmetrics_are_negotiated(running: Running) -> None:
    plain = running.get("/metrics", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    raw = requests.get(running.url + "/metrics", headers={"Accept-Encoding": "gzip"}, stream=True, timeout=30)
    assert raw.headers["Content-Encoding"] == "gzip"
    assert b"trino_clustermemorypool_general_FreeDistributedBytes 1024.0" in gzip.decompress(raw.raw.read())
    om = running.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert om.headers["Content-Type"].startswith("application/openmetrics-text")
    assert om.text.endswith("# EOF\n")


def test_health_readiness_landing_and_404(running: Running) -> None:
    assert running.get("/healthz").text == "ok\n"
    assert running.get("/ready").status_code == 200
    landing = running.get("/")
    assert __version__ in landing.text
    assert 'href="/metrics"' in landing.text
    assert running.url.replace("http://", "") not in landing.text  # it shows the target, not itself
    assert "127.0.0.1" in landing.text
    assert running.get("/nope").status_code == 404


@pytest.mark.parametrize(
    ("reply", "cause"),
    [
        (Reply(body=b"<html>oops</html>"), "malformed JSON"),
        (Reply(body=b""), "empty body"),
        (Reply(body=b'{"not": "a list"}'), "expected a JSON array"),
        (Reply(status=500, body=b"boom"), "HTTP 500"),
        (Reply(status=401, body=b"Basic authentication or X-Trino-User must be sent"), "HTTP 401"),
    ],
)
def test_a_bad_target_gives_200_with_scrape_error(config: Path, reply: Reply, cause: str) -> None:
    with CannedServer(lambda path: reply) as bad:
        exporter = Running(config, bad.url)
        try:
            response = exporter.get("/metrics")
            assert response.status_code == 200
            values = samples(response.text)
            assert values["jmx_scrape_error"] == 1.0
            assert values["presto_jmx_exporter_target_up"] == 0.0
            assert "trino_clustermemorypool_general_FreeDistributedBytes" not in values
            ready = exporter.get("/ready")
            assert ready.status_code == 503
            assert cause in ready.text
        finally:
            exporter.close()


def test_a_dead_target_answers_fast(config: Path) -> None:
    exporter = Running(config, f"http://127.0.0.1:{free_port()}")
    try:
        started = time.monotonic()
        values = samples(exporter.get("/metrics").text)
        assert time.monotonic() - started < 3.0
        assert values["jmx_scrape_error"] == 1.0
    finally:
        exporter.close()


def test_a_hanging_target_is_cut_off_by_prometheus_timeout_header(config: Path) -> None:
    with CannedServer(lambda path: Reply(body=BODY)) as slow:
        slow.answer = lambda path: Reply(body=BODY, before_body=lambda: slow.release.wait(60))
        exporter = Running(config, slow.url, timeout=30.0)
        try:
            started = time.monotonic()
            response = exporter.get("/metrics", headers={"X-Prometheus-Scrape-Timeout-Seconds": "1.5"})
            elapsed = time.monotonic() - started
            assert response.status_code == 200
            assert samples(response.text)["jmx_scrape_error"] == 1.0
            assert elapsed < 2.5
        finally:
            exporter.close()


def test_concurrent_scrapes_share_one_fetch(config: Path) -> None:
    gate = threading.Event()
    with CannedServer(lambda path: Reply(body=BODY, before_body=lambda: gate.wait(30))) as coordinator:
        exporter = Running(config, coordinator.url, timeout=20.0)
        results: list[float] = []

        def scrape() -> None:
            results.append(samples(exporter.get("/metrics").text)["trino_clustermemorypool_general_FreeDistributedBytes"])

        threads = [threading.Thread(target=scrape) for _ in range(20)]
        try:
            for thread in threads:
                thread.start()
            wait_until(lambda: exporter.scraper.waiting == 19, what="19 scrapes waiting on the first one's fetch")
            gate.set()
            for thread in threads:
                thread.join(30)
        finally:
            gate.set()
            exporter.close()
    assert results == [1024.0] * 20
    assert len(coordinator.seen) == 1


def test_config_reload_keeps_the_old_config_when_the_new_one_is_broken(running: Running, config: Path) -> None:
    def bump_mtime() -> None:
        before = running.reloads()
        stamp = time.time_ns() + 10**9 * (1 + before)
        os.utime(config, ns=(stamp, stamp))
        running.wait_for_reload(before)

    config.write_text(RULES.replace("trino_clustermemorypool_$1_$2", "renamed_$2"))
    bump_mtime()
    values = samples(running.get("/metrics").text)
    assert values["renamed_FreeDistributedBytes"] == 1024.0
    assert values["jmx_config_reload_success_total"] == 1.0

    config.write_text("rules:\n  - pattern: '('\n")
    bump_mtime()
    values = samples(running.get("/metrics").text)
    assert values["renamed_FreeDistributedBytes"] == 1024.0
    assert values["jmx_config_reload_failure_total"] == 1.0
    assert values["jmx_scrape_error"] == 0.0


def test_a_client_in_a_hurry_does_not_cut_short_the_fetch_another_waits_for(config: Path) -> None:
    """An HA pair with different scrape timeouts: the short one fails alone, the long one gets the shared fetch."""
    with CannedServer(lambda path: Reply(body=BODY)) as coordinator:
        coordinator.answer = lambda path: Reply(body=BODY, before_body=lambda: coordinator.release.wait(1.0))
        exporter = Running(config, coordinator.url, timeout=5.0)
        try:
            for round_ in range(3):
                hurried: list[requests.Response] = []
                thread = threading.Thread(target=lambda out=hurried: out.append(
                    exporter.get("/metrics", headers={SCRAPE_TIMEOUT_HEADER: "1.1"})))
                thread.start()
                wait_until(lambda round_=round_: len(coordinator.seen) == round_ + 1, what="the shared fetch to start")
                patient = samples(exporter.get("/metrics", headers={SCRAPE_TIMEOUT_HEADER: "10"}).text)
                thread.join(10)
                assert samples(hurried[0].text)["jmx_scrape_error"] == 1.0
                assert patient["jmx_scrape_error"] == 0.0
                assert patient["trino_clustermemorypool_general_FreeDistributedBytes"] == 1024.0
            assert len(coordinator.seen) == 3  # one fetch per round, shared
            assert exporter.scraper.scrape(0.3).error == (
                "the scrape did not finish within this request's 0.3s (it may take up to 5s): give this client a "
                "longer scrape timeout")
        finally:
            exporter.close()


BACKTRACKING = r"""rules:
  - pattern: 'trino.memory<type=ClusterMemoryPool, name=(.*)><>(FreeDistributedBytes):'
    name: pool_$2
  - pattern: '(.+?)+\1[!?]'
    name: never
"""


def test_a_reloaded_backtracking_rule_fails_each_scrape_in_time_and_a_fixed_file_recovers(tmp_path: Path) -> None:
    """The pattern backtracks for as long as it is let on the string attribute's match string; the scrape's
    deadline stops it, names it, and the watcher's next reload takes the fixed file."""
    bean = {"objectName": "trino.memory:type=ClusterMemoryPool,name=general", "attributes": [
        {"name": "FreeDistributedBytes", "type": "long", "value": 1024},
        {"name": "Label", "type": "java.lang.String", "value": "abcdefghijklmnopqrstuvwxyz!"},
    ]}  # fmt: skip
    config = tmp_path / "config.yml"
    config.write_text(RULES)
    with CannedServer(lambda path: Reply(body=orjson.dumps([bean]))) as coordinator:
        exporter = Running(config, coordinator.url, timeout=1.0)
        try:
            assert samples(exporter.get("/metrics").text)["jmx_scrape_error"] == 0.0
            for step, text in enumerate((BACKTRACKING, RULES), start=1):
                before = exporter.reloads()
                config.write_text(text)
                stamp = time.time_ns() + 10**9 * step
                os.utime(config, ns=(stamp, stamp))
                exporter.wait_for_reload(before)
                started = time.monotonic()
                values = samples(exporter.get("/metrics").text)
                assert time.monotonic() - started < 5.0  # a scrape timeout of 1 s, on a busy machine
                ready = exporter.get("/ready")
                if text is BACKTRACKING:
                    assert values["jmx_scrape_error"] == 1.0
                    assert ready.status_code == 503
                    assert "rules[1] (line 4) did not finish matching trino.memory:type=ClusterMemoryPool" in ready.text
                else:
                    assert values["jmx_scrape_error"] == 0.0 and ready.status_code == 200
                    assert values["trino_clustermemorypool_general_FreeDistributedBytes"] == 1024.0
        finally:
            exporter.close()


def test_reserved_names_are_exactly_the_self_metric_families(running: Running) -> None:
    from exporter.scrape.scraper import SELF_METRIC_NAMES

    text = running.get("/metrics").text
    own = {line.split()[2].removesuffix("_total") for line in text.splitlines()
           if line.startswith("# TYPE ") and not line.split()[2].startswith("trino_")}
    assert own == SELF_METRIC_NAMES


@pytest.mark.parametrize(
    ("accept", "gzipped"),
    [("gzip", True), ("deflate, gzip;q=0.5", True), ("*", True), ("gzip;q=0", False), ("identity", False),
     ("gzip;q=0.0, *;q=1", False), ("", False), ("GZIP", True)],
)
def test_gzip_only_when_the_client_accepts_it(accept: str, gzipped: bool) -> None:
    assert accepts_gzip(accept) is gzipped


def test_the_server_header_names_the_exporter_not_python(running: Running) -> None:
    assert running.get("/healthz").headers["Server"] == f"presto-jmx-exporter/{__version__}"
