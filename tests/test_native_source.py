"""The native source: Trino's /metrics (airlift's OpenMetrics) read into the same MBean records as over JMX.

The parser and the name mapping on texts as airlift writes them; the source against real servers on 127.0.0.1 (the
fixture coordinator's Trino 483 profile, and a canned server for what a fixture cannot be made to answer).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from exporter.errors import UsageError
from exporter.records.mbeans import Composite, MBean
from exporter.sources.auto import RECHECK, AutoSource
from exporter.sources.base import BeanRequest, SourceError
from exporter.sources.dump import DumpSource
from exporter.sources.factory import open_source
from exporter.sources.native.names import Mapper, Wanted, guess_object_name, metric_names, sanitize
from exporter.sources.native.openmetrics import parse
from exporter.sources.native.source import MAX_QUERY, NativeSource, chunks
from exporter.sources.rest.settings import HttpSettings
from exporter.sources.rest.source import RestSource
from exporter.sources.settings import SourceSettings
from tests.fixture.process import FixtureCoordinator
from tests.helpers.canned_server import CannedServer, Reply
from tests.helpers.certs import self_signed
from tests.helpers.serving import rule_series, serving, value

QM = "trino.execution:name=QueryManager"
POOL = "trino.memory:type=ClusterMemoryPool,name=general"
MEMORY = "java.lang:type=Memory"
YOUNG = "java.lang:name=G1 Young Generation,type=GarbageCollector"
NODES = "trino.node:name=CoordinatorNodeManager"
DUMPS = Path(__file__).resolve().parents[1] / "examples" / "dumps"

# As airlift 439 writes it: one descriptor per family, counters without _total, Java's number text.
AIRLIFT_439 = """\
# TYPE trino_execution_name_QueryManager_RunningQueries gauge
trino_execution_name_QueryManager_RunningQueries 2.0
# TYPE trino_execution_name_QueryManager_FailedQueries counter
# HELP trino_execution_name_QueryManager_FailedQueries Failed \\"queries\\"\\nsince start
trino_execution_name_QueryManager_FailedQueries 6197
# TYPE trino_execution_name_QueryManager_ExecutionTime_FiveMinutes summary
trino_execution_name_QueryManager_ExecutionTime_FiveMinutes_count 45
trino_execution_name_QueryManager_ExecutionTime_FiveMinutes_sum 21761.71875
trino_execution_name_QueryManager_ExecutionTime_FiveMinutes{quantile="0.5"} 386.875
trino_execution_name_QueryManager_ExecutionTime_FiveMinutes{quantile="0.99"} NaN
# TYPE trino_memory_type_ClusterMemoryPool_name_general_FreeDistributedBytes gauge
trino_memory_type_ClusterMemoryPool_name_general_FreeDistributedBytes 4.9392123904E10
# TYPE JMX_java_lang_TYPE_Memory_ATTRIBUTE_HeapMemoryUsage_used gauge
# HELP JMX_java_lang_TYPE_Memory_ATTRIBUTE_HeapMemoryUsage_used HeapMemoryUsage
JMX_java_lang_TYPE_Memory_ATTRIBUTE_HeapMemoryUsage_used 5.36870912E9
# TYPE JMX_java_lang_TYPE_Memory_ATTRIBUTE_HeapMemoryUsage_max gauge
JMX_java_lang_TYPE_Memory_ATTRIBUTE_HeapMemoryUsage_max 1.7179869184E10
# EOF
"""
# As the airlift of Trino 480 (about 410) writes it: a descriptor before every metric, a DistributionStat as gauges.
AIRLIFT_410 = """\
# TYPE trino_execution_name_QueryManager_RunningQueries gauge
trino_execution_name_QueryManager_RunningQueries 2.0
# TYPE trino_execution_name_QueryManager_CpuInputByteRate_FiveMinutes_P50 gauge
trino_execution_name_QueryManager_CpuInputByteRate_FiveMinutes_P50 446.5
# TYPE trino_execution_name_QueryManager_CpuInputByteRate_FiveMinutes_Count gauge
trino_execution_name_QueryManager_CpuInputByteRate_FiveMinutes_Count 50.0
# TYPE trino_execution_name_QueryManager_FailedQueries counter
trino_execution_name_QueryManager_FailedQueries 6197
# EOF
"""


def records(text: str, beans: list[Wanted]) -> dict[str, dict[str, Any]]:
    return {bean.object_name: {a.name: a.value for a in bean.attributes}
            for bean in Mapper(beans).records(parse(text, "test"))}


# ---------------------------------------------------------------------------------------------- the text format


def test_the_parser_reads_airlift_families() -> None:
    families = {family.name: family for family in parse(AIRLIFT_439, "test")}
    failed = families["trino_execution_name_QueryManager_FailedQueries"]
    assert (failed.type, failed.help, [s.value for s in failed.samples]) == (
        "counter", 'Failed "queries"\nsince start', [6197.0])
    summary = families["trino_execution_name_QueryManager_ExecutionTime_FiveMinutes"]
    assert [(s.name[-6:], s.labels) for s in summary.samples] == [
        ("_count", ()), ("es_sum", ()), ("inutes", (("quantile", "0.5"),)), ("inutes", (("quantile", "0.99"),))]
    assert math.isnan(summary.samples[-1].value)
    assert families["trino_memory_type_ClusterMemoryPool_name_general_FreeDistributedBytes"].samples[0].value == (
        49392123904.0)


def test_the_parser_takes_the_prometheus_spellings_too() -> None:
    text = ('# TYPE up_things counter\nup_things_total 3 1700000000\nup_things_created 1.7e9\n'
            'loose{a="x\\\\y",b="q\\"z"} +Inf\nlooser -Infinity\n')
    families = {family.name: family for family in parse(text, "t")}
    assert [s.name for s in families["up_things"].samples] == ["up_things_total", "up_things_created"]
    assert families["loose"].type == "unknown"
    assert families["loose"].samples[0].labels == (("a", "x\\y"), ("b", 'q"z'))
    assert families["loose"].samples[0].value == math.inf
    assert families["looser"].samples[0].value == -math.inf


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<html><body>Bad Gateway</body></html>",
         "where: line 1 is not OpenMetrics text: '<html><body>Bad Gateway</body></html>'"),
        ('# TYPE a gauge\na 1.0\n[{"objectName": "x"}]',
         "where: line 3 is not OpenMetrics text: '[{\"objectName\": \"x\"}]'"),
        ("# TYPE a gauge\na{b=\"c} 1\n", "where: line 2 is not OpenMetrics text: 'a{b=\"c} 1'"),
    ],
    ids=["html", "json", "unclosed-label"],
)
def test_text_that_is_not_openmetrics_is_refused(body: str, message: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse(body, "where")
    assert str(caught.value) == message


# ---------------------------------------------------------------------------------------------- names, both ways


def test_metric_names_of_attributes() -> None:
    qm, memory = Wanted.of(QM), Wanted.of(MEMORY)
    assert metric_names(qm, "RunningQueries") == ["trino_execution_name_QueryManager_RunningQueries"]
    assert metric_names(qm, "FailedQueries.TotalCount") == ["trino_execution_name_QueryManager_FailedQueries"]
    assert metric_names(qm, "ExecutionTime.FiveMinutes.P50")[1] == (
        "trino_execution_name_QueryManager_ExecutionTime_FiveMinutes")
    assert metric_names(memory, "HeapMemoryUsage") == ["JMX_java_lang_TYPE_Memory_ATTRIBUTE_HeapMemoryUsage"]
    assert Wanted.of(YOUNG).prefix == "JMX_java_lang_NAME_G1_Young_Generation_TYPE_GarbageCollector_ATTRIBUTE"
    assert sanitize("a.:b=c, d") == "a_b_c_d"


def test_listed_attributes_map_back_exactly() -> None:
    beans = [Wanted.of(QM, ["RunningQueries", "FailedQueries.TotalCount", "ExecutionTime.FiveMinutes.P50",
                            "ExecutionTime.FiveMinutes.P99"]),
             Wanted.of(POOL, ["FreeDistributedBytes"]), Wanted.of(MEMORY, ["HeapMemoryUsage"]),
             Wanted.of("presto.execution:name=QueryManager", ["RunningQueries"])]
    got = records(AIRLIFT_439, beans)
    assert set(got) == {QM, POOL, MEMORY}  # a bean /metrics has nothing of is absent
    assert got[QM]["RunningQueries"] == 2 and isinstance(got[QM]["RunningQueries"], int)
    assert got[QM]["FailedQueries.TotalCount"] == 6197
    assert got[QM]["ExecutionTime.FiveMinutes.P50"] == 386.875
    assert math.isnan(got[QM]["ExecutionTime.FiveMinutes.P99"])
    assert got[QM]["ExecutionTime.FiveMinutes.Count"] == 45.0
    assert "ExecutionTime.FiveMinutes.Total" not in got[QM]  # a TimeDistribution has no Total
    assert got[POOL] == {"FreeDistributedBytes": 49392123904}
    assert got[MEMORY] == {"HeapMemoryUsage": Composite((("max", 17179869184), ("used", 5368709120)))}


def test_the_airlift_of_trino_480_maps_back_too() -> None:
    got = records(AIRLIFT_410, [Wanted.of(QM)])[QM]
    assert got == {"RunningQueries": 2, "CpuInputByteRate.FiveMinutes.P50": 446.5,
                   "CpuInputByteRate.FiveMinutes.Count": 50, "FailedQueries.TotalCount": 6197}


def test_a_raw_jmx_answer_without_its_jmx_prefix_maps_back() -> None:
    # The airlift of Trino 480 answers a raw JMX name asked for by name[] without the JMX_ it was asked with.
    text = "# TYPE java_lang_TYPE_Memory_ATTRIBUTE_HeapMemoryUsage_used gauge\n" \
           "java_lang_TYPE_Memory_ATTRIBUTE_HeapMemoryUsage_used 5.0\n"
    assert records(text, [Wanted.of(MEMORY, ["HeapMemoryUsage"])]) == {
        MEMORY: {"HeapMemoryUsage": Composite((("used", 5),))}}


def test_a_longer_bean_name_wins_its_metrics() -> None:
    text = "# TYPE a_name_B_C_X gauge\na_name_B_C_X 1.0\n# TYPE a_name_B_Y gauge\na_name_B_Y 2.0\n"
    got = records(text, [Wanted.of("a:name=B"), Wanted.of("a:name=B.C")])
    assert got == {"a:name=B": {"Y": 2}, "a:name=B.C": {"X": 1}}


@pytest.mark.parametrize(
    ("metric", "bean"),
    [
        ("trino_execution_name_QueryManager_RunningQueries", QM),
        ("trino_memory_type_ClusterMemoryPool_name_general_FreeDistributedBytes", POOL),
        ("trino_sql_planner_iterative_name_IterativeOptimizer_rule_InlineProjections_Hits",
         "trino.sql.planner.iterative:name=IterativeOptimizer,rule=InlineProjections"),
        ("io_airlift_http_client_type_HttpClient_name_ForScheduler_Stats_AllResponse",
         "io.airlift.http.client:type=HttpClient,name=ForScheduler"),
        ("JMX_java_lang_TYPE_Memory_ATTRIBUTE_HeapMemoryUsage_used", MEMORY),
        ("JMX_java_lang_NAME_G1_Old_Generation_TYPE_GarbageCollector_ATTRIBUTE_CollectionCount",
         "java.lang:name=G1_Old_Generation,type=GarbageCollector"),  # the space cannot come back
        ("process_cpu_seconds", None),
    ],
)
def test_a_bean_nobody_listed_is_guessed_from_the_name(metric: str, bean: str | None) -> None:
    assert guess_object_name(metric) == bean


def test_names_are_asked_for_in_requests_jetty_accepts() -> None:
    names = [f"trino_execution_name_QueryManager_Attribute{i:04d}" for i in range(400)]
    groups = chunks(names)
    assert [n for group in groups for n in group] == names and len(groups) > 1
    assert all(sum(len("name%5B%5D=") + len(n) + 1 for n in group) <= MAX_QUERY for group in groups)


# ---------------------------------------------------------------------------------------------- a live Trino 483


def _dump_values(profile: str) -> dict[str, dict[str, Any]]:
    beans = json.loads((DUMPS / f"{profile}-coordinator.json").read_text(encoding="utf-8"))
    return {b["objectName"]: {a["name"]: a.get("value") for a in b["attributes"]} for b in beans}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, str):
        return math.isnan(a) and b == "NaN"
    return a == b


@pytest.mark.jvm
def test_every_value_native_carries_is_the_one_jmx_has(trino483_coordinator: FixtureCoordinator) -> None:
    source = NativeSource(trino483_coordinator.http_url)
    names = (QM, POOL, MEMORY, YOUNG, NODES, "trino.execution.executor.dedicated:name=ThreadPerDriverTaskExecutor")
    try:
        snapshot = source.fetch(BeanRequest(names), time.monotonic() + 20)
    finally:
        source.close()
    dump = _dump_values("trino483")
    assert {bean.object_name for bean in snapshot.beans} == set(names)
    compared = 0
    for bean in snapshot.beans:
        for attribute in bean.attributes:
            expected = dump[bean.object_name][attribute.name]
            if isinstance(attribute.value, Composite):
                items = dict(attribute.value.items)
                assert all(expected[item] == value for item, value in items.items() if not isinstance(value, Composite))
            else:
                assert _same(attribute.value, expected), f"{bean.object_name} {attribute.name}"
            compared += 1
    assert compared > 150
    counts = {bean.object_name: {a.name for a in bean.attributes} for bean in snapshot.beans}
    assert {"ActiveWorkerCount", "ActiveCoordinatorCount", "DrainingNodeCount"} <= counts[NODES]
    assert "FailedQueries.OneMinute.Count" not in counts[QM]  # the decayed windows are not in /metrics
    assert snapshot.requests == 1  # no attributes listed: the whole /metrics, once


@pytest.mark.jvm
def test_listed_attributes_are_asked_for_by_name(coordinator_factory: Callable[..., FixtureCoordinator]) -> None:
    coordinator = coordinator_factory("trino483")
    source = NativeSource(coordinator.http_url)
    request = BeanRequest((QM, MEMORY), attributes=(
        (QM, ("RunningQueries", "ExecutionTime.FiveMinutes.P50", "ExecutionTime.FiveMinutes.P95")),
        (MEMORY, ("HeapMemoryUsage",))))
    try:
        whole = source.fetch(BeanRequest((QM, MEMORY)), time.monotonic() + 20)
        coordinator.reset_stats()
        narrow = source.fetch(request, time.monotonic() + 20)
    finally:
        source.close()
    beans = {bean.object_name: {a.name: a.value for a in bean.attributes} for bean in narrow.beans}
    assert sorted(beans[QM]) == ["ExecutionTime.FiveMinutes.Count", *(f"ExecutionTime.FiveMinutes.{p}" for p in (
        "P50", "P75", "P90", "P95", "P99")), "RunningQueries"]
    assert sorted(dict(beans[MEMORY]["HeapMemoryUsage"].items)) == ["committed", "init", "max", "used"]
    stats = coordinator.stats()["routes"]["metrics"]
    assert stats["requests"] == 1 and stats["bytes"] == narrow.bytes_read < whole.bytes_read / 20


@pytest.mark.jvm
def test_native_sends_what_rest_sends(coordinator_factory: Callable[..., FixtureCoordinator], tmp_path: Path) -> None:
    plain = coordinator_factory("trino483", require_user=True)
    snapshot = NativeSource(plain.http_url).fetch(BeanRequest((QM,)), time.monotonic() + 20)  # the default user
    assert snapshot.beans
    cert, key = self_signed(tmp_path, "coordinator")
    secure = coordinator_factory("trino483", basic_auth=("admin", "pw"), tls_cert=str(cert), tls_key=str(key))
    denied = NativeSource(secure.http_url, HttpSettings(user="admin", password="wrong", ca_bundle=str(cert)))
    with pytest.raises(SourceError) as caught:
        denied.fetch(BeanRequest((QM,)), time.monotonic() + 20)
    assert str(caught.value) == (
        f"{secure.http_url}/metrics: HTTP 401 (the server wants credentials: --user with --password-file, or "
        "--bearer-token-file; PrestoSQL reads the user from X-Presto-User: --user-header X-Presto-User): Access "
        "Denied: Invalid credentials")
    allowed = NativeSource(secure.http_url, HttpSettings(user="admin", password="pw", ca_bundle=str(cert)))
    assert allowed.fetch(BeanRequest((QM,)), time.monotonic() + 20).beans
    for source in (denied, allowed):
        source.close()


@pytest.mark.jvm
def test_a_server_without_metrics_says_what_reads_it(prestodb_coordinator: FixtureCoordinator) -> None:
    source = NativeSource(prestodb_coordinator.http_url)
    with pytest.raises(SourceError) as caught:
        source.fetch(BeanRequest((QM,)), time.monotonic() + 10)
    source.close()
    assert str(caught.value) == (
        f"{prestodb_coordinator.http_url}/metrics: HTTP 404: this server has no /metrics: Trino serves it (airlift's "
        "OpenMetrics), prestodb and PrestoSQL do not; read those with --source rest")


# ---------------------------------------------------------------------------------------------- --source auto


@pytest.mark.jvm
def test_auto_switches_to_native_once_jmx_http_is_gone(
    trino483_coordinator: FixtureCoordinator, caplog: pytest.LogCaptureFixture
) -> None:
    source = AutoSource(trino483_coordinator.http_url)
    try:
        with caplog.at_level(logging.INFO, logger="exporter.sources.auto"):
            first = source.fetch(BeanRequest((QM, NODES)), time.monotonic() + 20)
            second = source.fetch(BeanRequest((QM,)), time.monotonic() + 20)
    finally:
        source.close()
    assert source.switched and source.description == trino483_coordinator.http_url + "/metrics"
    assert {b.object_name for b in first.beans} == {QM, NODES} and [b.object_name for b in second.beans] == [QM]
    assert [r.getMessage() for r in caplog.records] == [
        f"{trino483_coordinator.http_url} has no /v1/jmx (Trino 480 and later removed it) and its /metrics answers "
        "OpenMetrics: reading that from now on (--source native)"]


@pytest.mark.jvm
def test_auto_stays_with_rest_where_jmx_http_is_there(trino_coordinator: FixtureCoordinator) -> None:
    source = AutoSource(trino_coordinator.http_url)
    try:
        snapshot = source.fetch(BeanRequest((QM,)), time.monotonic() + 20)
    finally:
        source.close()
    assert not source.switched
    assert len(snapshot.beans[0].attributes) > 250  # every attribute: it came from /v1/jmx/mbean


def test_auto_says_what_metrics_answered_when_it_cannot_switch() -> None:
    def answer(path: str) -> Reply:
        if path.startswith("/metrics"):
            return Reply(401, b"Basic authentication or X-Trino-User must be sent")
        return Reply(404, b"Not Found")

    with CannedServer(answer) as server:
        source = AutoSource(server.url, HttpSettings(user="ops", password="pw"))
        with pytest.raises(SourceError) as caught:
            source.fetch(BeanRequest((QM,)), time.monotonic() + 5)
        source.close()
    probe = next(seen for seen in server.seen if seen.path.startswith("/metrics"))
    assert parse_qs(urlsplit(probe.path).query) == {"name[]": ["presto_jmx_exporter_probe"]}
    assert probe.headers["authorization"].startswith("Basic ")
    assert str(caught.value) == (
        f"{server.url}: none of the 1 requested MBeans exists on the target: each answered HTTP 404, as a server "
        "without /v1/jmx does (Trino 480 and later removed it); read its /metrics instead (--source native; the "
        "default, --source auto, switches to it by itself when /metrics answers OpenMetrics), or its MBeans over "
        f"JMX: --target jmx://HOST:9080, with jmx.rmiregistry.port=9080 in the server's config.properties; "
        f"{server.url}/metrics answered HTTP 401 (the server wants credentials: --user with --password-file, or "
        "--bearer-token-file; PrestoSQL reads the user from X-Presto-User: --user-header X-Presto-User): Basic "
        "authentication or X-Trino-User must be sent")


def test_auto_goes_back_to_rest_when_jmx_http_answers_again() -> None:
    """A 404 that was passing (a proxy while the coordinator restarts) does not keep the source off /v1/jmx."""
    gone = [True]
    bean = {"objectName": QM, "attributes": [{"name": "RunningQueries", "type": "int", "value": 3}]}

    def answer(path: str) -> Reply:
        if path.startswith("/metrics"):
            return Reply(body=AIRLIFT_439.encode(), headers={
                "Content-Type": "application/openmetrics-text; version=1.0.0; charset=utf-8"})
        return Reply(404, b"Not Found") if gone[0] else Reply(body=json.dumps(bean).encode())

    now = [0.0]
    with CannedServer(answer) as server:
        source = AutoSource(server.url, clock=lambda: now[0])
        try:
            source.fetch(BeanRequest((QM,)), time.monotonic() + 5)
            assert source.switched
            gone[0] = False
            source.fetch(BeanRequest((QM,)), time.monotonic() + 5)
            assert source.switched  # not asked again before RECHECK
            now[0] += RECHECK
            snapshot = source.fetch(BeanRequest((QM,)), time.monotonic() + 5)
        finally:
            source.close()
    assert not source.switched
    assert [(a.name, a.value) for a in snapshot.beans[0].attributes] == [("RunningQueries", 3)]


def test_rest_never_switches() -> None:
    with CannedServer(lambda path: Reply(404, b"Not Found")) as server:
        source = RestSource(server.url)
        with pytest.raises(SourceError, match="Trino 480 and later removed it"):
            source.fetch(BeanRequest(), time.monotonic() + 5)
        source.close()
    assert [seen.path for seen in server.seen] == ["/v1/jmx/mbean"]


# ---------------------------------------------------------------------------------------------- saved /metrics


def test_a_saved_metrics_answer_is_a_dump(tmp_path: Path) -> None:
    path = tmp_path / "trino.metrics"
    path.write_text(AIRLIFT_439, encoding="utf-8")
    dump = DumpSource(path)
    assert dump.is_openmetrics()
    listed = dump.fetch(BeanRequest((QM, MEMORY)), time.monotonic() + 5)
    assert [b.object_name for b in listed.beans] == [MEMORY, QM]
    guessed = dump.fetch(BeanRequest(), time.monotonic() + 5)
    assert {b.object_name for b in guessed.beans} == {QM, POOL, MEMORY}
    assert all(isinstance(b, MBean) for b in guessed.beans)


# ---------------------------------------------------------------------------------------------- serve, end to end


@pytest.mark.jvm
def test_serve_gives_the_curated_series_of_trino_483_over_jmx_and_over_metrics(
    coordinator_factory: Callable[..., FixtureCoordinator], tmp_path: Path
) -> None:
    coordinator = coordinator_factory("trino483")
    config = tmp_path / "coordinator.yml"
    config.write_text((Path(__file__).resolve().parents[1] / "rules" / "coordinator.yml").read_text())
    series = {}
    for name, target in (("jmx", coordinator.jmx_url), ("native", coordinator.http_url)):
        with serving(config, target, scrape_timeout=20.0) as server:
            first = server.scrape(bound=None)
            coordinator.reset_stats()
            again = server.scrape(bound=None)
            assert value(again, "jmx_scrape_error") == 0.0, server.log()
            series[name] = rule_series(again)
            assert rule_series(first) == series[name]
            if name == "native":
                assert any("answers OpenMetrics: reading that from now on" in line for line in server.new_log_lines())
                sent = coordinator.stats()["routes"]["metrics"]["bytes"]
                assert 0 < sent < 20_000  # the listed attributes' metrics, not the whole /metrics
    assert series["jmx"] == series["native"]
    assert {key[0] for key in series["native"]} >= {
        "presto_queries_running", "presto_cluster_active_workers", "presto_cluster_required_workers",
        "presto_cluster_memory_pool_blocked_nodes", "presto_queries_failed_total",
        "presto_task_executor_waiting_splits", "presto_jvm_heap_used_bytes", "presto_jvm_gc_collections_total"}


def test_source_names_an_http_way_and_nothing_else(tmp_path: Path) -> None:
    dump = tmp_path / "dump.json"
    dump.write_text("[]")
    with pytest.raises(UsageError) as caught:
        open_source(SourceSettings(target=str(dump), http_source="native"), None)
    assert str(caught.value) == (f"--source native reads an http(s) target; {str(dump)!r} is not one (leave --source "
                                 "at auto for JMX URLs and dump files)")
    native = open_source(SourceSettings(target="http://127.0.0.1:9", http_source="native"), None)
    auto = open_source(SourceSettings(target="http://127.0.0.1:9"), None)
    native.close()
    auto.close()
    assert isinstance(native, NativeSource) and isinstance(auto, AutoSource)
