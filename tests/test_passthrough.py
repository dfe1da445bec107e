"""``--source passthrough``: Trino's own ``/metrics`` re-served as Trino writes it, filtered by the config's
``passthrough.names``, with the exporter's own metrics after it.

The renderer and the scraper on texts as airlift writes them (a source in memory); the whole mode against real
servers on 127.0.0.1: the fixture coordinator's Trino 483 profile, and a canned server for what the fixture cannot be
made to answer (a family named like the exporter's own, exact headers, an HTML page).
"""

from __future__ import annotations

import gzip
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from exporter.cli import main
from exporter.commands.exitcodes import ExitCode
from exporter.output.exposition import render_read_families
from exporter.records.metrics import MetricFamily
from exporter.scrape.passthrough import PassthroughScraper
from exporter.scrape.watcher import ConfigWatcher
from exporter.sources.base import FamilyRequest, FamilySnapshot, SourceError
from exporter.sources.native.openmetrics import parse
from exporter.sources.native.source import NativeSource
from exporter.sources.rest.settings import HttpSettings
from tests.fixture.process import FixtureCoordinator
from tests.helpers.canned_server import CannedServer, Reply
from tests.helpers.promtool import lint_metrics, needs_promtool
from tests.helpers.serving import parse as parse_exposition
from tests.helpers.serving import serving

OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
# As airlift 439 writes it (Trino 483): one descriptor per family, a counter without _total, Java's number text.
AIRLIFT = """\
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
# EOF
"""
RUNNING = "trino_execution_name_QueryManager_RunningQueries"
FAILED = "trino_execution_name_QueryManager_FailedQueries"
EXECUTION_TIME = "trino_execution_name_QueryManager_ExecutionTime"
NAMES = (RUNNING, FAILED, EXECUTION_TIME, "trino_memory_type_ClusterMemoryPool_name_general_FreeDistributedBytes",
         "JMX_java_lang_TYPE_Memory_ATTRIBUTE_HeapMemoryUsage")  # fmt: skip
# The exporter's own families (the text format's counters add _total; OpenMetrics names the build info family
# without its _info).
OWN = ("jmx_scrape_duration_seconds", "jmx_scrape_error", "jmx_config_reload_success", "jmx_config_reload_failure",
       "jmx_exporter_build", "presto_jmx_exporter_target_up", "presto_jmx_exporter_passthrough_")  # fmt: skip


def config_file(tmp_path: Path, names: Sequence[str], extra: str = "") -> Path:
    path = tmp_path / "passthrough.yml"
    listed = "".join(f"    - '{name}'\n" for name in names)
    path.write_text(f"passthrough:\n  names:\n{listed}{extra}", encoding="utf-8")
    return path


def shape(families: Sequence[MetricFamily]) -> list[tuple[Any, ...]]:
    """Families as comparable tuples, values as text so NaN equals NaN."""
    return [(f.name, f.type, f.help, [(s.name, s.labels, repr(s.value)) for s in f.samples]) for f in families]


def split(text: str) -> tuple[list[MetricFamily], dict[str, MetricFamily]]:
    """An exposition of the pass-through: the target's families, and the exporter's own by name."""
    families = parse(text, "exposition")
    theirs = [f for f in families if not f.name.startswith(OWN)]
    return theirs, {f.name: f for f in families if f.name.startswith(OWN)}


# ---------------------------------------------------------------------------------------------- rendering


def test_openmetrics_keeps_the_families_as_airlift_wrote_them() -> None:
    text = render_read_families(parse(AIRLIFT, "t"), openmetrics=True)
    assert text.splitlines()[:5] == [
        f"# TYPE {RUNNING} gauge", f"{RUNNING} 2.0", f"# TYPE {FAILED} counter",
        f'# HELP {FAILED} Failed \\"queries\\"\\nsince start', f"{FAILED} 6197.0",
    ]  # fmt: skip
    assert shape(parse(text + "# EOF\n", "again")) == shape(parse(AIRLIFT, "t"))
    assert "\n# EOF" not in text  # the exporter's own metrics and the # EOF line come after


