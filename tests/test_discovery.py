"""``/discovery``: the coordinator and the nodes its failure detector lists, as Prometheus HTTP SD, and the probes
that list admits.

Against the fixture: a Trino coordinator that wants a user (as ``/v1/node`` does on Trino) and a fixture worker,
real JVMs on 127.0.0.1; the coordinator's node list names the worker and a node that failed. Edge cases of the
node list (a bad entry, a node without ``/v1/status``, a refused list) come from canned servers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from exporter.config.model import Config
from exporter.scrape.discovery import Discovery
from exporter.scrape.scraper import Scraper
from exporter.scrape.targets import TargetPool
from exporter.scrape.watcher import ConfigWatcher
from exporter.sources.address import target_address
from exporter.sources.base import Source
from exporter.sources.dump import DumpSource
from exporter.sources.factory import open_source
from exporter.sources.rest.nodes import NodeLister
from exporter.sources.rest.settings import HttpSettings
from exporter.sources.settings import SourceSettings
from exporter.web.probe import ProbeAllow, Prober
from exporter.web.server import ExporterServer
from tests.conftest import require_jvm
from tests.fixture.process import FixtureCoordinator, start_coordinator
from tests.fixture.profiles import NODE_VERSIONS
from tests.helpers.canned_server import CannedServer, Reply
from tests.helpers.pool_target import BODY, RULES
from tests.helpers.ports import free_port
from tests.helpers.serving import serving

ROOT = Path(__file__).resolve().parent.parent
WORKER_PACK = ROOT / "rules" / "worker.yml"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(text) for s in f.samples}  # fmt: skip


class DiscoveryServer:
    """An exporter server on 127.0.0.1 with /discovery from ``coordinator`` and /probe for what it finds."""

    def __init__(self, tmp_path: Path, coordinator: str, allow: tuple[str, ...] = (), jmx_port: int | None = None,
                 user: str | None = "probe", clock: Callable[[], float] | None = None) -> None:  # fmt: skip
        (tmp_path / "rules.yml").write_text(RULES)
        (tmp_path / "dump.json").write_bytes(BODY)
        default = ConfigWatcher(tmp_path / "rules.yml")
        http = HttpSettings(user=user, connect_timeout=1.0)
        settings = SourceSettings(http=http)

        def open_target(target: str, config: Config) -> Source:
            return open_source(dataclasses.replace(settings, target=target), config)

        self.pool = TargetPool({"default": default, "worker": ConfigWatcher(WORKER_PACK)}, open_target, timeout=5.0)
        self.discovery = Discovery(NodeLister(coordinator, http), timeout=5.0, jmx_port=jmx_port,
                                   **({"clock": clock} if clock else {}))  # fmt: skip
        self.server = ExporterServer(("127.0.0.1", 0), Scraper(default, DumpSource(tmp_path / "dump.json")),
                                     prober=Prober(self.pool, ProbeAllow.parse(allow), self.discovery))  # fmt: skip
        self.server.serve_in_thread()
        self.url = self.server.url

    def groups(self) -> list[dict[str, Any]]:
        response = requests.get(self.url + "/discovery", timeout=30)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "application/json"
        return list(orjson.loads(response.content))

    def probe(self, target: str, module: str = "worker") -> requests.Response:
        return requests.get(self.url + "/probe", params={"target": target, "module": module}, timeout=30)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.pool.close()
        self.discovery.close()


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[FixtureCoordinator, FixtureCoordinator, str]]:
    """A coordinator that wants a user, its worker, and the URI of a node that failed (nothing listens there)."""
    require_jvm()
    worker = start_coordinator("trino", role="worker", node_id="worker-a")
    try:
        coordinator = start_coordinator("trino", require_user=True)
        try:
            failed = f"http://127.0.0.1:{free_port()}"
            coordinator.set_nodes([worker.http_url, failed], failed=[failed])
            yield coordinator, worker, failed
        finally:
            coordinator.stop()
    finally:
        worker.stop()


@pytest.fixture
def exporter(tmp_path: Path, cluster: tuple[FixtureCoordinator, FixtureCoordinator, str]) -> Iterator[DiscoveryServer]:
    server = DiscoveryServer(tmp_path, cluster[0].http_url)
    yield server
    server.close()


@pytest.mark.jvm
def test_discovery_lists_the_coordinator_and_its_nodes(
    exporter: DiscoveryServer, cluster: tuple[FixtureCoordinator, FixtureCoordinator, str]
) -> None:
    coordinator, worker, failed = cluster
    version = NODE_VERSIONS["trino"]
    assert exporter.groups() == [
        {"targets": [coordinator.http_url], "labels": {
            "coordinator": "true", "node_id": coordinator.node_id, "node_version": version,
            "__meta_presto_node_failed": "false", "__meta_presto_node_uri": coordinator.http_url}},
        {"targets": [worker.http_url], "labels": {
            "coordinator": "false", "node_id": "worker-a", "node_version": version,
            "__meta_presto_node_failed": "false", "__meta_presto_node_uri": worker.http_url}},
        {"targets": [failed], "labels": {
            "coordinator": "false", "__meta_presto_node_failed": "true", "__meta_presto_node_uri": failed}},
    ]  # fmt: skip
    stats = coordinator.stats()["routes"]
    assert stats["nodes"]["requests"] == 2  # /v1/node and /v1/node/failed, with the user (else 401)
    assert worker.stats()["routes"]["status"]["requests"] == 1
    exporter.groups()
    assert coordinator.stats()["routes"]["nodes"]["requests"] == 2  # read again only after the refresh interval


@pytest.mark.jvm
def test_discovered_nodes_may_be_probed_and_others_may_not(
    exporter: DiscoveryServer, cluster: tuple[FixtureCoordinator, FixtureCoordinator, str]
) -> None:
    coordinator, worker, _ = cluster
    response = exporter.probe(worker.http_url)  # no --probe-allow: admitted because the coordinator lists it
    assert response.status_code == 200, response.text
    values = samples(response.text)
    assert values[("jmx_scrape_error", ())] == 0.0
    assert values[("presto_memory_pool_max_bytes", (("pool", "general"),))] == 12 * 1024**3
    assert ("presto_jvm_heap_used_bytes", ()) in values  # the worker JVM's own heap
    assert ("presto_queries_running", ()) not in values
    coordinator_view = samples(exporter.probe(coordinator.http_url).text)
    assert coordinator_view[("jmx_scrape_error", ())] == 0.0
    for target in (f"http://127.0.0.1:{free_port()}", f"jmx://127.0.0.1:{worker.jmx_port}",
                   f"http://localhost:{worker.http_port}"):  # fmt: skip
        refused = exporter.probe(target)
        assert refused.status_code == 403, target
        assert f"or that /discovery found among the nodes of {coordinator.http_url}" in refused.text


@pytest.mark.jvm
def test_with_a_jmx_port_the_nodes_are_jmx_targets(
    tmp_path: Path, cluster: tuple[FixtureCoordinator, FixtureCoordinator, str]
) -> None:
    coordinator, worker, _ = cluster
    exporter = DiscoveryServer(tmp_path, coordinator.http_url, jmx_port=worker.jmx_port)
    try:
        targets = [group["targets"][0] for group in exporter.groups()]
        assert f"jmx://127.0.0.1:{worker.jmx_port}" not in targets  # the one spelling of a JMX target is the long one
        assert targets[1] == f"service:jmx:rmi:///jndi/rmi://127.0.0.1:{worker.jmx_port}/jmxrmi"
        assert exporter.probe(worker.http_url).status_code == 403  # the HTTP URI is not what was discovered
        assert exporter.discovery.knows(target_address(f"jmx://127.0.0.1:{worker.jmx_port}"))
    finally:
        exporter.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.jvm
def test_serve_probes_the_discovered_jmx_registries(
    tmp_path: Path, cluster: tuple[FixtureCoordinator, FixtureCoordinator, str]
) -> None:
    """The command line, end to end, on the Trino 480+ path: discovery over HTTP, the nodes read over JMX."""
    coordinator, worker, _ = cluster
    (tmp_path / "rules.yml").write_text(RULES)
    with serving(tmp_path / "rules.yml", coordinator.http_url, "--user", "probe", "--module", f"worker={WORKER_PACK}",
                 "--discovery-url", coordinator.http_url, "--discovery-jmx-port", str(worker.jmx_port),
                 scrape_timeout=20) as exporter:  # fmt: skip
        groups = orjson.loads(exporter.get("/discovery").content)
        target = f"service:jmx:rmi:///jndi/rmi://127.0.0.1:{worker.jmx_port}/jmxrmi"
        assert target in [group["targets"][0] for group in groups]
        response = exporter.get("/probe", params={"target": f"jmx://127.0.0.1:{worker.jmx_port}", "module": "worker"})
        values = samples(response.text)
        assert values[("jmx_scrape_error", ())] == 0.0, exporter.log()
        assert values[("presto_memory_pool_max_bytes", (("pool", "general"),))] == 12 * 1024**3
        assert ("presto_jvm_heap_used_bytes", ()) in values
        refused = exporter.get("/probe", params={"target": worker.http_url, "module": "worker"})
        assert refused.status_code == 403


@pytest.mark.jvm
def test_a_probed_registry_cannot_send_the_probe_to_another_host(
    tmp_path: Path, coordinator_factory: Callable[..., FixtureCoordinator]
) -> None:
    """The registry names the connector's host itself (java.rmi.server.hostname): a probe goes there, with the JMX
    credentials, only when that host is the registry's own or --probe-allow admits it."""
    worker = coordinator_factory("trino", role="worker", rmi_hostname="localhost")
    target = f"jmx://127.0.0.1:{worker.jmx_port}"
    (tmp_path / "rules.yml").write_text(RULES)
    (tmp_path / "dump.json").write_bytes(BODY)
    with serving(tmp_path / "rules.yml", str(tmp_path / "dump.json"), "--module", f"worker={WORKER_PACK}",
                 "--probe-allow", "127.0.0.1", scrape_timeout=20) as exporter:  # fmt: skip
        values = samples(exporter.get("/probe", params={"target": target, "module": "worker"}).text)
        assert values[("jmx_scrape_error", ())] == 1.0
        assert ("presto_jvm_heap_used_bytes", ()) not in values
        assert (f"the RMI registry at 127.0.0.1:{worker.jmx_port} names localhost:{worker.jmx_port} as its JMX "
                "connector, which is neither the probed host nor allowed by --probe-allow, so nothing was sent there: "
                "allow it (--probe-allow localhost), or set -Djava.rmi.server.hostname=127.0.0.1 on the server"
                ) in exporter.log()  # fmt: skip
    allow_both = ("--probe-allow", "127.0.0.1", "--probe-allow", "localhost")
    with serving(tmp_path / "rules.yml", str(tmp_path / "dump.json"), "--module", f"worker={WORKER_PACK}", *allow_both,
                 scrape_timeout=20) as exporter:  # fmt: skip
        values = samples(exporter.get("/probe", params={"target": target, "module": "worker"}).text)
        assert values[("jmx_scrape_error", ())] == 0.0, exporter.log()
        assert ("presto_jvm_heap_used_bytes", ()) in values


