"""The fault matrix: ``serve`` (a child process) against a fixture coordinator that fails in every way it can.

For every fault: each ``/metrics`` answers 200 within the scrape bound with ``jmx_scrape_error 1`` and
``presto_jmx_exporter_target_up 0``; five failed scrapes write exactly one log line, which names the cause; the
process stays up; and the first scrape after the fault clears has the same series, with the same values, as before.

REST runs both request shapes: the whole list (``includeObjectNames`` patterns) and one request per bean (literal
ObjectNames). JMX covers a target that is down, refuses the credentials, restarts, or loses a bean.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from exporter.scrape.ratelimit import RateLimitedLog
from tests.conftest import require_jvm
from tests.fixture.process import FixtureCoordinator
from tests.helpers.ports import free_port
from tests.helpers.serving import BOUND, RULES, SCRAPE_TIMEOUT, Serve, child_env, parse, rule_series, serving, value
from tests.helpers.waiting import wait_until

REPEATS = 5
POOL = "trino.memory:type=ClusterMemoryPool,name=general"
QUERY_MANAGER = "trino.execution:name=QueryManager"
# No include list: one GET of the whole list per scrape. Literal names: one GET per bean. Include patterns: the
# whole list at discovery, then the beans the rules use by name (exporter/scrape/planner.py).
LIST_CONFIG = RULES
DISCOVERED_CONFIG = "includeObjectNames: ['trino.memory:*', 'trino.execution:name=QueryManager']\n" + RULES
NAMED_CONFIG = (
    f"includeObjectNames: ['{POOL}', 'trino.memory:type=ClusterMemoryPool,name=reserved',"
    f" 'trino.memory:name=ClusterMemoryManager', '{QUERY_MANAGER}']\n" + RULES
)


def assert_failed(text: str) -> None:
    assert value(text, "jmx_scrape_error") == 1.0
    assert value(text, "presto_jmx_exporter_target_up") == 0.0
    assert rule_series(text) == {}


def assert_complete(text: str, baseline: dict[tuple[str, tuple[tuple[str, str], ...]], str]) -> None:
    assert value(text, "jmx_scrape_error") == 0.0
    assert value(text, "presto_jmx_exporter_target_up") == 1.0
    assert rule_series(text) == baseline


def failing_scrapes(server: Serve, cause: str, repeats: int = REPEATS, bound: float | None = BOUND) -> str:
    """Scrape ``repeats`` times, each a failure; exactly one new log line says the scrape failed and names ``cause``."""
    server.new_log_lines()
    for _ in range(repeats):
        assert_failed(server.scrape(bound))
        assert server.alive()
    failures = [line for line in server.new_log_lines() if "scrape failed" in line]
    assert len(failures) == 1, failures
    assert cause in failures[0], failures[0]
    return failures[0]


def write(tmp_path: Path, text: str, name: str = "config.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# ---------------------------------------------------------------------------------------------------------------
# REST: the fixture's fault modes, for both request shapes


@pytest.fixture(scope="module")
def coordinator(private_trino_coordinator: FixtureCoordinator) -> FixtureCoordinator:
    """A private trino coordinator for this module: faulted, stopped and restarted by the tests below."""
    return private_trino_coordinator


@pytest.fixture(scope="module", params=["list", "named"])
def shape(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def exporter(
    coordinator: FixtureCoordinator, shape: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Serve]:
    """``serve`` of the REST source for one request shape, with a body cap of 1 MiB (the whole list at scale 0 is about
    0.7 MB). ``--source rest``: left at auto, the 404 fault would move it to the fixture's /metrics for minutes."""
    config = write(tmp_path_factory.mktemp(f"faults-{shape}"), LIST_CONFIG if shape == "list" else NAMED_CONFIG)
    with serving(config, coordinator.http_url, "--source", "rest", "--max-body-bytes", str(1 << 20)) as server:
        yield server


@pytest.fixture(scope="module")
def baseline(
    coordinator: FixtureCoordinator, exporter: Serve, shape: str
) -> dict[tuple[str, tuple[tuple[str, str], ...]], str]:
    text = exporter.scrape()
    assert value(text, "jmx_scrape_error") == 0.0, exporter.log()
    series = rule_series(text)
    assert len(series) >= 15
    assert (("trino_pool_FreeDistributedBytes", (("pool", "general"),))) in series
    assert rule_series(exporter.scrape()) == series
    coordinator.reset_stats()
    assert rule_series(exporter.scrape()) == series
    routes = {route: entry["requests"] for route, entry in coordinator.stats()["routes"].items() if entry["requests"]}
    # The trino coordinator has no "reserved" pool: after the next scrape it is asked for only after a back-off.
    assert routes == ({"list": 1} if shape == "list" else {"bean": 3}), "the request shape this module tests"
    return series