def test_the_text_format_gets_its_own_spellings_and_keeps_the_names() -> None:
    upstream = (
        '# TYPE done counter\n# HELP done a "quoted"\\\\ help\ndone_total 3\ndone_created 1.7e9\n'
        '# TYPE loose unknown\nloose{a="x\\"y"} +Inf\n# EOF\n'
    )
    text = render_read_families([*parse(AIRLIFT, "t"), *parse(upstream, "u")], openmetrics=False)
    lines = text.splitlines()
    assert f'# HELP {FAILED} Failed "queries"\\nsince start' in lines  # HELP escapes no quote in this format
    assert lines[lines.index(f"# TYPE {FAILED} counter") + 1] == f"{FAILED} 6197.0"  # still without _total
    assert lines[lines.index("# HELP done_total a \"quoted\"\\\\ help"):][:3] == \
        ["# HELP done_total a \"quoted\"\\\\ help", "# TYPE done_total counter", "done_total 3.0"]  # fmt: skip
    assert "done_created" not in text  # the text format has no place for it
    assert lines[-2:] == ["# TYPE loose untyped", 'loose{a="x\\"y"} +Inf']
    assert shape(parse(text, "text")[:5]) == shape(parse(AIRLIFT, "t"))  # the same families, read back
    assert len(parse_exposition(text)) == 10  # prometheus_client reads it too: 8 samples of airlift, 2 others


# ---------------------------------------------------------------------------------------------- the scraper


class MemorySource:
    """A FamilySource over an exposition text (or an error), recording what it was asked for."""

    description = "memory/metrics"

    def __init__(self, text: str = AIRLIFT, error: str | None = None) -> None:
        self.text, self.error = text, error
        self.requests: list[FamilyRequest] = []

    def fetch_families(self, request: FamilyRequest, deadline: float) -> FamilySnapshot:
        self.requests.append(request)
        if self.error is not None:
            raise SourceError(self.error)
        families = parse(self.text, "memory")
        if request.names is not None:  # airlift 439's name[]: a name, or a whole of which these are the parts
            families = [f for f in families if any(f.name == n or f.name.startswith(n + "_") for n in request.names)]
        return FamilySnapshot(tuple(families), len(self.text), 1)

    def close(self) -> None:
        pass


def scraped(tmp_path: Path, names: Sequence[str], source: MemorySource) -> tuple[list[MetricFamily], dict[str, Any]]:
    scraper = PassthroughScraper(ConfigWatcher(config_file(tmp_path, names)), source, timeout=5.0)
    theirs, own = split(scraper.scrape().body(openmetrics=True).decode())
    return theirs, {name: family.samples[0].value for name, family in own.items()}


def test_exact_names_are_asked_for_and_served_as_answered(tmp_path: Path) -> None:
    theirs, own = scraped(tmp_path, [RUNNING, EXECUTION_TIME], source := MemorySource())
    assert source.requests == [FamilyRequest((RUNNING, EXECUTION_TIME))]
    assert [f.name for f in theirs] == [RUNNING, EXECUTION_TIME + "_FiveMinutes"]
    assert own["jmx_scrape_error"] == 0 and own["presto_jmx_exporter_target_up"] == 1
    assert own["presto_jmx_exporter_passthrough_families"] == 2
    assert own["presto_jmx_exporter_passthrough_missing_names"] == 0
    assert own["jmx_exporter_build"] == 1 and own["jmx_scrape_duration_seconds"] >= 0


def test_a_pattern_reads_everything_and_picks_here(tmp_path: Path) -> None:
    theirs, _ = scraped(tmp_path, ["trino_memory_*", FAILED, "*_HeapMemoryUsage_*"], source := MemorySource())
    assert source.requests == [FamilyRequest(None)]
    assert [f.name for f in theirs] == [FAILED, "trino_memory_type_ClusterMemoryPool_name_general_FreeDistributedBytes",
                                        "JMX_java_lang_TYPE_Memory_ATTRIBUTE_HeapMemoryUsage_used"]  # fmt: skip


