"""``/probe``: one exporter reading other targets, each with state of its own, and only the targets it may read.

An exporter server runs in this process against real HTTP servers on 127.0.0.1 (canned answers, recording what
they were sent); ``tests/test_discovery.py`` covers ``/discovery`` against the fixture coordinator and workers, and
``tests/test_probe_prometheus.py`` a real Prometheus.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from exporter.cli import main
from exporter.commands.exitcodes import ExitCode
from exporter.config.model import Config
from exporter.scrape.scraper import Scraper
from exporter.scrape.targets import TargetPool
from exporter.scrape.watcher import ConfigWatcher
from exporter.sources.address import target_address
from exporter.sources.base import BeanRequest, Snapshot, Source
from exporter.sources.dump import DumpSource
from exporter.sources.factory import open_source
from exporter.sources.jmx.connect import stub_endpoint
from exporter.sources.rest.settings import HttpSettings
from exporter.sources.settings import SourceSettings
from exporter.web.probe import ProbeAllow, Prober, connector_check
from exporter.web.server import SCRAPE_TIMEOUT_HEADER, ExporterServer
from tests.helpers.canned_server import CannedServer, Reply
from tests.helpers.pool_target import BODY, RULES
from tests.helpers.raw_http import exchange
from tests.helpers.serving import serving
from tests.helpers.waiting import wait_until

OTHER_RULES = RULES.replace("trino_clustermemorypool_$1_$2", "other_$2")
JSON = {"Content-Type": "application/json"}


def samples(text: str) -> dict[str, float]:
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Watched:
    """A real source that remembers whether it was closed."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.closed = False

    @property
    def description(self) -> str:
        return self.source.description

    def fetch(self, request: BeanRequest, deadline: float) -> Snapshot:
        return self.source.fetch(request, deadline)

    def config_reloaded(self, config: Config) -> None:
        self.source.config_reloaded(config)

    def close(self) -> None:
        self.closed = True
        self.source.close()


class ProbeServer:
    """An exporter server on 127.0.0.1 whose /metrics reads a dump and whose /probe reads what ``allow`` admits."""

    def __init__(
        self,
        tmp_path: Path,
        allow: tuple[str, ...] = (),
        http: HttpSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
        idle: float = 300.0,
        max_targets: int = 500,
        timeout: float = 5.0,
    ) -> None:
        (tmp_path / "rules.yml").write_text(RULES)
        (tmp_path / "other.yml").write_text(OTHER_RULES)
        (tmp_path / "dump.json").write_bytes(BODY)
        default = ConfigWatcher(tmp_path / "rules.yml", poll_interval=0.05)
        self.other = ConfigWatcher(tmp_path / "other.yml", poll_interval=0.05)
        settings = SourceSettings(http=http or HttpSettings(connect_timeout=1.0))
        self.opened: list[Watched] = []

        def open_target(target: str, config: Config) -> Source:
            source = Watched(open_source(dataclasses.replace(settings, target=target), config))
            self.opened.append(source)
            return source

        self.pool = TargetPool({"default": default, "other": self.other}, open_target, timeout=timeout, clock=clock,
                               idle=idle, max_targets=max_targets)  # fmt: skip
        self.server = ExporterServer(("127.0.0.1", 0), Scraper(default, DumpSource(tmp_path / "dump.json")),
                                     prober=Prober(self.pool, ProbeAllow.parse(allow)))  # fmt: skip
        self.server.serve_in_thread()
        self.url = self.server.url

    def probe(self, target: str, module: str | None = None, **kwargs: object) -> requests.Response:
        params = {"target": target, **({"module": module} if module else {})}
        return requests.get(self.url + "/probe", params=params, timeout=30, **kwargs)  # type: ignore[arg-type]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.pool.close()


@pytest.fixture
def allowed() -> Iterator[CannedServer]:
    with CannedServer(lambda path: Reply(body=BODY, headers=JSON)) as server:
        yield server