@dataclasses.dataclass(frozen=True)
class Case:
    fault: dict[str, object]
    cause: str  # what the log line must say
    named_cause: str | None = None  # when the per-bean shape says something else


CASES = {
    "slow": Case({"mode": "slow", "delay": SCRAPE_TIMEOUT + 3}, "timed out waiting for the response"),
    "http-401": Case({"mode": "status", "status": 401}, "HTTP 401 (the server wants credentials"),
    "http-403": Case({"mode": "status", "status": 403}, "HTTP 403 (the user lacks permission"),
    "http-404": Case({"mode": "status", "status": 404}, "HTTP 404"),
    "http-500": Case({"mode": "status", "status": 500}, "HTTP 500"),
    "malformed-json": Case({"mode": "garbage"}, "malformed JSON"),
    "truncated": Case({"mode": "truncated"}, "the response was cut off"),
    "empty-body": Case({"mode": "empty"}, "empty body"),
    "wrong-shape": Case({"mode": "wrong-shape"}, "expected a JSON array of MBeans", "'objectName'"),
    "over-the-cap": Case({"mode": "huge", "bytes": 2 << 20}, f"exceeds the cap of {1 << 20} bytes"),
    "connection-dropped": Case({"mode": "close"}, "the server closed the connection"),
}


@pytest.mark.jvm
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_rest_fault(
    coordinator: FixtureCoordinator,
    exporter: Serve,
    baseline: dict[tuple[str, tuple[tuple[str, str], ...]], str],
    shape: str,
    case: Case,
) -> None:
    assert_complete(exporter.scrape(), baseline)
    coordinator.fault(**case.fault)
    try:
        cause = case.named_cause if shape == "named" and case.named_cause else case.cause
        failing_scrapes(exporter, cause)
    finally:
        coordinator.clear_fault()
    assert_complete(exporter.scrape(), baseline)
    recovered = [line for line in exporter.new_log_lines() if "succeeded again" in line]
    assert len(recovered) == 1, "the recovery is logged once"


@pytest.mark.jvm
def test_rest_one_log_line_per_fault_when_beans_are_discovered(coordinator: FixtureCoordinator, tmp_path: Path) -> None:
    with serving(write(tmp_path, DISCOVERED_CONFIG), coordinator.http_url) as server:
        baseline = rule_series(server.scrape())
        server.scrape()
        coordinator.fault("status", status=500)
        try:
            failing_scrapes(server, "HTTP 500")
        finally:
            coordinator.clear_fault()
        assert_complete(server.scrape(), baseline)


@pytest.mark.jvm
def test_rest_coordinator_restart(
    coordinator: FixtureCoordinator, exporter: Serve, baseline: dict[tuple[str, tuple[tuple[str, str], ...]], str]
) -> None:
    assert_complete(exporter.scrape(), baseline)
    coordinator.stop()
    failing_scrapes(exporter, "Connection refused")
    coordinator.restart()
    assert_complete(exporter.scrape(), baseline)


@pytest.mark.jvm
def test_rest_bean_vanishing_between_scrapes(
    coordinator: FixtureCoordinator, exporter: Serve, baseline: dict[tuple[str, tuple[tuple[str, str], ...]], str]
) -> None:
    """A bean that goes away is simply absent (its series disappear, the scrape still succeeds) and comes back."""
    assert coordinator.unregister(POOL)
    try:
        text = exporter.scrape()
        assert value(text, "jmx_scrape_error") == 0.0
        without = {key: v for key, v in baseline.items() if ("pool", "general") not in key[1]}
        assert len(without) < len(baseline)
        assert rule_series(text) == without
    finally:
        coordinator.register(POOL)
    assert_complete(exporter.scrape(), baseline)
    assert not [line for line in exporter.new_log_lines() if " ERROR " in line]