def canned_cluster(nodes: list[dict[str, Any]], failed: list[dict[str, Any]], statuses: dict[str, Reply],
                   ) -> CannedServer:  # fmt: skip
    def answer(path: str) -> Reply:
        if path == "/v1/node":
            return Reply(body=orjson.dumps(nodes))
        if path == "/v1/node/failed":
            return Reply(body=orjson.dumps(failed))
        return statuses.get(path, Reply(status=404, body=b"Not Found"))

    return CannedServer(answer)


def test_a_node_without_a_status_is_listed_with_what_its_info_says(tmp_path: Path) -> None:
    with CannedServer(lambda path: Reply(status=404)) as silent, \
            CannedServer(lambda path: Reply(body=orjson.dumps({"nodeVersion": {"version": "0.289"}, "coordinator":
                                                                False})) if path == "/v1/info"
                         else Reply(status=404)) as informed:  # fmt: skip
        nodes = [{"uri": silent.url + "/v1/status"}, {"uri": informed.url}, {"uri": "not a uri"},
                 {"uri": "http://user@10.0.0.1:8080/v1/status"}, {"nope": 1}, {"uri": "HTTP://LOCALHOST:1/v1/status"}]
        status = {"nodeId": "c1", "nodeVersion": {"version": "0.289"}, "coordinator": True}
        with canned_cluster(nodes, [], {"/v1/status": Reply(body=orjson.dumps(status))}) as coordinator:
            exporter = DiscoveryServer(tmp_path, coordinator.url, user=None)
            try:
                groups = exporter.groups()
            finally:
                exporter.close()
    by_target = {group["targets"][0]: group["labels"] for group in groups}
    assert list(by_target) == [coordinator.url, silent.url, informed.url, "http://localhost:1"]
    assert by_target[coordinator.url]["node_id"] == "c1"
    assert "node_id" not in by_target[silent.url] and "node_version" not in by_target[silent.url]
    assert by_target[informed.url]["node_version"] == "0.289" and "node_id" not in by_target[informed.url]
    assert [seen.path for seen in silent.seen] == ["/v1/status", "/v1/info"]
    assert all("authorization" not in seen.headers for seen in silent.seen)


