"""The fixture coordinator rig itself: catalogue, airlift JSON, JMX over RMI, faults, auth, stats, scale."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from exporter.records.mbeans import Tabular
from tests.conftest import require_jvm
from tests.fixture import openmetrics
from tests.fixture.process import FixtureCoordinator, FixtureError, run_jmx_probe, start_coordinator
from tests.fixture.profiles import (
    LONG_MAX,
    LONG_MIN,
    NEWER_TRINO,
    PROFILES,
    GetterFails,
    Unserialisable,
    catalogue,
    expected_attribute_json,
    expected_bean_json,
    expected_value,
    is_jvm_domain,
    java_double_string,
    serves_jmx_http,
    serves_openmetrics,
    trino_release,
)
from tests.helpers.certs import self_signed

pytestmark = pytest.mark.jvm

CORE_NAMES = {
    "prestodb": [
        "com.facebook.presto.execution:name=QueryManager",
        "com.facebook.presto.memory:name=ClusterMemoryManager",
        "com.facebook.presto.memory:type=ClusterMemoryPool,name=general",
        "com.facebook.presto.memory:type=ClusterMemoryPool,name=reserved",
        "com.facebook.presto.metadata:name=DiscoveryNodeManager",
        "com.facebook.presto.failureDetector:name=HeartbeatFailureDetector",
        "com.facebook.presto.execution:name=ClusterSizeMonitor",
        "com.facebook.presto.memory:type=MemoryPool,name=general",
        "com.facebook.presto.execution:name=TaskManager",
        "com.facebook.presto.execution.executor:name=TaskExecutor",
    ],
    "prestosql": [
        "presto.execution:name=QueryManager",
        "presto.memory:name=ClusterMemoryManager",
        "presto.memory:type=ClusterMemoryPool,name=general",
        "presto.metadata:name=DiscoveryNodeManager",
        "presto.failureDetector:name=HeartbeatFailureDetector",
        "presto.execution:name=ClusterSizeMonitor",
        "presto.memory:type=MemoryPool,name=general",
        "presto.execution:name=TaskManager",
        "presto.execution.executor:name=TaskExecutor",
    ],
    "trino": [
        "trino.execution:name=QueryManager",
        "trino.memory:name=ClusterMemoryManager",
        "trino.memory:type=ClusterMemoryPool,name=general",
        "trino.metadata:name=DiscoveryNodeManager",
        "trino.failuredetector:name=HeartbeatFailureDetector",
        "trino.execution:name=ClusterSizeMonitor",
        "trino.memory:type=MemoryPool,name=general",
        "trino.execution:name=SqlTaskManager",
        "trino.execution.executor.timesharing:name=TimeSharingTaskExecutor",
    ],
}
SAMPLES = "trino.fixture:type=OpenTypes,name=Samples"
QM = "trino.execution:name=QueryManager"


def _get(url: str, **kw: Any) -> requests.Response:
    return requests.get(url, timeout=30, **kw)


def _list(coordinator: FixtureCoordinator, **kw: Any) -> list[dict[str, Any]]:
    response = _get(coordinator.http_url + "/v1/jmx/mbean", **kw)
    assert response.status_code == 200, response.text
    return response.json()


def _by_name(beans: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {b["objectName"]: b for b in beans}


def _attr(bean: dict[str, Any], name: str) -> dict[str, Any]:
    return next(a for a in bean["attributes"] if a["name"] == name)


@pytest.fixture(scope="session")
def coordinators(
    prestodb_coordinator: FixtureCoordinator,
    prestosql_coordinator: FixtureCoordinator,
    trino_coordinator: FixtureCoordinator,
) -> dict[str, FixtureCoordinator]:
    return {"prestodb": prestodb_coordinator, "prestosql": prestosql_coordinator, "trino": trino_coordinator}


@pytest.fixture(scope="module")
def private_trino() -> Iterator[FixtureCoordinator]:
    """A trino coordinator this module may tick, fault and restart."""
    require_jvm()
    coordinator = start_coordinator("trino")
    try:
        yield coordinator
    finally:
        coordinator.stop()


# ---------------------------------------------------------------------------------------------- catalogue


@pytest.mark.parametrize("profile", PROFILES)
def test_catalogue_scales(profile: str) -> None:
    small, real, double = (catalogue(profile, s) for s in (0, 1, 2))
    assert len(real.beans) >= 600
    assert real.attribute_count >= 15_000
    assert set(small.names()) <= set(real.names()) <= set(double.names())
    assert small.names("core") == real.names("core") == double.names("core")
    assert small.names("types") == double.names("types")
    assert small.names("jvm") == double.names("jvm")
    assert {"java.lang:type=Memory", "java.lang:type=Runtime", "java.lang:type=Threading",
            "java.lang:type=OperatingSystem", "java.lang:name=G1 Young Generation,type=GarbageCollector"} <= set(
        small.names("jvm"))
    assert all(is_jvm_domain(name.split(":", 1)[0]) for name in small.names("jvm"))
    # every unrelated family doubles, except the JVM-wide GcMonitor bean, which exists once
    assert len(double.names("unrelated")) == 2 * len(real.names("unrelated")) - 1
    assert 3 <= len(small.names("unrelated")) <= 12
    assert set(CORE_NAMES[profile]) <= set(small.names("core"))
    assert len(set(double.names())) == len(double.beans)


def test_flattened_stat_names() -> None:
    names = {a.name for a in catalogue("trino", 0).bean(QM).attributes}
    assert {"StartedQueries.TotalCount", "StartedQueries.OneMinute.Count", "StartedQueries.FifteenMinute.Rate"} <= names
    assert {"ExecutionTime.FiveMinutes.P99", "ExecutionTime.AllTime.Unit", "QueuedTime.OneMinute.Percentiles"} <= names
    assert {"CpuInputByteRate.AllTime.P01", "WallInputBytesRate.OneMinute.Total"} <= names
    assert "ProgressingQueries" in names
    assert not any("MaxError" in n for n in names)
    assert 290 <= len(names) <= 320
    prestodb = {
        a.name for a in catalogue("prestodb", 0).bean("com.facebook.presto.execution:name=QueryManager").attributes
    }
    assert {"AnalysisTime.AllTime.MaxError", "ManagementExecutor.ActiveCount", "RunningTaskCount"} <= prestodb


def test_expected_values() -> None:
    assert expected_value("trino", QM, "RunningQueries", 0) == 2
    assert expected_value("trino", QM, "RunningQueries", 3) == 5
    assert math.isnan(expected_value("trino", QM, "CpuInputByteRate.OneMinute.P50"))
    assert expected_value("trino", QM, "CpuInputByteRate.OneMinute.Count") == 0.0
    pdb = "com.facebook.presto.execution:name=QueryManager"
    assert expected_value("prestodb", pdb, "CpuInputByteRate.OneMinute.Min") == LONG_MAX
    assert expected_value("prestodb", pdb, "CpuInputByteRate.OneMinute.Max") == LONG_MIN
    assert math.isnan(expected_value("prestodb", pdb, "CpuInputByteRate.OneMinute.Avg"))
    table = expected_value("trino", SAMPLES, "PoolBytes")
    assert isinstance(table, Tabular)
    assert table.index_names == ("pool", "kind")
    assert isinstance(expected_value("trino", SAMPLES, "Opaque"), Unserialisable)
    with pytest.raises(GetterFails):
        expected_value("trino", SAMPLES, "Broken")
    total = expected_value("trino", QM, "StartedQueries.TotalCount", 0)
    assert expected_value("trino", QM, "StartedQueries.TotalCount", 1) > total


def test_java_double_string() -> None:
    cases = {0.0: "0.0", 0.01: "0.01", 1e7: "1.0E7", 1.573285945111e9: "1.573285945111E9", 1e-4: "1.0E-4"}
    for value, text in cases.items():
        assert java_double_string(value) == text
    assert java_double_string(float("nan")) == "NaN"
    assert java_double_string(float("-inf")) == "-Infinity"


# ---------------------------------------------------------------------------------------------- HTTP JSON


@pytest.mark.parametrize("profile", PROFILES)
def test_listing_equals_catalogue(coordinators: dict[str, FixtureCoordinator], profile: str) -> None:
    beans = _by_name(_list(coordinators[profile]))
    names = set(catalogue(profile, 0).names())
    assert names <= set(beans)
    for name in names:
        assert beans[name] == expected_bean_json(profile, name, 0), name
    # The rest is the JVM's own (memory pools, buffer pools ...); its collectors gave way to the catalogue's G1 ones.
    others = set(beans) - names
    assert others and all(is_jvm_domain(name.split(":", 1)[0]) for name in others)
    assert not [name for name in others if name.startswith("java.lang:") and "type=GarbageCollector" in name]
    assert {"HeapMemoryUsage", "NonHeapMemoryUsage"} <= {
        a["name"] for a in beans["java.lang:type=Memory"]["attributes"]
    }


def test_catalogue_rendering_matches_java_values(coordinators: dict[str, FixtureCoordinator]) -> None:
    for coordinator in coordinators.values():
        report = coordinator.verify()
        assert report["mismatches"] == []
        assert report["checked"] == len(catalogue(coordinator.profile, 0).beans)


def test_json_shape(trino_coordinator: FixtureCoordinator) -> None:
    body = _get(trino_coordinator.http_url + "/v1/jmx/mbean").content
    assert b'"value":"NaN"' in body
    beans = _by_name(json.loads(body))
    qm = beans[QM]
    assert list(qm) == ["objectName", "className", "description", "attributes", "operations"]
    assert list(_attr(qm, "RunningQueries")) == ["name", "type", "description", "readable", "writable", "value"]
    assert _attr(qm, "ExecutionTime.AllTime.Unit")["value"] == "MILLISECONDS"
    percentiles = _attr(qm, "ExecutionTime.AllTime.Percentiles")
    assert percentiles["type"] == "java.util.Map"
    assert list(percentiles["value"])[:3] == ["0.0", "0.01", "0.02"]
    assert len(percentiles["value"]) == 100
    assert set(_attr(qm, "CpuInputByteRate.OneMinute.Percentiles")["value"].values()) == {"NaN"}
    pool = beans["trino.memory:type=ClusterMemoryPool,name=general"]
    assert pool["objectName"] == "trino.memory:type=ClusterMemoryPool,name=general"  # registration order kept
    samples = beans[SAMPLES]
    names = [a["name"] for a in samples["attributes"]]
    assert "Broken" not in names  # a throwing getter is missing entirely
    assert "value" not in _attr(samples, "Missing")  # null value omitted
    assert _attr(samples, "Opaque") == {
        "name": "Opaque",
        "type": "javax.management.ObjectInstance",
        "description": "",
        "readable": False,
        "writable": False,
    }
    assert _attr(samples, "Sparse")["value"] == {"present": 42}  # null composite item omitted
    assert _attr(samples, "LastWindow")["value"] == {"count": 7, "inner": {"p50": 1.5, "p99": "NaN"}, "rate": 0.25}
    assert _attr(samples, "Labels")["value"][0] == {"key": "environment", "value": "fixture"}
    assert _attr(samples, "StartTime")["value"] == "2024-01-02T03:04:05.678+00:00"
    assert _attr(samples, "Tags") == {
        "name": "Tags",
        "type": "[Ljava.lang.String;",
        "description": "",
        "readable": True,
        "writable": False,
        "value": ["coordinator", "fixture", "g0"],
    }
    assert _attr(samples, "PositiveInfinity")["value"] == "Infinity"
    assert samples["operations"][1] == {
        "name": "resize",
        "impact": 1,
        "returnType": "int",
        "parameters": [{"name": "newSize", "type": "int", "description": ""}],
    }
    assert 'name="odd,name=x"' in str(list(beans))


def test_prestodb_empty_distribution(prestodb_coordinator: FixtureCoordinator) -> None:
    name = "com.facebook.presto.execution:name=QueryManager"
    qm = _by_name(_list(prestodb_coordinator))[name]
    assert _attr(qm, "CpuInputByteRate.OneMinute.Min") == expected_attribute_json(
        "prestodb", name, "CpuInputByteRate.OneMinute.Min"
    )
    assert _attr(qm, "CpuInputByteRate.OneMinute.Min")["value"] == LONG_MAX
    assert _attr(qm, "CpuInputByteRate.OneMinute.P99")["value"] == LONG_MIN
    assert _attr(qm, "CpuInputByteRate.OneMinute.Min")["type"] == "long"
    assert _attr(qm, "AnalysisTime.AllTime.P50")["value"] == "NaN"


def test_single_bean_and_attribute_routes(trino_coordinator: FixtureCoordinator) -> None:
    base = trino_coordinator.http_url + "/v1/jmx/mbean/"
    pool = "trino.memory:type=ClusterMemoryPool,name=general"
    one = _get(base + quote(pool, safe=""))
    assert one.status_code == 200
    assert one.json() == expected_bean_json("trino", pool, 0)
    reordered = _get(base + quote("trino.memory:name=general,type=ClusterMemoryPool", safe="")).json()
    assert reordered["objectName"] == "trino.memory:name=general,type=ClusterMemoryPool"  # echoed as requested
    assert reordered["attributes"] == one.json()["attributes"]

    value = _get(base + quote(QM, safe="") + "/" + quote("StartedQueries.OneMinute.Count", safe=""))
    assert value.json() == expected_value("trino", QM, "StartedQueries.OneMinute.Count")
    assert _get(base + quote(SAMPLES, safe="") + "/PoolBytes").json()[2] == {
        "bytes": 536870912,
        "kind": "reserved",
        "pool": "system",
    }
    missing = _get(base + quote(SAMPLES, safe="") + "/Missing")
    assert missing.status_code == 204
    assert missing.content == b""

    for bad in ("trino.execution:*", "trino.execution:name=NoSuchBean"):
        failed = _get(base + quote(bad, safe=""))
        assert failed.status_code == 500
        assert failed.headers["Content-Type"].startswith("text/plain")
        assert failed.text.startswith(f"javax.management.InstanceNotFoundException: {bad}")
    assert _get(base + quote("not an object name", safe="")).status_code == 404
    broken = _get(base + quote(SAMPLES, safe="") + "/Broken")
    assert broken.status_code == 500
    assert "MBeanException" in broken.text
    assert _get(base + quote(QM, safe="") + "/NoSuchAttribute").status_code == 500


def test_info_route(trino_coordinator: FixtureCoordinator) -> None:
    info = _get(trino_coordinator.http_url + "/v1/info").json()
    assert info["coordinator"] is True
    assert info["nodeVersion"] == {"version": "476"}


# ---------------------------------------------------------------------------------------------- JMX over RMI


def test_jmx_over_rmi(trino_coordinator: FixtureCoordinator) -> None:
    listed = len(_list(trino_coordinator))
    code, out = run_jmx_probe(
        trino_coordinator.jmx_url,
        get=[
            (QM, "RunningQueries"),
            (QM, "ExecutionTime.AllTime.P50"),
            (QM, "CpuInputByteRate.OneMinute.Max"),
            (SAMPLES, "PoolBytes"),
            (SAMPLES, "HeapUsage"),
            (SAMPLES, "Unit"),
            (SAMPLES, "Broken"),
        ],
        query="trino.memory:*",
        read_all=True,
    )
    assert code == 0, out
    assert out["bean_count"] == listed
    running, p50, empty_max, table, heap, unit, broken = out["get"]
    assert (running["java_class"], running["value"]) == ("java.lang.Long", 2)
    assert p50["value"] == expected_value("trino", QM, "ExecutionTime.AllTime.P50")
    assert empty_max["value"] == "NaN"
    assert table["index_names"] == ["pool", "kind"]
    assert table["java_class"] == "javax.management.openmbean.TabularDataSupport"
    assert heap["value"] == {"committed": 268435456, "init": 16777216, "max": 1073741824, "used": 104857600}
    assert (unit["java_class"], unit["value"]) == ("java.util.concurrent.TimeUnit", "SECONDS")
    assert "getter throws" in broken["error"]
    assert out["query"] == [
        "trino.memory:name=ClusterMemoryManager",
        "trino.memory:type=ClusterMemoryPool,name=general",
        "trino.memory:type=MemoryPool,name=general",
    ]
    assert out["read_all"]["beans"] == listed


# ---------------------------------------------------------------------------------------------- state changes


def test_tick_changes_values_over_http_and_jmx(private_trino: FixtureCoordinator) -> None:
    before = private_trino.stats()["generation"]
    generation = private_trino.tick()
    assert generation == before + 1
    qm = _by_name(_list(private_trino))[QM]
    assert qm == expected_bean_json("trino", QM, generation)
    code, out = run_jmx_probe(private_trino.jmx_url, get=[(QM, "RunningQueries")])
    assert code == 0, out
    assert out["get"][0]["value"] == expected_value("trino", QM, "RunningQueries", generation) == 2 + generation


def test_stats_count_requests_and_bytes(private_trino: FixtureCoordinator) -> None:
    private_trino.reset_stats()
    bodies = [_get(private_trino.http_url + "/v1/jmx/mbean").content for _ in range(2)]
    bean = _get(private_trino.http_url + "/v1/jmx/mbean/" + quote(QM, safe="")).content
    routes = private_trino.stats()["routes"]
    assert routes["list"] == {"requests": 2, "bytes": sum(len(b) for b in bodies)}
    assert routes["bean"] == {"requests": 1, "bytes": len(bean)}
    private_trino.reset_stats()
    assert private_trino.stats()["routes"] == {}


@pytest.fixture
def faulty(private_trino: FixtureCoordinator) -> Iterator[FixtureCoordinator]:
    yield private_trino
    private_trino.clear_fault()


def test_fault_slow(faulty: FixtureCoordinator) -> None:
    faulty.fault("slow", delay=0.6, paths=["list"])
    started = time.monotonic()
    assert len(_list(faulty)) > 20
    assert time.monotonic() - started >= 0.6
    started = time.monotonic()
    assert _get(faulty.http_url + "/v1/jmx/mbean/" + quote(QM, safe="")).status_code == 200
    assert time.monotonic() - started < 0.6  # the bean route was not in "paths"


@pytest.mark.parametrize("status", [401, 403, 404, 500])
def test_fault_status(faulty: FixtureCoordinator, status: int) -> None:
    faulty.fault("status", status=status)
    response = _get(faulty.http_url + "/v1/jmx/mbean")
    assert response.status_code == status
    if status == 401:
        assert response.text == "Basic authentication or X-Trino-User must be sent"


def test_fault_bodies(faulty: FixtureCoordinator) -> None:
    url = faulty.http_url + "/v1/jmx/mbean"
    faulty.fault("garbage")
    with pytest.raises(ValueError):
        _get(url).json()
    faulty.fault("empty")
    assert _get(url).content == b""
    faulty.fault("wrong-shape")
    shape = _get(url).json()
    assert isinstance(shape, dict)
    faulty.fault("huge", bytes=3_000_000)
    huge = _get(url)
    assert len(huge.content) >= 3_000_000
    assert len(huge.json()) > len(catalogue("trino", 0).beans)
    for mode in ("truncated", "close"):
        faulty.fault(mode)
        with pytest.raises(requests.exceptions.RequestException):
            _get(url).json()


def test_fault_count_and_paths(faulty: FixtureCoordinator) -> None:
    faulty.fault("status", status=503, count=1, paths=["bean", "attribute"])
    assert _get(faulty.http_url + "/v1/jmx/mbean").status_code == 200
    bean_url = faulty.http_url + "/v1/jmx/mbean/" + quote(QM, safe="")
    assert _get(bean_url).status_code == 503
    assert _get(bean_url).status_code == 200
    assert faulty.stats()["fault"] is None
    with pytest.raises(FixtureError):
        faulty.fault("sideways")


def test_unregister_and_register(private_trino: FixtureCoordinator) -> None:
    pool = "trino.memory:type=ClusterMemoryPool,name=general"
    assert private_trino.unregister(pool) is True
    try:
        assert pool not in _by_name(_list(private_trino))
        assert _get(private_trino.http_url + "/v1/jmx/mbean/" + quote(pool, safe="")).status_code == 500
        code, out = run_jmx_probe(private_trino.jmx_url, query="trino.memory:*")
        assert code == 0
        assert pool not in out["query"]
    finally:
        assert private_trino.register(pool) is True
    assert pool in _by_name(_list(private_trino))
    assert private_trino.register(pool) is False


def test_restart_keeps_ports_and_sigterm_exits_cleanly(private_trino: FixtureCoordinator) -> None:
    ports, old = (private_trino.http_port, private_trino.jmx_port), private_trino.process
    private_trino.restart(generation=7)
    assert old.returncode == 0  # SIGTERM ends the old process cleanly
    assert (private_trino.http_port, private_trino.jmx_port) == ports
    assert private_trino.pid != old.pid
    qm = _by_name(_list(private_trino))[QM]
    assert _attr(qm, "RunningQueries")["value"] == expected_value("trino", QM, "RunningQueries", 7)


def test_start_failure_reports_stderr(tmp_path: Path) -> None:
    require_jvm()
    started = time.monotonic()
    with pytest.raises(FixtureError, match="failed to start") as caught:
        start_coordinator("trino", tls_cert=str(tmp_path / "missing.pem"), tls_key=str(tmp_path / "missing.key"))
    assert "missing.pem: No such file" in str(caught.value)  # the child's stderr is part of the error
    assert time.monotonic() - started < 30


# ---------------------------------------------------------------------------------------------- auth


def test_trino_user_rule_and_jmx_auth(coordinator_factory: Callable[..., FixtureCoordinator]) -> None:
    coordinator = coordinator_factory("trino", require_user=True, jmx_auth=("monitor", "s3cret"))
    url = coordinator.http_url + "/v1/jmx/mbean"
    denied = _get(url)
    assert denied.status_code == 401
    assert denied.text == "Basic authentication or X-Trino-User must be sent"
    assert _get(url, headers={"X-Trino-User": "exporter"}).status_code == 200
    assert _get(url, auth=("exporter", "")).status_code == 200
    assert _get(coordinator.http_url + "/v1/info").status_code == 200

    code, out = run_jmx_probe(coordinator.jmx_url, credentials=("monitor", "wrong"))
    assert code == 2
    assert "SecurityException" in out["error"]
    code, out = run_jmx_probe(coordinator.jmx_url, credentials=("monitor", "s3cret"), get=[(QM, "QueuedQueries")])
    assert code == 0
    assert out["get"][0]["value"] == 1


def test_basic_auth_over_tls(coordinator_factory: Callable[..., FixtureCoordinator], tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, "coordinator")
    coordinator = coordinator_factory("trino", basic_auth=("admin", "pw"), tls_cert=str(cert), tls_key=str(key))
    assert coordinator.http_url.startswith("https://")
    url = coordinator.http_url + "/v1/jmx/mbean"
    assert _get(url, verify=str(cert)).status_code == 401
    assert _get(url, verify=str(cert), headers={"X-Trino-User": "admin"}).status_code == 401
    wrong = _get(url, verify=str(cert), auth=("admin", "nope"))
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"] == 'Basic realm="Trino"'
    assert len(_list(coordinator, verify=str(cert), auth=("admin", "pw"))) > 20
    assert coordinator.tick() == 1  # control routes need no credentials


# ---------------------------------------------------------------------------------------------- scale


def test_scale_one_is_coordinator_sized(coordinator_factory: Callable[..., FixtureCoordinator]) -> None:
    coordinator = coordinator_factory("trino", scale=1)
    beans = _list(coordinator)
    attributes = sum(len(b["attributes"]) for b in beans)
    assert len(beans) >= 600
    assert attributes >= 15_000
    code, out = run_jmx_probe(coordinator.jmx_url, read_all=True)
    assert code == 0, out
    assert out["read_all"]["beans"] == len(beans)


# ---------------------------------------------------------------------------------------------- newer Trino lines

NEWER_CORE = {
    "trino479": ["trino.node:name=CoordinatorNodeManager",
                 "trino.execution.executor.dedicated:name=ThreadPerDriverTaskExecutor"],
    "trino483": ["trino.node:name=CoordinatorNodeManager",
                 "trino.execution.executor.dedicated:name=ThreadPerDriverTaskExecutor"],
}
NODE_MANAGER = "trino.node:name=CoordinatorNodeManager"


@pytest.mark.parametrize("profile", NEWER_TRINO)
def test_newer_trino_bean_sets(profile: str) -> None:
    names = set(catalogue(profile, 0).names("core"))
    assert set(NEWER_CORE[profile]) <= names
    assert "trino.metadata:name=DiscoveryNodeManager" not in names  # removed in Trino 477
    assert not any("TimeSharingTaskExecutor" in name for name in names)
    counts = {a.name for a in catalogue(profile, 0).bean(NODE_MANAGER).attributes}
    newer = {"ActiveCoordinatorCount", "ActiveWorkerCount"}  # Trino 480
    assert {"ActiveNodeCount", "DrainingNodeCount", "DrainedNodeCount", "ShuttingDownNodeCount"} <= counts
    assert (newer <= counts) == (trino_release(profile) >= 480)


def test_trino_483_has_no_jmx_http_but_openmetrics(trino483_coordinator: FixtureCoordinator) -> None:
    base = trino483_coordinator.http_url
    for path in ("/v1/jmx/mbean", "/v1/jmx/mbean/" + quote(QM, safe=""), "/v1/jmx"):
        assert _get(base + path).status_code == 404
    response = _get(base + "/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/openmetrics-text; version=1.0.0; charset=utf-8"
    assert response.text.endswith("\n# EOF\n")
    listed = {b["objectName"] for b in trino483_coordinator.beans()}  # the control route still lists them
    assert NODE_MANAGER in listed


def _families(text: str) -> dict[str, tuple[str, list[str]]]:
    """Family name -> (type, sample lines)."""
    families: dict[str, tuple[str, list[str]]] = {}
    current = ""
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, current, kind = line.split(" ")
            assert current not in families, f"{current}: two descriptors"
            families[current] = (kind, [])
        elif line and not line.startswith("#"):
            assert line.startswith(current), f"{line!r} outside its family {current}"
            families[current][1].append(line)
    return families


def test_openmetrics_names_types_and_values(trino483_coordinator: FixtureCoordinator) -> None:
    families = _families(_get(trino483_coordinator.http_url + "/metrics").text)
    qm = "trino_execution_name_QueryManager"
    assert families[f"{qm}_RunningQueries"] == ("gauge", [f"{qm}_RunningQueries 2.0"])
    total = expected_value("trino483", QM, "FailedQueries.TotalCount")
    assert families[f"{qm}_FailedQueries"] == ("counter", [f"{qm}_FailedQueries {total}"])
    kind, lines = families[f"{qm}_ExecutionTime_FiveMinutes"]
    p50 = expected_value("trino483", QM, "ExecutionTime.FiveMinutes.P50")
    count = expected_value("trino483", QM, "ExecutionTime.FiveMinutes.Count")
    assert kind == "summary"
    assert lines[0] == f"{qm}_ExecutionTime_FiveMinutes_count {int(count)}"
    assert f'{qm}_ExecutionTime_FiveMinutes{{quantile="0.5"}} {java_double_string(p50)}' in lines
    # The decayed counter windows, strings, enums and maps are not exported.
    assert not any("OneMinute_Count" in name or name.endswith(("_Unit", "_Percentiles")) for name in families)
    pool = "trino_memory_type_ClusterMemoryPool_name_general_FreeDistributedBytes"
    free = expected_value("trino483", "trino.memory:type=ClusterMemoryPool,name=general", "FreeDistributedBytes")
    assert families[pool] == ("gauge", [f"{pool} {java_double_string(float(free))}"])
    assert families["trino_node_name_CoordinatorNodeManager_ActiveWorkerCount"][1] == [
        "trino_node_name_CoordinatorNodeManager_ActiveWorkerCount 4.0"]
    heap = "JMX_java_lang_TYPE_Memory_ATTRIBUTE_HeapMemoryUsage_used"
    used = expected_value("trino483", "java.lang:type=Memory", "HeapMemoryUsage")
    assert families[heap] == ("gauge", [f"{heap} {java_double_string(float(dict(used.items)['used']))}"])
    young = "JMX_java_lang_NAME_G1_Young_Generation_TYPE_GarbageCollector_ATTRIBUTE_CollectionCount"
    assert families[young][0] == "gauge"
    # The fixture's own typed beans are not airlift's: /metrics does not show them.
    assert not any("fixture" in name for name in families)


def test_openmetrics_name_filter(trino483_coordinator: FixtureCoordinator) -> None:
    qm = "trino_execution_name_QueryManager"
    wanted = [f"{qm}_RunningQueries", f"{qm}_ExecutionTime_FiveMinutes", "no_such_metric"]
    text = _get(trino483_coordinator.http_url + "/metrics", params={"name[]": wanted}).text
    assert list(_families(text)) == [f"{qm}_ExecutionTime_FiveMinutes", f"{qm}_RunningQueries"]
    # A composite's own name (a TimeStat) brings all its windows.
    url = trino483_coordinator.http_url + "/metrics"
    windows = _families(_get(url, params={"name[]": f"{qm}_QueuedTime"}).text)
    windows_expected = [f"{qm}_QueuedTime_{w}" for w in ("AllTime", "FifteenMinutes", "FiveMinutes", "OneMinute")]
    assert sorted(windows) == windows_expected
    nothing = _get(trino483_coordinator.http_url + "/metrics", params={"name[]": "no_such_metric"})
    assert nothing.text == "# EOF\n"


def test_openmetrics_without_jmx_object_names(coordinator_factory: Callable[..., FixtureCoordinator]) -> None:
    coordinator = coordinator_factory("trino483", jmx_object_names="")
    assert not any(name.startswith("JMX_") for name in _families(_get(coordinator.http_url + "/metrics").text))


def test_openmetrics_auth_is_the_uis(coordinator_factory: Callable[..., FixtureCoordinator]) -> None:
    coordinator = coordinator_factory("trino483", require_user=True)
    url = coordinator.http_url + "/metrics"
    denied = _get(url)
    assert (denied.status_code, denied.text) == (401, "Basic authentication or X-Trino-User must be sent")
    assert _get(url, headers={"X-Trino-User": "exporter"}).status_code == 200
    assert coordinator.stats()["routes"]["metrics"]["requests"] == 2


def test_openmetrics_rendering_without_a_jvm() -> None:
    registered = catalogue("trino", 0).names()
    metrics = openmetrics.collect("trino", 0, 0, registered)
    body = openmetrics.render(metrics).decode()
    assert body.endswith("# EOF\n") and body.count("# EOF") == 1
    assert openmetrics.sanitize("trino.memory:type=ClusterMemoryPool,name=general") == (
        "trino_memory_type_ClusterMemoryPool_name_general")
    assert openmetrics.jmx_prefix("java.lang:name=G1 Old Generation,type=GarbageCollector") == (
        "JMX_java_lang_NAME_G1_Old_Generation_TYPE_GarbageCollector")
    # Trino 476 still serves both; prestodb and PrestoSQL have no /metrics.
    assert serves_openmetrics("trino") and serves_jmx_http("trino")
    assert not serves_openmetrics("prestodb") and not serves_jmx_http("trino483")


def test_plain_port_answers_a_tls_hello_at_once(trino_coordinator: FixtureCoordinator) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"https://127.0.0.1:{trino_coordinator.http_port}/v1/info", timeout=5, verify=False)