def test_families_named_like_the_exporters_own_are_left_out(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Two families of one name would lose the whole scrape in Prometheus: the exporter's own stay."""
    clashing = (
        "# TYPE jmx_scrape_error gauge\njmx_scrape_error 7.0\n"
        "# TYPE jmx_config_reload_success counter\njmx_config_reload_success_total 3\n"  # OpenMetrics' family name
        "# TYPE presto_jmx_exporter_target_up_total gauge\npresto_jmx_exporter_target_up_total 1.0\n"
    )
    with caplog.at_level(logging.WARNING, logger="exporter.scrape.passthrough"):
        theirs, own = scraped(tmp_path, ["*"], MemorySource(clashing + AIRLIFT))
    assert [f.name for f in theirs] == [f.name for f in parse(AIRLIFT, "t")]
    assert own["jmx_scrape_error"] == 0 and own["presto_jmx_exporter_passthrough_clashing_families"] == 3
    assert [r.getMessage() for r in caplog.records] == [
        "left out 3 families of memory/metrics named like the exporter's own metrics: jmx_scrape_error, "
        "jmx_config_reload_success, presto_jmx_exporter_target_up_total"
    ]


def test_names_the_answer_has_nothing_of_are_counted_and_said(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="exporter.scrape.passthrough"):
        _, own = scraped(tmp_path, [RUNNING, "trino_execution_name_QueryManager_RuningQueries"], MemorySource())
    assert own["presto_jmx_exporter_passthrough_missing_names"] == 1
    assert "1 of the 2 names in passthrough.names are not on memory/metrics: " \
           "trino_execution_name_QueryManager_RuningQueries" in caplog.text  # fmt: skip


def test_a_failing_target_gives_the_exporters_own_metrics_only(tmp_path: Path) -> None:
    scraper = PassthroughScraper(ConfigWatcher(config_file(tmp_path, ["*"])), MemorySource(error="down"), timeout=5)
    result = scraper.scrape()
    theirs, own = split(result.body(openmetrics=True).decode())
    assert (result.error, theirs) == ("down", [])
    assert own["jmx_scrape_error"].samples[0].value == 1 and own["presto_jmx_exporter_target_up"].samples[0].value == 0


def test_a_reload_changes_the_names_and_one_without_them_fails_saying_why(tmp_path: Path) -> None:
    path = config_file(tmp_path, [RUNNING])
    watcher = ConfigWatcher(path)
    scraper = PassthroughScraper(watcher, source := MemorySource(), timeout=5.0)
    assert [f.name for f in split(scraper.scrape().body(True).decode())[0]] == [RUNNING]
    path.write_text(f"passthrough:\n  names: [{FAILED}, x_y]\n", encoding="utf-8")
    watcher.refresh()
    assert [f.name for f in split(scraper.scrape().body(True).decode())[0]] == [FAILED]
    path.write_text("rules: []\n# no passthrough any more\n", encoding="utf-8")
    watcher.refresh()
    result = scraper.scrape()
    assert result.error == f"{path} has no passthrough.names, which --source passthrough re-serves (names: ['*'] for " \
                           "every family)"  # fmt: skip
    assert len(source.requests) == 2 and watcher.reload_success == 2


# ---------------------------------------------------------------------------------------------- a live Trino 483


def fixture_answer(coordinator: FixtureCoordinator, names: Sequence[str] = ()) -> list[MetricFamily]:
    """What the fixture's /metrics serves for ``names`` (everything without), asked for as Prometheus would."""
    response = requests.get(coordinator.http_url + "/metrics", params=[("name[]", n) for n in names],
                            headers={"X-Trino-User": "test"}, timeout=20)  # fmt: skip
    assert response.status_code == 200 and response.text.endswith("# EOF\n")
    return parse(response.text, "fixture")


def scrape_cli(config: Path, target: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = main(["scrape", "--source", "passthrough", "--config", str(config), "--target", target, *extra])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.jvm
def test_the_filtered_answer_is_what_trino_serves_for_those_names(
    trino483_coordinator: FixtureCoordinator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_file(tmp_path, NAMES)
    expected = fixture_answer(trino483_coordinator, NAMES)
    assert len(expected) == 11  # with the four ExecutionTime windows and the four HeapMemoryUsage items
    code, out, err = scrape_cli(config, trino483_coordinator.http_url, capsys, "--openmetrics")
    assert (code, err) == (ExitCode.OK, "")
    theirs, own = split(out)
    assert shape(theirs) == shape(expected)
    assert own["presto_jmx_exporter_passthrough_families"].samples[0].value == 11
    assert own["jmx_scrape_error"].samples[0].value == 0 and out.endswith("\n# EOF\n")
    code, text, _ = scrape_cli(config, trino483_coordinator.http_url, capsys)
    theirs, own = split(text)  # the Prometheus text format: the same families
    assert code == ExitCode.OK and shape(theirs) == shape(expected)
    assert own["presto_jmx_exporter_target_up"].samples[0].value == 1


@pytest.mark.jvm
@needs_promtool
def test_promtool_takes_the_pass_through(
    trino483_coordinator: FixtureCoordinator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text, _ = scrape_cli(config_file(tmp_path, ["*"]), trino483_coordinator.http_url, capsys)
    assert code == ExitCode.OK and text.count("# TYPE ") > 200
    complaints = lint_metrics(text)  # a format error fails here
    # Only about the names Trino gives: camelCase, counters without _total, no HELP where airlift has none.
    assert complaints and all(not line.startswith(OWN) for line in complaints), complaints
    assert {line.split(" ", 1)[1] for line in complaints} <= {
        "metric names should be written in 'snake_case' not 'camelCase'", 'counter metrics should have "_total" suffix',
        "no help text", "non-histogram and non-summary metrics should not have \"_count\" suffix",
        "non-counter metrics should not have \"_total\" suffix"}  # fmt: skip


@pytest.mark.jvm
def test_a_pattern_picks_from_the_whole_answer(
    trino483_coordinator: FixtureCoordinator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_file(tmp_path, ["trino_memory_*", RUNNING, EXECUTION_TIME])
    code, out, _ = scrape_cli(config, trino483_coordinator.http_url, capsys, "--openmetrics")
    everything = fixture_answer(trino483_coordinator)
    picked = [f for f in everything if f.name.startswith(("trino_memory_", RUNNING, EXECUTION_TIME + "_"))]
    assert code == ExitCode.OK and len(picked) > 12
    assert shape(split(out)[0]) == shape(picked)


@pytest.mark.jvm
def test_the_user_header_is_sent_and_a_401_says_what_fixes_it(
    coordinator_factory: Callable[..., FixtureCoordinator], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_file(tmp_path, [RUNNING])
    plain = coordinator_factory("trino483", require_user=True)  # 401 without X-Trino-User or a Basic user
    code, out, err = scrape_cli(config, plain.http_url, capsys, "--openmetrics")
    assert (code, err) == (ExitCode.OK, "") and [f.name for f in split(out)[0]] == [RUNNING]
    guarded = coordinator_factory("trino483", basic_auth=("admin", "pw"))
    (tmp_path / "password").write_text("wrong\n")
    code, out, err = scrape_cli(config, guarded.http_url, capsys, "--user", "admin", "--password-file",
                                str(tmp_path / "password"))  # fmt: skip
    assert code == ExitCode.FAILED
    assert err.splitlines()[-1] == (
        f"presto-jmx-exporter: scrape failed: {guarded.http_url}/metrics: HTTP 401 (the server wants credentials: "
        "--user with --password-file, or --bearer-token-file; PrestoSQL reads the user from X-Presto-User: "
        "--user-header X-Presto-User): Access Denied: Invalid credentials"
    )
    assert parse_exposition(out)[("jmx_scrape_error", ())] == 1.0
    (tmp_path / "password").write_text("pw\n")
    code, out, _ = scrape_cli(config, guarded.http_url, capsys, "--user", "admin", "--password-file",
                              str(tmp_path / "password"))  # fmt: skip
    assert code == ExitCode.OK and (RUNNING, ()) in parse_exposition(out)


@pytest.mark.jvm
def test_serve_re_serves_it_per_accept_gzipped_and_through_probe(
    trino483_coordinator: FixtureCoordinator, tmp_path: Path
) -> None:
    config = config_file(tmp_path, NAMES)
    expected = shape(fixture_answer(trino483_coordinator, NAMES))
    with serving(config, trino483_coordinator.http_url, "--source", "passthrough", "--probe-allow", "127.0.0.1",
                 scrape_timeout=20.0) as server:  # fmt: skip
        answer = server.get("/metrics", headers={"Accept": OPENMETRICS, "Accept-Encoding": "gzip"}, stream=True)
        raw = answer.raw.read()
        assert answer.headers["Content-Type"] == OPENMETRICS and answer.headers["Content-Encoding"] == "gzip"
        assert shape(split(gzip.decompress(raw).decode())[0]) == expected
        text = server.get("/metrics").text
        assert (RUNNING, ()) in parse_exposition(text) and "# EOF" not in text
        probed = server.get("/probe", params={"target": trino483_coordinator.http_url},
                            headers={"Accept": OPENMETRICS})  # fmt: skip
        assert probed.status_code == 200, probed.text
        assert shape(split(probed.text)[0]) == expected
        landing = server.get("/").text
    assert f"<code>{trino483_coordinator.http_url}/metrics</code>" in landing


# ---------------------------------------------------------------------------------------------- canned answers


def test_it_sends_what_the_http_sources_send(tmp_path: Path) -> None:
    with CannedServer(lambda path: Reply(body=AIRLIFT.encode(), headers={"Content-Type": OPENMETRICS})) as server:
        for settings in (HttpSettings(), HttpSettings(user="ops"), HttpSettings(bearer_token_file=_token(tmp_path))):
            source = NativeSource(server.url, settings)
            snapshot = source.fetch_families(FamilyRequest((RUNNING, FAILED)), time.monotonic() + 5)
            source.close()
            assert [f.name for f in snapshot.families] == [f.name for f in parse(AIRLIFT, "t")]
    default, user, token = (seen.headers for seen in server.seen)
    assert default["x-trino-user"] == "presto-jmx-exporter" and user["x-trino-user"] == "ops"
    assert token["authorization"] == "Bearer eyJ.token" and "x-trino-user" not in token
    assert parse_qs(urlsplit(server.seen[0].path).query) == {"name[]": [RUNNING, FAILED]}


def _token(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text("eyJ.token\n")
    return path


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            Reply(404, b"Not Found"),
            "HTTP 404: this server has no /metrics: Trino serves it (airlift's OpenMetrics), "
            "prestodb and PrestoSQL do not; read those with --source rest",
        ),
        (
            Reply(403, b"Access Denied: Cannot read system information"),
            "HTTP 403 (the user lacks permission to read "
            "system information: grant it, or --user one that has it): Access Denied: Cannot read system information",
        ),
        (
            Reply(body=b"<html><body>Bad Gateway</body></html>"),
            "line 1 is not OpenMetrics text: '<html><body>Bad Gateway</body></html>'",
        ),
        (
            Reply(body=AIRLIFT.replace("# EOF\n", "").encode()),
            "HTTP 200, but not OpenMetrics (no # EOF line): cut short, or not Trino's /metrics (a proxy's answer?)",
        ),
    ],
    ids=["404", "403", "html", "no-eof"],
)
def test_failures_point_the_way(reply: Reply, message: str) -> None:
    with CannedServer(lambda path: reply) as server:
        source = NativeSource(server.url)
        with pytest.raises(SourceError) as caught:
            source.fetch_families(FamilyRequest(None), time.monotonic() + 5)
        source.close()
    assert str(caught.value) == f"{server.url}/metrics: {message}"


def test_many_names_are_asked_for_in_several_requests_each_family_once() -> None:
    names = [f"{RUNNING}{i:04d}" for i in range(400)] + [RUNNING]
    with CannedServer(lambda path: Reply(body=AIRLIFT.encode())) as server:
        source = NativeSource(server.url)
        snapshot = source.fetch_families(FamilyRequest(tuple(names)), time.monotonic() + 5)
        source.close()
    assert snapshot.requests == len(server.seen) > 1
    assert [f.name for f in snapshot.families] == [f.name for f in parse(AIRLIFT, "t")]  # every answer has all


# ---------------------------------------------------------------------------------------------- the command line


def test_the_command_line_says_what_the_mode_needs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text("rules:\n  - pattern: '.*'\n")
    assert main(["scrape", "--source", "passthrough", "--config", str(rules), "--target", "http://127.0.0.1:9"]) == 2
    assert capsys.readouterr().err == (
        "presto-jmx-exporter: error: --source passthrough re-serves the families the config's passthrough.names "
        f"lists, and {rules} has no passthrough key (passthrough: {{names: ['*']}} for every family; "
        "docs/configuration.md#passthrough)\n"
    )
    assert main(["explain", "--source", "passthrough", "--config", str(rules), "--target", "http://127.0.0.1:9"]) == 2
    assert "--source passthrough re-serves Trino's /metrics without rules, for serve and scrape only; this command " \
           "reads MBeans: use --source native (or auto)" in capsys.readouterr().err  # fmt: skip
    config = config_file(tmp_path, [RUNNING])
    assert main(["scrape", "--source", "passthrough", "--config", str(config), "--target", str(rules)]) == 2
    assert f"--source passthrough reads Trino's /metrics over http(s); {str(rules)!r} is not an http(s) URL" in \
        capsys.readouterr().err  # fmt: skip


def test_what_the_other_mode_reads_is_said_to_be_unused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    both = config_file(tmp_path, [RUNNING], extra="rules:\n  - pattern: '.*'\n")
    dump = Path(__file__).resolve().parents[1] / "examples" / "dumps" / "trino483-coordinator.json"
    assert main(["scrape", "--config", str(both), "--target", str(dump)]) == ExitCode.OK
    assert capsys.readouterr().err.endswith(
        f"WARNING exporter.commands.common: {both}: passthrough.names is read only with --source passthrough (this "
        "run reads --source auto, through the rules)\n"
    )
    code = main(["scrape", "--source", "passthrough", "--config", str(both), "--target", "http://127.0.0.1:9",
                 "--connect-timeout", "0.5"])  # fmt: skip
    first, second = capsys.readouterr().err.splitlines()
    assert code == ExitCode.FAILED
    assert first.endswith(
        f"WARNING exporter.commands.common: {both}: its rules and MBean filters are not applied "
        "with --source passthrough, which re-serves the target's own families as they are"
    )
    assert second.startswith("presto-jmx-exporter: scrape failed: http://127.0.0.1:9/metrics: ")


def test_help_explains_the_mode(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "passthrough (serve and scrape only: Trino's /metrics re-served as Trino writes it" in text
    assert "the config's passthrough.names picks the families" in text


def test_serve_refuses_a_probe_module_without_passthrough_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text("rules: []\n")
    code = main(["serve", "--source", "passthrough", "--config", str(config_file(tmp_path, [RUNNING])), "--target",
                 "http://127.0.0.1:9", "--listen", "127.0.0.1:0", "--module", f"rules={rules}"])  # fmt: skip
    assert code == ExitCode.USAGE
    assert capsys.readouterr().err.endswith(
        f"error: --module rules: --source passthrough re-serves the families the config's passthrough.names lists, "
        f"and {rules} has no passthrough key (passthrough: {{names: ['*']}} for every family; "
        "docs/configuration.md#passthrough)\n"
    )
