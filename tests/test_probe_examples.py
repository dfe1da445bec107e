"""The examples for one exporter per cluster: the probe pattern's Prometheus configuration, the multi-cluster
layout (external labels, remote_write, federation) and the per-node Grafana dashboard.

promtool checks the configurations; the jobs carry the three relabel rules the probe pattern needs; every metric the
dashboard uses is one the packs document. ``tests/test_probe_prometheus.py`` runs probe.yml in a real Prometheus.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers.packs import SELF_METRICS
from tests.helpers.promtool import needs_promtool
from tests.test_rule_packs import readme_rows

ROOT = Path(__file__).resolve().parent.parent
PROM = ROOT / "examples" / "prometheus"
PROBE = PROM / "probe.yml"
CLUSTER = PROM / "multi-cluster" / "cluster-prometheus.yml"
FEDERATION = PROM / "multi-cluster" / "central-federation.yml"
DASHBOARD = ROOT / "examples" / "grafana" / "presto-nodes.json"
METRIC = re.compile(r"(?<![\w:$])((?:presto|jmx)_[A-Za-z0-9_]+)(?![\w:(])")
THREE_RULES = [
    {"source_labels": ["__address__"], "target_label": "__param_target"},
    {"source_labels": ["__param_target"], "target_label": "instance"},
]


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def jobs(path: Path) -> dict[str, dict[str, Any]]:
    return {job["job_name"]: job for job in load(path)["scrape_configs"]}


@needs_promtool
@pytest.mark.parametrize("path", [PROBE, CLUSTER, FEDERATION], ids=lambda p: p.name)
def test_promtool_accepts_the_configuration(path: Path) -> None:
    result = subprocess.run(["promtool", "check", "config", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", [PROBE, CLUSTER], ids=lambda p: p.name)
def test_probe_jobs_relabel_onto_probe(path: Path) -> None:
    probing = {name: job for name, job in jobs(path).items() if job.get("metrics_path") == "/probe"}
    assert probing, "no /probe job"
    for name, job in probing.items():
        assert job["params"] == {"module": ["worker"]}, name
        rules = job["relabel_configs"]
        assert rules[:2] == THREE_RULES, name
        exporter = rules[2]
        assert exporter["target_label"] == "__address__" and set(exporter) == {"target_label", "replacement"}, name
        for sd in job.get("http_sd_configs", []):
            assert sd["url"] == f"http://{exporter['replacement']}/discovery", name
    assert any("http_sd_configs" in job for job in probing.values())
    cluster_view = jobs(path)["presto-coordinator"]
    assert cluster_view.get("metrics_path", "/metrics") == "/metrics"


def test_the_documented_command_serves_what_the_jobs_ask_for() -> None:
    text = PROBE.read_text(encoding="utf-8")
    command = " ".join(line.lstrip("# ").rstrip("\\ ") for line in text.splitlines()[1:3])
    assert "--module worker=rules/worker.yml" in command and "--discovery-url" in command
    assert (ROOT / "rules" / "worker.yml").is_file()


def test_each_cluster_names_itself_and_sends_only_the_exporters_series() -> None:
    document = load(CLUSTER)
    assert set(document["global"]["external_labels"]) == {"cluster"}
    (remote,) = document["remote_write"]
    assert remote["url"].endswith("/api/v1/receive")  # Thanos Receive; Mimir's /api/v1/push is in the comment
    assert "/api/v1/push" in CLUSTER.read_text(encoding="utf-8")
    (keep,) = remote["write_relabel_configs"]
    assert keep["action"] == "keep" and keep["source_labels"] == ["__name__"]
    regex = re.compile(f"^(?:{keep['regex']})$")
    assert all(regex.match(n) for n in ("presto_memory_pool_free_bytes", "presto_queries_running", "jmx_scrape_error",
                                         "up"))  # fmt: skip
    assert not regex.match("go_goroutines") and not regex.match("prometheus_tsdb_head_series")


def test_federation_keeps_the_clusters_labels() -> None:
    (job,) = load(FEDERATION)["scrape_configs"]
    assert job["honor_labels"] is True and job["metrics_path"] == "/federate"
    assert any("presto_" in selector for selector in job["params"]["match[]"])
    assert "external_labels" not in load(FEDERATION)["global"]  # the clusters' own cluster labels come through


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_the_dashboard_has_a_row_per_node() -> None:
    board = dashboard()
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert "label_values(" in variables["node_id"]["definition"] and ", node_id)" in variables["node_id"]["definition"]
    assert variables["node_id"]["multi"] and variables["node_id"]["includeAll"]
    rows = [panel for panel in board["panels"] if panel["type"] == "row"]
    repeated = [row for row in rows if row.get("repeat") == "node_id"]
    assert len(repeated) == 1 and "$node_id" in repeated[0]["title"]
    after = board["panels"][board["panels"].index(repeated[0]) + 1 :]
    assert after and all(panel["type"] != "row" for panel in after)
    for panel in after:
        for target in panel["targets"]:
            assert 'node_id="$node_id"' in target["expr"], panel["title"]
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))


def test_every_metric_the_dashboard_uses_is_produced() -> None:
    documented = {row.metric for pack in ("worker.yml", "coordinator.yml") for row in readme_rows(pack)}
    known = documented | SELF_METRICS
    board = dashboard()
    expressions = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    expressions += [v["definition"] for v in board["templating"]["list"] if v["type"] == "query"]
    used = {name for expr in expressions for name in METRIC.findall(expr)}
    assert used and used <= known, sorted(used - known)
    assert used & {row.metric for row in readme_rows("worker.yml")}


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian package prometheus) is not installed")
def test_the_dashboard_queries_parse(tmp_path: Path) -> None:
    """Each query, with Grafana's variables filled in, as a recording rule promtool checks."""
    rules = []
    for index, panel in enumerate(dashboard()["panels"]):
        for target in panel.get("targets", []):
            expr = target["expr"].replace("$__rate_interval", "1m").replace("$cluster", ".*")
            expr = expr.replace("$node_id", "worker-1")
            rules.append({"record": f"dashboard:query_{index}_{target['refId']}", "expr": expr})
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