@pytest.mark.jvm
def test_rest_bean_vanishing_between_discovery_and_fetch(coordinator: FixtureCoordinator, tmp_path: Path) -> None:
    """With include patterns the bean list is read once, then the beans by name: one of them goes away in between."""
    with serving(write(tmp_path, DISCOVERED_CONFIG), coordinator.http_url) as server:
        baseline = rule_series(server.scrape())  # the discovery
        coordinator.reset_stats()
        assert rule_series(server.scrape()) == baseline
        assert coordinator.stats()["routes"]["bean"]["requests"] > 0, "the second scrape asks for beans by name"
        assert coordinator.unregister(POOL)
        try:
            text = server.scrape()
            assert value(text, "jmx_scrape_error") == 0.0
            assert rule_series(text) == {k: v for k, v in baseline.items() if ("pool", "general") not in k[1]}
        finally:
            coordinator.register(POOL)
        assert_complete(server.scrape(), baseline)
    assert not [line for line in server.log().splitlines() if " ERROR " in line]


@pytest.mark.jvm
def test_rest_odd_attribute_types_are_exported_or_skipped(coordinator: FixtureCoordinator, tmp_path: Path) -> None:
    """The typed sample bean (CompositeData, TabularData, Date, String[], Map, enum, NaN/±Inf, null, a throwing
    getter, an unserialisable value) scrapes cleanly in the default format; only exportable values show up."""
    config = write(tmp_path, "includeObjectNames: ['trino.fixture:*']\n")
    with serving(config, coordinator.http_url) as server:
        text = server.scrape()
        openmetrics = server.get("/metrics", headers={"Accept": "application/openmetrics-text"}).text
    assert value(text, "jmx_scrape_error") == 0.0
    samples = parse(text)
    assert parse(openmetrics, openmetrics=True).keys() == {
        (name.removesuffix("_total") + ("_total" if name.endswith("_total") else ""), labels)
        for name, labels in samples
    }
    names = {name for name, _ in samples}
    prefix = "trino_fixture_OpenTypes_"
    assert math.isnan(samples[(prefix + "UndefinedRatio", (("name", "Samples"),))])
    assert samples[(prefix + "PositiveInfinity", (("name", "Samples"),))] == math.inf
    assert samples[(prefix + "HeapUsage_used", (("name", "Samples"),))] > 0
    assert samples[(prefix + "Enabled", (("name", "Samples"),))] in (0.0, 1.0)
    assert prefix + "StartTime" in names
    for skipped in ("Tags", "Limits", "Unit", "Version", "Missing", "Broken", "Opaque"):
        assert not [name for name in names if name.startswith(prefix + skipped)], skipped
    assert not [line for line in server.log().splitlines() if " ERROR " in line]


# ---------------------------------------------------------------------------------------------------------------
# REST: targets that are not there


@pytest.mark.jvm
def test_rest_connection_refused_until_the_coordinator_starts(
    coordinator_factory: Callable[..., FixtureCoordinator],
    tmp_path: Path,
    baseline_list: dict[tuple[str, tuple[tuple[str, str], ...]], str],
) -> None:
    port = free_port()
    with serving(write(tmp_path, LIST_CONFIG), f"http://127.0.0.1:{port}") as server:
        failing_scrapes(server, f"http://127.0.0.1:{port}/v1/jmx/mbean: cannot connect: Connection refused")
        coordinator_factory("trino", http_port=port)
        assert_complete(server.scrape(), baseline_list)


@pytest.fixture
def baseline_list(trino_coordinator: FixtureCoordinator, tmp_path: Path) -> dict[
        tuple[str, tuple[tuple[str, str], ...]], str]:
    """The LIST_CONFIG series of an untouched trino coordinator at generation 0."""
    from exporter.cli import main

    config = write(tmp_path, LIST_CONFIG, "baseline.yml")
    out = tmp_path / "baseline.txt"
    with out.open("w") as handle, contextlib.redirect_stdout(handle):
        assert main(["scrape", "--config", str(config), "--target", trino_coordinator.http_url]) == 0
    return rule_series(out.read_text())


def test_rest_dns_failure(tmp_path: Path) -> None:
    with serving(write(tmp_path, LIST_CONFIG), "http://coordinator.invalid:8080") as server:
        line = failing_scrapes(server, "http://coordinator.invalid:8080/v1/jmx/mbean: cannot connect")
    assert "Traceback" not in server.log()
    assert len(line) < 300


# ---------------------------------------------------------------------------------------------------------------
# JMX


JMX_CONFIG = f"includeObjectNames: ['trino.memory:*', '{QUERY_MANAGER}']\n" + RULES
# The first connection of a cold embedded JVM takes a few seconds on a busy machine: give JMX a realistic budget.
JMX_TIMEOUT = 6.0
JMX_BOUND = JMX_TIMEOUT + 1.0