def test_a_node_list_the_coordinator_refuses_is_a_503_that_says_why(tmp_path: Path) -> None:
    with CannedServer(lambda path: Reply(status=401, body=b"Basic authentication or X-Trino-User must be sent")) \
            as coordinator:  # fmt: skip
        clock = Clock()
        exporter = DiscoveryServer(tmp_path, coordinator.url, clock=clock)
        try:
            response = requests.get(exporter.url + "/discovery", timeout=30)
            assert response.status_code == 503
            assert "Cannot read the node list:" in response.text and "HTTP 401" in response.text
            for _ in range(5):  # unknown targets do not make the exporter read the list again and again
                assert exporter.probe(f"http://127.0.0.1:{free_port()}").status_code == 403
            assert exporter.discovery.reads == 1
            clock.now += 5  # a failed read is tried again after 5 s
            assert exporter.probe(f"http://127.0.0.1:{free_port()}").status_code == 403
            assert exporter.discovery.reads == 2
        finally:
            exporter.close()


def test_the_last_good_list_outlives_a_failing_coordinator(tmp_path: Path) -> None:
    good = True
    node = f"http://127.0.0.1:{free_port()}"  # nothing listens there

    def answer(path: str) -> Reply:
        if not good:
            return Reply(status=503, body=b"down")
        if path == "/v1/node":
            return Reply(body=orjson.dumps([{"uri": node + "/v1/status"}]))
        return Reply(body=b"[]" if path == "/v1/node/failed" else b"{}")

    with CannedServer(answer) as coordinator:
        clock = Clock()
        exporter = DiscoveryServer(tmp_path, coordinator.url, clock=clock)
        try:
            assert [g["targets"][0] for g in exporter.groups()] == [coordinator.url, node]
            good = False
            clock.now += 30  # the list is due again
            assert [g["targets"][0] for g in exporter.groups()] == [coordinator.url, node]
            assert exporter.discovery.current().error is not None
            assert exporter.discovery.reads == 2
            assert exporter.probe(node).status_code == 200  # still a node of the cluster
        finally:
            exporter.close()


@pytest.mark.jvm
def test_a_trino_480_node_is_probed_through_its_own_metrics(
    tmp_path: Path, coordinator_factory: Callable[..., FixtureCoordinator]
) -> None:
    """Trino 480+ serves no /v1/jmx: the probe of its HTTP URI reads its OpenMetrics /metrics (--source auto)."""
    worker = coordinator_factory("trino483", role="worker", require_user=True)
    exporter = DiscoveryServer(tmp_path, worker.http_url, allow=("127.0.0.1",))
    try:
        response = exporter.probe(worker.http_url)
        values = samples(response.text)
        assert values[("jmx_scrape_error", ())] == 0.0, response.text
        assert values[("presto_memory_pool_max_bytes", (("pool", "general"),))] == 12 * 1024**3
        assert ("presto_task_executor_running_splits", ()) in values
        assert ("presto_jvm_heap_used_bytes", ()) in values  # the fixture lists java.lang:type=Memory for /metrics
        routes = worker.stats()["routes"]
        assert routes["metrics"]["requests"] >= 1 and "bean" not in routes
    finally:
        exporter.close()
