"""End to end: a real Prometheus runs the example probe job (``http_sd_configs`` on the exporter's ``/discovery``,
relabelled onto ``/probe``) against a fixture cluster, a coordinator that wants a user and two workers, through one
``presto-jmx-exporter serve``.

Every node's worker series arrive with its ``node_id``, ``coordinator`` and ``node_version`` labels and its URI as
the instance; a node the coordinator lists as failed is probed too and shows as a failed scrape.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import require_jvm
from tests.fixture.process import FixtureCoordinator, start_coordinator
from tests.fixture.profiles import NODE_VERSIONS
from tests.helpers.ports import free_port
from tests.test_prometheus_e2e import PrometheusAPI, http_get, running, wait_for

ROOT = Path(__file__).resolve().parent.parent
PROBE = ROOT / "examples" / "prometheus" / "probe.yml"

pytestmark = [
    pytest.mark.prometheus,
    pytest.mark.jvm,
    pytest.mark.skipif(
        shutil.which("prometheus") is None, reason="prometheus (Debian package prometheus) is not installed"
    ),
]


@pytest.fixture
def cluster() -> Iterator[tuple[FixtureCoordinator, list[FixtureCoordinator], str]]:
    require_jvm()
    started: list[FixtureCoordinator] = []
    try:
        workers = [start_coordinator("trino", role="worker", node_id=f"worker-{n}") for n in (1, 2)]
        started += workers
        coordinator = start_coordinator("trino", require_user=True, node_id="coordinator-1")
        started.append(coordinator)
        failed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        coordinator.set_nodes([w.http_url for w in workers] + [failed], failed=[failed])
        yield coordinator, workers, failed
    finally:
        for fixture in started:
            fixture.stop()


def prometheus_config(tmp_path: Path, exporter: str) -> Path:
    """probe.yml with the exporter on loopback, 1 s intervals, and without the static job (its nodes are made up)."""
    document = yaml.safe_load(PROBE.read_text(encoding="utf-8"))
    document["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    jobs = {job["job_name"]: job for job in document["scrape_configs"]}
    jobs["presto-coordinator"]["static_configs"] = [{"targets": [exporter]}]
    nodes = jobs["presto-nodes"]
    nodes["http_sd_configs"][0].update(url=f"http://{exporter}/discovery", refresh_interval="2s")
    nodes["relabel_configs"][2]["replacement"] = exporter
    document["scrape_configs"] = [jobs["presto-coordinator"], nodes]
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_prometheus_scrapes_every_node_through_discovery_and_probe(
    tmp_path: Path, cluster: tuple[FixtureCoordinator, list[FixtureCoordinator], str]
) -> None:
    coordinator, workers, failed = cluster
    port = free_port()
    exporter = f"127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PJE_")}
    argv = [sys.executable, "-m", "exporter", "serve", "--config", str(ROOT / "rules" / "coordinator.yml"),
            "--target", coordinator.http_url, "--module", f"worker={ROOT / 'rules' / 'worker.yml'}",
            "--discovery-url", coordinator.http_url, "--user", "presto-jmx-exporter", "--listen", exporter,
            "--connect-timeout", "0.5"]  # fmt: skip
    exporter_log = tmp_path / "exporter.log"
    with running(argv, exporter_log, env) as process:
        wait_for(lambda: http_get(f"http://{exporter}/ready")[0] == 200, "the exporter to be ready", 60, process,
                 exporter_log)  # fmt: skip
        prometheus_port = free_port()
        api = PrometheusAPI(f"http://127.0.0.1:{prometheus_port}")
        prometheus_log = tmp_path / "prometheus.log"
        argv = ["prometheus", f"--config.file={prometheus_config(tmp_path, exporter)}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{prometheus_port}"]
        with running(argv, prometheus_log) as prometheus:
            wait_for(lambda: http_get(f"{api.base}/-/ready")[0] == 200, "Prometheus to be ready", 60, prometheus,
                     prometheus_log)  # fmt: skip
            nodes = {coordinator.http_url: "coordinator-1", workers[0].http_url: "worker-1",
                     workers[1].http_url: "worker-2"}  # fmt: skip
            query = 'presto_memory_pool_max_bytes{job="presto-nodes", pool="general"}'
            wait_for(lambda: len(api.query(query)) == 3, "the three nodes' series", 90, prometheus, prometheus_log)
            wait_for(lambda: api.query(f'jmx_scrape_error{{instance="{failed}"}}'), "the failed node's scrape", 30)

            series = api.query(query)
            got = {s["metric"]["instance"]: s["metric"] for s in series}
            assert set(got) == set(nodes)
            for uri, node_id in nodes.items():
                labels = got[uri]
                assert labels["node_id"] == node_id
                assert labels["coordinator"] == ("true" if node_id.startswith("coordinator") else "false")
                assert labels["node_version"] == NODE_VERSIONS["trino"]
                assert "__meta_presto_node_failed" not in labels
            for worker_series in ("presto_task_executor_running_splits", "presto_jvm_heap_used_bytes",
                                  "presto_tasks_failed_total"):  # fmt: skip
                found = {s["metric"]["node_id"] for s in api.query(f'{worker_series}{{job="presto-nodes"}}')}
                assert found == set(nodes.values()), worker_series
            # The failed node is probed as any node is, and says it cannot be read.
            assert api.value(f'jmx_scrape_error{{job="presto-nodes", instance="{failed}"}}') == 1.0
            assert api.value(f'up{{job="presto-nodes", instance="{failed}"}}') == 1.0
            # The cluster view beside it, from /metrics.
            assert api.value('presto_queries_running{job="presto-coordinator"}') is not None
            # One fetch per node per scrape: the workers were read through their own /v1/jmx, never the coordinator's.
            assert all(worker.stats()["routes"]["bean"]["requests"] > 0 for worker in workers)