@pytest.fixture
def trap() -> Iterator[CannedServer]:
    """A server no probe may reach: every test that uses it checks it saw nothing."""
    with CannedServer(lambda path: Reply(body=BODY, headers=JSON)) as server:
        yield server
        assert server.seen == [], f"a refused target was contacted: {server.seen}"


def port(server: CannedServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


@pytest.fixture
def exporter(tmp_path: Path, allowed: CannedServer) -> Iterator[ProbeServer]:
    server = ProbeServer(tmp_path, allow=(f"127.0.0.1:{port(allowed)}", "*.allowed.test", "10.1.0.0/16"),
                         http=HttpSettings(user="probe", password="s3cret", connect_timeout=1.0))  # fmt: skip
    yield server
    server.close()


# ---------------------------------------------------------------- answered as /metrics is


def test_a_probe_is_answered_as_metrics_is(exporter: ProbeServer, allowed: CannedServer) -> None:
    response = exporter.probe(allowed.url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    values = samples(response.text)
    assert values["trino_clustermemorypool_general_FreeDistributedBytes"] == 1024.0
    assert values["jmx_scrape_error"] == 0.0
    assert values["presto_jmx_exporter_target_up"] == 1.0
    raw = requests.get(exporter.url + "/probe", params={"target": allowed.url}, stream=True, timeout=30,
                       headers={"Accept-Encoding": "gzip"})  # fmt: skip
    assert raw.headers["Content-Encoding"] == "gzip"
    assert b"trino_clustermemorypool_general_FreeDistributedBytes 1024.0" in gzip.decompress(raw.raw.read())
    om = exporter.probe(allowed.url, headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert om.headers["Content-Type"].startswith("application/openmetrics-text") and om.text.endswith("# EOF\n")
    # /metrics still reads its own target.
    assert samples(requests.get(exporter.url + "/metrics", timeout=30).text)["jmx_scrape_error"] == 0.0
    assert all(seen.path == "/v1/jmx/mbean" for seen in allowed.seen)


def test_a_module_names_the_rule_file(exporter: ProbeServer, allowed: CannedServer, tmp_path: Path) -> None:
    values = samples(exporter.probe(allowed.url, module="other").text)
    assert values["other_FreeDistributedBytes"] == 1024.0
    assert "trino_clustermemorypool_general_FreeDistributedBytes" not in values
    # Each module is its own state: the default module's scrape of the same target is another one.
    assert "trino_clustermemorypool_general_FreeDistributedBytes" in samples(exporter.probe(allowed.url).text)
    assert sorted(exporter.pool.targets()) == [("default", f"{allowed.url}"), ("other", f"{allowed.url}")]
    # The module's file is reloaded for every target that uses it.
    before = exporter.other.reload_success
    exporter.other.start()
    try:
        (tmp_path / "other.yml").write_text(OTHER_RULES.replace("other_$2", "renamed_$2"))
        wait_until(lambda: exporter.other.reload_success > before, what="the module file to be reloaded")
        values = samples(exporter.probe(allowed.url, module="other").text)
        assert values["renamed_FreeDistributedBytes"] == 1024.0
        assert values["jmx_config_reload_success_total"] == before + 1
    finally:
        exporter.other.stop()
    unknown = exporter.probe(allowed.url, module="nope")
    assert unknown.status_code == 400
    assert "unknown module 'nope'; the modules are default, other" in unknown.text


def test_a_failing_target_answers_200_with_scrape_error(exporter: ProbeServer, allowed: CannedServer) -> None:
    allowed.answer = lambda path: Reply(status=500, body=b"boom")
    values = samples(exporter.probe(allowed.url).text)
    assert values["jmx_scrape_error"] == 1.0
    assert values["presto_jmx_exporter_target_up"] == 0.0


def test_the_scrape_timeout_header_bounds_a_probe(tmp_path: Path, allowed: CannedServer) -> None:
    allowed.answer = lambda path: Reply(body=BODY, before_body=lambda: allowed.release.wait(60))
    exporter = ProbeServer(tmp_path, allow=("127.0.0.1",), timeout=30.0)
    try:
        started = time.monotonic()
        response = exporter.probe(allowed.url, headers={SCRAPE_TIMEOUT_HEADER: "1.5"})
        assert time.monotonic() - started < 2.5
        assert response.status_code == 200
        assert samples(response.text)["jmx_scrape_error"] == 1.0
    finally:
        allowed.release.set()
        exporter.close()


# ---------------------------------------------------------------- state per target


def test_twenty_concurrent_probes_of_one_target_cost_it_one_fetch(tmp_path: Path) -> None:
    gate = threading.Event()
    with CannedServer(lambda path: Reply(body=BODY, headers=JSON, before_body=lambda: gate.wait(30))) as target:
        exporter = ProbeServer(tmp_path, allow=("127.0.0.1",), timeout=20.0)
        results: list[float] = []

        def probe() -> None:
            results.append(samples(exporter.probe(target.url).text)["trino_clustermemorypool_general_FreeDistributedBytes"])

        threads = [threading.Thread(target=probe) for _ in range(20)]
        try:
            for thread in threads:
                thread.start()
            wait_until(lambda: len(exporter.pool) == 1 and
                       exporter.pool._entries[("default", target.url)].scraper.waiting == 19,
                       what="19 probes waiting on the first one's fetch")  # fmt: skip
            gate.set()
            for thread in threads:
                thread.join(30)
        finally:
            gate.set()
            exporter.close()
    assert results == [1024.0] * 20
    assert len(target.seen) == 1
    assert len(exporter.opened) == 1  # one source for the one target


def test_a_target_keeps_its_state_while_probed_and_loses_it_when_idle(tmp_path: Path) -> None:
    clock = Clock()
    with CannedServer(lambda path: Reply(body=BODY, headers=JSON)) as first, \
            CannedServer(lambda path: Reply(body=BODY, headers=JSON)) as second:  # fmt: skip
        exporter = ProbeServer(tmp_path, allow=("127.0.0.1",), clock=clock, idle=60.0)
        try:
            assert exporter.probe(first.url).status_code == 200
            scraper = exporter.pool._entries[("default", first.url)].scraper
            clock.now += 59
            assert exporter.probe(first.url).status_code == 200
            assert exporter.pool._entries[("default", first.url)].scraper is scraper  # same source, planner, memo
            assert scraper.planner.discoveries == 1  # the kept planner did not discover again
            clock.now += 59
            assert exporter.probe(second.url).status_code == 200
            assert len(exporter.pool) == 2  # the first was probed 59 s ago: kept
            clock.now += 2  # the first idle for 61 s, the second for 2 s
            exporter.probe(second.url)
            assert exporter.pool.targets() == [("default", second.url)]
            assert exporter.pool.dropped == 1
            assert exporter.opened[0].closed and not exporter.opened[1].closed
            exporter.probe(first.url)
            assert len(exporter.opened) == 3  # a new source for the target that came back
        finally:
            exporter.close()


def test_past_the_most_targets_the_least_recently_probed_one_goes(tmp_path: Path) -> None:
    clock = Clock()
    servers = [CannedServer(lambda path: Reply(body=BODY, headers=JSON)) for _ in range(3)]
    for server in servers:
        server.__enter__()
    exporter = ProbeServer(tmp_path, allow=("127.0.0.1",), clock=clock, max_targets=2)
    try:
        for server in servers:
            clock.now += 1
            assert samples(exporter.probe(server.url).text)["jmx_scrape_error"] == 0.0
        assert {target for _, target in exporter.pool.targets()} == {servers[1].url, servers[2].url}
    finally:
        exporter.close()
        for server in servers:
            server.__exit__(None, None, None)


def test_with_every_kept_target_busy_a_new_one_is_answered_503(tmp_path: Path) -> None:
    gate = threading.Event()
    with CannedServer(lambda path: Reply(body=BODY, headers=JSON, before_body=lambda: gate.wait(30))) as busy, \
            CannedServer(lambda path: Reply(body=BODY, headers=JSON)) as other:  # fmt: skip
        exporter = ProbeServer(tmp_path, allow=("127.0.0.1",), max_targets=1, timeout=20.0)
        thread = threading.Thread(target=exporter.probe, args=(busy.url,))
        try:
            thread.start()
            wait_until(lambda: len(busy.seen) == 1, what="the busy target's fetch to start")
            refused = exporter.probe(other.url)
            assert refused.status_code == 503
            assert refused.headers["Retry-After"] == "1"
            assert "all 1 probe targets kept (--probe-max-targets) are being scraped" in refused.text
            assert other.seen == []
        finally:
            gate.set()
            thread.join(30)
            exporter.close()


# ---------------------------------------------------------------- only what it may read


def refused_targets(trap: int, allowed: int) -> list[tuple[str, int, str]]:
    """(target, status, a phrase of the answer) for probes that must not reach anything."""
    return [
        (f"http://127.0.0.1:{trap}", 403, "is not allowed"),
        (f"http://localhost:{trap}", 403, "is not allowed"),  # a name: matched against names, never resolved
        (f"http://localhost:{allowed}", 403, "is not allowed"),  # the allowed address, by a name that is not allowed
        (f"jmx://127.0.0.1:{trap}", 403, "is not allowed"),
        (f"service:jmx:rmi://127.0.0.1:{allowed}/jndi/rmi://127.0.0.1:{trap}/jmxrmi", 403, "is not allowed"),
        (f"http://[::1]:{trap}", 403, "is not allowed"),
        (f"http://[::ffff:127.0.0.1]:{trap}", 403, "is not allowed"),
        (f"http://[::ffff:7f00:1]:{trap}", 403, "is not allowed"),
        (f"http://allowed.test:{trap}", 403, "is not allowed"),  # *.allowed.test: names under it, not itself
        (f"http://evilallowed.test:{trap}", 403, "is not allowed"),
        (f"http://allowed.test.evil:{trap}", 403, "is not allowed"),
        (f"http://10.2.0.1:{trap}", 403, "is not allowed"),
        (f"http://user@127.0.0.1:{allowed}", 400, "user info"),
        (f"http://127.0.0.1:{allowed}@127.0.0.1:{trap}", 400, "user info"),
        (f"http://x:y@127.0.0.1:{allowed}", 400, "user info"),
        (f"http://2130706433:{trap}", 400, "reads as a number"),
        (f"http://0x7f.0.0.1:{trap}", 400, "reads as a number"),
        (f"http://127.1:{trap}", 400, "reads as a number"),
        (f"http://0177.0.0.1:{trap}", 400, "reads as a number"),
        (f"http://127.0.0.1%2e:{trap}", 400, "percent-escape"),
        (f"http://127.0.0.1%3a{allowed}@127.0.0.1:{trap}", 400, "percent-escape"),
        (f"http://[fe80::1%25lo]:{trap}", 400, "percent-escape"),
        (f"http://localhost.:{trap}", 400, "neither an IP address nor a host name"),
        (f"http://127.0.0.1:{allowed}/v1/jmx/mbean?x=1", 400, "base URL"),
        (f"http://127.0.0.1:{allowed}/#top", 400, "base URL"),
        (f"http://127.0.0.1:{allowed}/../../etc", 400, "base URL"),
        (f"http://127.0.0.1:{allowed}\\@127.0.0.1:{trap}", 400, "user info"),
        (f"http://127.0.0.1:{allowed}\r\nX-Injected: 1", 400, "control characters"),
        (f" http://127.0.0.1:{allowed}", 400, "spaces"),
        (f"http://127.0.0.1:{trap}:{allowed}", 400, "IPv6 address in brackets"),
        (f"http://127.0.0.1:0{trap}", 400, "port"),
        ("/etc/passwd", 400, "files cannot be probed"),
        ("file:///etc/passwd", 400, "files cannot be probed"),
        ("examples/dumps/trino-coordinator.json", 400, "files cannot be probed"),
        (f"gopher://127.0.0.1:{trap}", 400, "not an http(s) or JMX URL"),
        (f"service:jmx:iiop://127.0.0.1:{trap}/stub", 400, "through its RMI registry"),
        (f"jmx://127.0.0.1:{trap}/x/../y", 400, "expected jmx://HOST:PORT"),
    ]


def test_targets_outside_the_allow_list_are_refused_before_any_connection(
    exporter: ProbeServer, allowed: CannedServer, trap: CannedServer
) -> None:
    for target, status, phrase in refused_targets(port(trap), port(allowed)):
        response = exporter.probe(target)
        assert (response.status_code, target) == (status, target), response.text
        assert phrase in response.text, (target, response.text)
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert exporter.opened == [] and allowed.seen == []
    forbidden = exporter.probe(f"http://127.0.0.1:{port(trap)}")
    assert "--probe-allow (PJE_PROBE_ALLOW" in forbidden.text and "--discovery-url" in forbidden.text


def test_the_query_string_cannot_smuggle_a_second_target(
    exporter: ProbeServer, allowed: CannedServer, trap: CannedServer
) -> None:
    good, bad = port(allowed), port(trap)
    for query, status in [
        (f"target=http://127.0.0.1:{good}&target=http://127.0.0.1:{bad}", 400),
        (f"target=http%3A%2F%2F127.0.0.1%3A{bad}", 403),  # one level of URL-encoding is the query string's own
        (f"target=http%253A%252F%252F127.0.0.1%253A{bad}", 400),  # two levels are not decoded twice
        (f"target=http://127.0.0.1:{bad}%00", 400),
        (f"target=http://127.0.0.1:{good}%23@127.0.0.1:{bad}", 400),
        (f"target=http://127.0.0.1:{good}%3F@127.0.0.1:{bad}", 400),
        ("module=default", 400),
        ("&".join(f"f{i}=x" for i in range(20)) + f"&target=http://127.0.0.1:{good}", 400),
    ]:
        request = f"GET /probe?{query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
        (response,) = exchange(exporter.server.server_address[:2], request)
        assert (response.status, query) == (status, query), response.body
    assert allowed.seen == []


def test_targets_the_policy_admits(exporter: ProbeServer, allowed: CannedServer) -> None:
    good = port(allowed)
    for target in (f"http://127.0.0.1:{good}", f"HTTP://127.0.0.1:{good}/", f"http://127.0.0.1:{good}/"):
        response = exporter.probe(target)
        assert response.status_code == 200, (target, response.text)
        assert samples(response.text)["jmx_scrape_error"] == 0.0
    assert exporter.pool.targets() == [("default", f"http://127.0.0.1:{good}")]  # one spelling, one state
    # The IPv4 address an IPv4-mapped IPv6 literal reaches is what is checked (and probed).
    response = exporter.probe(f"http://[::ffff:127.0.0.1]:{good}", headers={SCRAPE_TIMEOUT_HEADER: "3"})
    assert response.status_code == 200, response.text
    # Names under *.allowed.test and addresses in 10.1.0.0/16 are admitted (asked here without connecting anywhere).
    prober = exporter.server.prober
    assert prober is not None
    for target in ("http://node-1.allowed.test:8080", "http://10.1.2.3:8080", "jmx://a.b.allowed.test:9080"):
        assert prober.admit(target, None)[1] == "default"


def test_a_redirect_is_not_followed(exporter: ProbeServer, allowed: CannedServer, trap: CannedServer) -> None:
    allowed.answer = lambda path: Reply(status=302, headers={"Location": trap.url + path})
    response = exporter.probe(allowed.url)
    assert response.status_code == 200
    assert samples(response.text)["jmx_scrape_error"] == 1.0
    assert len(allowed.seen) == 1


def test_credentials_go_to_allowed_targets_only(
    exporter: ProbeServer, allowed: CannedServer, trap: CannedServer
) -> None:
    assert exporter.probe(allowed.url).status_code == 200
    assert exporter.probe(trap.url).status_code == 403
    expected = "Basic " + base64.b64encode(b"probe:s3cret").decode()
    assert [seen.headers.get("authorization") for seen in allowed.seen] == [expected]


def test_without_an_allow_list_every_target_is_refused(tmp_path: Path, trap: CannedServer) -> None:
    exporter = ProbeServer(tmp_path)
    try:
        response = exporter.probe(trap.url)
        assert response.status_code == 403
        assert "--probe-allow" in response.text
        assert exporter.probe("").status_code == 400
        assert requests.get(exporter.url + "/discovery", timeout=30).status_code == 404
        landing = requests.get(exporter.url + "/", timeout=30).text
        assert "/probe?target=TARGET&amp;module=NAME" in landing and "default, other" in landing
    finally:
        exporter.close()


@pytest.mark.parametrize(
    ("pattern", "hosts", "others"),
    [
        ("10.42.0.0/16", ["10.42.0.1", "10.42.255.254", "[::ffff:10.42.1.1]"], ["10.43.0.1", "node.example"]),
        ("10.42.0.0/16:8080", ["10.42.0.1"], ["10.42.0.1:8081"]),
        ("fd00::/8", ["[fd00::1]", "[fdff::1]"], ["[fe80::1]", "10.0.0.1"]),
        ("[fd00::/8]:8080", ["[fd12::1]"], ["[fd12::1]:9080"]),
        ("[::1]", ["[::1]"], ["127.0.0.1", "[::2]"]),
        ("*.workers.example", ["a.workers.example", "a.b.workers.example"], ["workers.example", "aworkers.example"]),
        ("Coordinator.Example", ["coordinator.example", "COORDINATOR.example"], ["coordinator.example.evil"]),
        ("*", ["anything.example", "localhost"], ["127.0.0.1", "[::1]"]),
        ("0.0.0.0/0", ["127.0.0.1", "10.0.0.1"], ["localhost", "[::1]"]),
    ],
)
def test_allow_patterns(pattern: str, hosts: list[str], others: list[str]) -> None:
    from exporter.sources.address import target_address

    allow = ProbeAllow.parse([pattern])

    def address(host: str) -> str:
        return f"http://{host}" if ":" in host.rsplit("]", 1)[-1] else f"http://{host}:8080"

    assert all(allow.allows(target_address(address(host))) for host in hosts), pattern
    assert not any(allow.allows(target_address(address(host))) for host in others), pattern


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--probe-allow", "10.0.0.0/33"], "--probe-allow '10.0.0.0/33': not a host name"),
        (["--probe-allow", "*.exa*mple"], "--probe-allow '*.exa*mple': not a host name"),
        (["--probe-allow", "10.0.0.1:99999"], "port '99999' is not a number"),
        (["--probe-allow", "[fd00::/8"], "expected [IPv6 address or CIDR]"),
        (["--module", "worker"], "--module 'worker': expected NAME=FILE"),
        (["--module", "default=x.yml"], "'default' is the --config file"),
        (["--module", "a b=x.yml"], "a module name is 1-64 letters"),
        (["--probe-idle", "0"], "--probe-idle must be a finite number more than zero"),
        (["--probe-max-targets", "0"], "--probe-max-targets must be at least 1"),
        (["--discovery-jmx-port", "9080"], "--discovery-jmx-port needs --discovery-url"),
        (["--discovery-url", "jmx://c:9080"], "--discovery-url 'jmx://c:9080': expected the coordinator's"),
    ],
)
def test_bad_probe_options_stop_serve_with_exit_code_2(
    tmp_path: Path, flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "rules.yml").write_text(RULES)
    (tmp_path / "dump.json").write_bytes(BODY)
    code = main(["serve", "--config", str(tmp_path / "rules.yml"), "--target", str(tmp_path / "dump.json"),
                 "--listen", "127.0.0.1:0", *flags])  # fmt: skip
    assert code == ExitCode.USAGE
    assert message in capsys.readouterr().err


def test_serve_probes_with_its_flags(tmp_path: Path, allowed: CannedServer, trap: CannedServer) -> None:
    """The command line, end to end: a child ``serve`` with a module and an allow list from the environment."""
    (tmp_path / "rules.yml").write_text(RULES)
    (tmp_path / "other.yml").write_text(OTHER_RULES)
    (tmp_path / "dump.json").write_bytes(BODY)
    from tests.helpers.serving import child_env

    env = child_env(PJE_PROBE_ALLOW=f"10.0.0.0/8, 127.0.0.1:{port(allowed)}", PJE_MODULE=f"other={tmp_path}/other.yml")
    with serving(tmp_path / "rules.yml", str(tmp_path / "dump.json"), env=env) as exporter:
        values = samples(exporter.get("/probe", params={"target": allowed.url, "module": "other"}).text)
        assert values["other_FreeDistributedBytes"] == 1024.0
        assert exporter.get("/probe", params={"target": trap.url}).status_code == 403
        assert samples(exporter.scrape())["trino_clustermemorypool_general_FreeDistributedBytes"] == 1024.0
        assert any("modules=default,other" in line for line in exporter.new_log_lines())


# ---------------------------------------------------------------- the JMX connector a registry names

@pytest.mark.parametrize(("stub", "endpoint"), [
    ("javax.management.remote.rmi.RMIServerImpl_Stub[UnicastRef [liveRef: [endpoint:[127.0.0.1:41235](remote),"
     "objID:[-5e1b:19a:0, 1]]]]", ("127.0.0.1", 41235)),
    ("RMIServerImpl_Stub[UnicastRef2 [liveRef: [endpoint:[node-1.cluster.test:9081,javax.rmi.ssl."
     "SslRMIClientSocketFactory@6d06d69c](remote),objID:[1]]]]", ("node-1.cluster.test", 9081)),
    ("RMIServerImpl_Stub[UnicastRef [liveRef: [endpoint:[fd00::5:9080](remote),objID:[1]]]]", ("fd00::5", 9080)),
    ("RMIServerImpl_Stub[SomethingElse]", None),
])  # fmt: skip
def test_the_connector_endpoint_is_read_from_the_stub(stub: str, endpoint: tuple[str, int] | None) -> None:
    assert stub_endpoint(stub) == endpoint


@pytest.mark.parametrize(("registry", "allow", "connector", "admitted"), [
    ("jmx://10.1.2.3:9080", (), ("10.1.2.3", 9081), True),  # the registry's own host, any port
    ("jmx://10.1.2.3:9080", (), ("10.9.9.9", 9080), False),
    ("jmx://10.1.2.3:9080", ("10.9.0.0/16",), ("10.9.9.9", 9080), True),
    ("jmx://10.1.2.3:9080", ("*.cluster.test",), ("10.9.9.9", 9080), False),  # names match names only
    ("jmx://node-1.cluster.test:9080", (), ("NODE-1.cluster.test", 9080), True),
    ("jmx://node-1.cluster.test:9080", (), ("10.1.2.3", 9080), False),  # a name is never resolved to decide
    ("jmx://[fd00::5]:9080", (), ("fd00:0::5", 9080), True),
    ("jmx://10.1.2.3:9080", ("*",), ("evil host", 9080), False),  # not an address at all
])  # fmt: skip
def test_a_probed_registry_may_name_only_an_admitted_connector(
    registry: str, allow: tuple[str, ...], connector: tuple[str, int], admitted: bool
) -> None:
    refusal = connector_check(target_address(registry), ProbeAllow.parse(allow))(*connector)
    assert (refusal is None) == admitted, refusal
    if not admitted:
        assert "so nothing was sent there" in refusal
