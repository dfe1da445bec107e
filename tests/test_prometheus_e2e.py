"""End to end: fixture coordinator -> `presto-jmx-exporter serve` -> a real Prometheus with the example configuration.

The example ``prometheus.yml`` is adapted to loopback (its static job pointed at the exporter, the kubernetes-pods
job left out, 1 s intervals) and run with the example recording rules and alerts. The test reads Prometheus' HTTP
API: the coordinator's metrics with the fixture's values, a recording rule, and, after the coordinator starts
failing, the exporter's health metrics and the pending PrestoCoordinatorDown alert.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixture.process import FixtureCoordinator
from tests.fixture.profiles import expected_value
from tests.helpers.ports import free_port
from tests.helpers.promtool import lint_metrics

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "prometheus"
PROFILE = "trino"
QUERY_MANAGER = "trino.execution:name=QueryManager"

pytestmark = [
    pytest.mark.prometheus,
    pytest.mark.jvm,
    pytest.mark.skipif(
        shutil.which("prometheus") is None or shutil.which("promtool") is None,
        reason="prometheus/promtool (Debian package prometheus) are not installed",
    ),
]



def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def wait_for(
    check: Callable[[], Any],
    what: str,
    timeout: float = 60.0,
    process: subprocess.Popen | None = None,
    log: Path | None = None,
) -> Any:
    """Poll ``check`` until it returns a truthy value; fail with ``what`` (and the process log) at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if process is not None and process.poll() is not None:
            pytest.fail(f"{what}: the process exited with {process.returncode}\n{_tail(log)}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}\n{_tail(log)}")
        time.sleep(0.1)  # poll interval


def _tail(log: Path | None) -> str:
    if log is None or not log.exists():
        return ""
    return log.read_text(errors="replace")[-3000:]