@pytest.mark.jvm
def test_jmx_down_up_restart_and_a_vanishing_bean(
    coordinator_factory: Callable[..., FixtureCoordinator], tmp_path: Path
) -> None:
    require_jvm()
    jmx_port = free_port()
    config = write(tmp_path, JMX_CONFIG)
    with serving(config, f"jmx://127.0.0.1:{jmx_port}", scrape_timeout=JMX_TIMEOUT, ready_timeout=90) as server:
        failing_scrapes(server, f"cannot connect to 127.0.0.1:{jmx_port}: connection refused", bound=JMX_BOUND)

        coordinator = coordinator_factory("trino", jmx_port=jmx_port)
        text = server.scrape(JMX_BOUND)
        assert value(text, "jmx_scrape_error") == 0.0, server.log()
        baseline = rule_series(text)
        assert ("trino_pool_FreeDistributedBytes", (("pool", "general"),)) in baseline

        # The catalogue is cached: the bean is listed, then getAttributes finds it gone.
        assert coordinator.unregister(POOL)
        text = server.scrape(JMX_BOUND)
        assert value(text, "jmx_scrape_error") == 0.0
        assert rule_series(text) == {k: v for k, v in baseline.items() if ("pool", "general") not in k[1]}
        assert coordinator.register(POOL)
        wait_until(lambda: rule_series(server.scrape(JMX_BOUND)) == baseline, 30,
                   "the re-registered bean to be read again")

        coordinator.stop()
        failing_scrapes(server, f"127.0.0.1:{jmx_port}", bound=JMX_BOUND)
        coordinator.restart()
        assert_complete(server.scrape(JMX_BOUND), baseline)
    assert "Traceback" not in server.log()


@pytest.mark.jvm
def test_jmx_refused_credentials(coordinator_factory: Callable[..., FixtureCoordinator], tmp_path: Path) -> None:
    require_jvm()
    coordinator = coordinator_factory("trino", jmx_auth=("monitor", "the-old-one"))
    config = write(tmp_path, "username: monitor\npassword: ${JMX_PW}\n" + JMX_CONFIG)
    env = child_env(JMX_PW="the-new-one")
    with serving(config, coordinator.jmx_url, env=env, scrape_timeout=JMX_TIMEOUT, ready_timeout=90) as server:
        failing_scrapes(server, "JMX authentication failed at " + coordinator.jmx_host_port +
                        ": the server rejected the credentials", bound=JMX_BOUND)
        # The coordinator's password is changed to the one the exporter has: the next scrape works.
        coordinator.options = dataclasses.replace(coordinator.options, jmx_auth=("monitor", "the-new-one"))
        coordinator.restart()
        text = server.scrape(JMX_BOUND)
        assert value(text, "jmx_scrape_error") == 0.0, server.log()
        assert ("trino_pool_FreeDistributedBytes", (("pool", "general"),)) in rule_series(text)
    assert "the-new-one" not in server.log()


# ---------------------------------------------------------------------------------------------------------------
# The rate limiter behind "one line per cause"


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _limited(caplog: pytest.LogCaptureFixture) -> tuple[RateLimitedLog, _Clock]:
    caplog.set_level(logging.INFO, logger="tests.faults.ratelimit")
    clock = _Clock()
    return RateLimitedLog(logging.getLogger("tests.faults.ratelimit"), interval=300.0, clock=clock), clock


def test_repeated_errors_are_logged_once_per_interval_with_their_count(caplog: pytest.LogCaptureFixture) -> None:
    limited, clock = _limited(caplog)
    for _ in range(5):
        limited.error("scrape failed: %s", "connection refused")
    clock.now = 301.0
    limited.error("scrape failed: %s", "connection refused")
    limited.recovered("scrape succeeded again")
    limited.error("scrape failed: %s", "connection refused")
    assert [r.getMessage() for r in caplog.records] == [
        "scrape failed: connection refused",
        "scrape failed: connection refused (repeated 4 more times since last logged)",
        "scrape succeeded again",
        "scrape failed: connection refused",
    ]


def test_a_repeat_count_is_never_attached_to_another_message(caplog: pytest.LogCaptureFixture) -> None:
    limited, _ = _limited(caplog)
    for _ in range(5):
        limited.error("scrape failed: %s", "connection refused")
    limited.error("scrape failed: %s", "timed out")
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == "scrape failed: connection refused"
    assert not [m for m in messages if "timed out" in m and "repeated" in m], messages