@contextlib.contextmanager
def running(argv: list[str], log: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """Start a process (output to ``log``); on exit stop it by PID: SIGTERM, then SIGKILL after a deadline."""
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        try:
            yield process
        finally:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.kill(process.pid, signal.SIGKILL)
                    process.wait(timeout=20)


class PrometheusAPI:
    def __init__(self, base: str) -> None:
        self.base = base

    def query(self, expr: str) -> list[dict[str, Any]]:
        status, body = http_get(f"{self.base}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        if status != 200:
            return []
        answer = json.loads(body)
        assert answer["status"] == "success", answer
        return list(answer["data"]["result"])

    def value(self, expr: str) -> float | None:
        """The value of a query with exactly one result series, else None."""
        result = self.query(expr)
        return float(result[0]["value"][1]) if len(result) == 1 else None


def prometheus_config(tmp_path: Path, exporter_port: int) -> Path:
    """The example configuration, adapted to loopback and short intervals."""
    document = yaml.safe_load((EXAMPLE / "prometheus.yml").read_text(encoding="utf-8"))
    document["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    jobs = {job["job_name"]: job for job in document["scrape_configs"]}
    static = jobs["presto-jmx-exporter"]
    static["static_configs"] = [{"targets": [f"127.0.0.1:{exporter_port}"]}]
    document["scrape_configs"] = [static]  # kubernetes-pods needs a cluster
    for name in document["rule_files"]:
        shutil.copy(EXAMPLE / name, tmp_path / name)
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_prometheus_scrapes_the_exporter_and_evaluates_the_examples(
    tmp_path: Path, coordinator_factory: Callable[..., FixtureCoordinator]
) -> None:
    coordinator = coordinator_factory(PROFILE)
    exporter_port = free_port()
    exporter_url = f"http://127.0.0.1:{exporter_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PJE_")}
    exporter_argv = [
        sys.executable,
        "-m",
        "exporter",
        "serve",
        "--config",
        str(ROOT / "rules" / "coordinator.yml"),
        "--target",
        coordinator.http_url,
        "--listen",
        f"127.0.0.1:{exporter_port}",
    ]
    exporter_log = tmp_path / "exporter.log"
    with running(exporter_argv, exporter_log, env) as exporter:
        wait_for(
            lambda: http_get(f"{exporter_url}/ready")[0] == 200, "the exporter to be ready", 60, exporter, exporter_log
        )
        status, body = http_get(f"{exporter_url}/metrics")
        assert status == 200
        assert lint_metrics(body.decode("utf-8")) == []

        prometheus_port = free_port()
        api = PrometheusAPI(f"http://127.0.0.1:{prometheus_port}")
        prometheus_argv = [
            "prometheus",
            f"--config.file={prometheus_config(tmp_path, exporter_port)}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{prometheus_port}",
        ]
        prometheus_log = tmp_path / "prometheus.log"
        with running(prometheus_argv, prometheus_log) as prometheus:
            wait_for(
                lambda: http_get(f"{api.base}/-/ready")[0] == 200,
                "Prometheus to be ready",
                60,
                prometheus,
                prometheus_log,
            )
            wait_for(
                lambda: api.value('up{job="presto-jmx-exporter"}') == 1.0,
                "the exporter target to be up",
                60,
                prometheus,
                prometheus_log,
            )

            # Coordinator metrics arrive with the fixture's values (generation 0).
            running_queries = float(expected_value(PROFILE, QUERY_MANAGER, "RunningQueries"))
            queued = float(expected_value(PROFILE, QUERY_MANAGER, "QueuedQueries"))
            failed = float(expected_value(PROFILE, QUERY_MANAGER, "FailedQueries.TotalCount"))
            free = float(
                expected_value(PROFILE, "trino.memory:type=ClusterMemoryPool,name=general", "FreeDistributedBytes")
            )
            required = float(expected_value(PROFILE, "trino.execution:name=ClusterSizeMonitor", "RequiredWorkers"))
            wait_for(lambda: api.value("presto_queries_running") is not None, "presto_queries_running", 60)
            assert api.value("presto_queries_running") == running_queries
            assert api.value("presto_queries_queued") == queued
            assert api.value("presto_queries_failed_total") == failed
            assert api.value('presto_cluster_memory_pool_free_bytes{pool="general"}') == free
            assert api.value("presto_jmx_exporter_target_up") == 1.0
            assert api.value("jmx_scrape_error") == 0.0

            # Recording rules evaluate over them.
            wait_for(lambda: api.value("presto:queries_running:max") is not None, "a recording rule", 60)
            assert api.value("presto:queries_running:max") == running_queries
            demand = required if required > 0 else queued + (1.0 if running_queries > 0 else 0.0)
            wait_for(lambda: api.query("presto:worker_demand"), "presto:worker_demand", 60)
            assert api.value("presto:worker_demand") == demand
            assert not api.query('ALERTS{alertname="PrestoCoordinatorDown"}')

            # The coordinator starts refusing: the exporter stays up and says so, and the alert goes pending.
            coordinator.fault("status", status=403)
            wait_for(
                lambda: api.value("presto_jmx_exporter_target_up") == 0.0,
                "target_up to drop to 0",
                60,
                prometheus,
                prometheus_log,
            )
            assert api.value("jmx_scrape_error") == 1.0
            assert api.value('up{job="presto-jmx-exporter"}') == 1.0
            wait_for(
                lambda: api.query('ALERTS{alertname="PrestoCoordinatorDown", alertstate="pending"}'),
                "PrestoCoordinatorDown to be pending",
                60,
                prometheus,
                prometheus_log,
            )
            wait_for(lambda: http_get(f"{exporter_url}/ready")[0] != 200, "/ready to fail", 30)

            coordinator.clear_fault()
            wait_for(
                lambda: api.value("presto_jmx_exporter_target_up") == 1.0,
                "target_up to recover",
                60,
                prometheus,
                prometheus_log,
            )
