"""jmx_exporter 1.6 parity through the scrape path: ``scrapeTimeoutSeconds``, ``metricCustomizers`` over the dump
and REST sources (the JMX source: tests/test_jmx_source.py), rules that fail the scrape as jmx_exporter's do, and the
warnings of a file it loads. The rule engine's own rows are in tests/test_rules.py, the loader's in test_config.py.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import unquote

import orjson
import pytest

from exporter.cli import build_parser, main
from exporter.commands.common import build_scraper
from exporter.commands.exitcodes import ExitCode
from exporter.scrape.scraper import Scraper
from exporter.scrape.watcher import ConfigWatcher
from exporter.sources.dump import DumpSource
from exporter.sources.rest.settings import HttpSettings
from exporter.sources.rest.source import RestSource
from tests.helpers.canned_server import CannedServer, Reply
from tests.helpers.customizers import ATTRIBUTES_AS_LABELS, EXTRA_METRICS
from tests.helpers.serving import parse

MANAGED = "Attribute exposed for management"
# jmx_exporter's example application's beans, as a /v1/jmx/mbean answer.
EXAMPLE_BEANS = [
    {"objectName": "io.prometheus.jmx:type=customValue", "attributes": [
        {"name": "Text", "type": "java.lang.String", "value": "value", "description": MANAGED},
        {"name": "Value", "type": "java.lang.Integer", "value": 345, "description": MANAGED},
    ]},
    {"objectName": "io.prometheus.jmx:type=stringValue", "attributes": [
        {"name": "Text", "type": "java.lang.String", "value": "value", "description": MANAGED},
    ]},
]  # fmt: skip


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def scrape_body(scraper: Scraper) -> str:
    result = scraper.scrape()
    return result.body().decode("utf-8")


# ---------------------------------------------------------------------------------------------------------------
# metricCustomizers: jmx_exporter's integration tests over a dump file, with HELP and TYPE


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (ATTRIBUTES_AS_LABELS, [  # MetricCustomizersTest
            "# HELP io_prometheus_jmx_customValue_Value Attribute exposed for management "
            "io.prometheus.jmx:name=null,type=customValue,attribute=Value",
            "# TYPE io_prometheus_jmx_customValue_Value untyped",
            'io_prometheus_jmx_customValue_Value{Text="value"} 345.0',
        ]),
        (EXTRA_METRICS, [  # MetricCustomizersAttributesAsLabelsExtraMetricsTest
            "# HELP io_prometheus_jmx_stringValue_isActive This is a boolean value indicating if the scenario is "
            "still active or is completed. io.prometheus.jmx:name=null,type=stringValue,attribute=isActive",
            "# TYPE io_prometheus_jmx_stringValue_isActive untyped",
            'io_prometheus_jmx_stringValue_isActive{Text="value"} 1.0',
        ]),
    ],
    ids=["attributes-as-labels", "attributes-as-labels-and-extra-metrics"],
)
def test_metric_customizers_give_jmx_exporters_series(
    config: str, expected: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dump = write(tmp_path, "dump.json", orjson.dumps(EXAMPLE_BEANS).decode())
    code = main(["scrape", "--config", str(write(tmp_path, "c.yml", config)), "--target", str(dump)])
    out = capsys.readouterr().out
    assert code == ExitCode.OK
    rules_part = out.split("# HELP jmx_scrape_duration_seconds")[0].strip().splitlines()
    assert rules_part == expected


def test_a_changed_label_attribute_gives_the_new_label_while_the_bean_is_fetched_by_name(tmp_path: Path) -> None:
    # The rules name one bean's numbers: between discoveries the planner asks the coordinator for that bean alone,
    # and its attribute label must follow the attribute's value all the same.
    state = {"value": "STARTING"}

    def pool() -> dict[str, object]:
        return {"objectName": "a:type=Pool,name=main", "attributes": [
            {"name": "ActiveCount", "type": "long", "value": 1},
            {"name": "State", "type": "java.lang.String", "value": state["value"]},
        ]}  # fmt: skip

    noise = [{"objectName": f"b:type=Noise,name=n{i}",
              "attributes": [{"name": f"A{j}", "type": "long", "value": j} for j in range(20)]} for i in range(4)]

    def answer(path: str) -> Reply:
        if path == "/v1/jmx/mbean":
            return Reply(body=orjson.dumps([pool(), *noise]), headers={"Content-Type": "application/json"})
        assert unquote(path) == "/v1/jmx/mbean/a:type=Pool,name=main"
        return Reply(body=orjson.dumps(pool()), headers={"Content-Type": "application/json"})

    config = write(tmp_path, "c.yml", r"""
metricCustomizers: [{mbeanFilter: {domain: a}, attributesAsLabels: [State]}]
rules: [{pattern: 'a<type=Pool, name=(\w+)><>ActiveCount', name: pool_active, labels: {pool: $1}}]
""")
    with CannedServer(answer) as server:
        source = RestSource(server.url, HttpSettings())
        scraper = Scraper(ConfigWatcher(config), source, timeout=10.0)
        try:
            seen = []
            for value in ("STARTING", "STARTING", "ACTIVE", "STOPPING"):
                state["value"] = value
                series = parse(scrape_body(scraper))
                seen.append(next(dict(labels)["State"] for name, labels in series if name == "pool_active"))
        finally:
            source.close()
    assert seen == ["STARTING", "STARTING", "ACTIVE", "STOPPING"]
    assert scraper.planner.named == ("a:type=Pool,name=main",)
    assert [s.path for s in server.seen][1:] == ["/v1/jmx/mbean/a%3Atype%3DPool%2Cname%3Dmain"] * 3


# ---------------------------------------------------------------------------------------------------------------
# Rules that jmx_exporter loads but cannot apply


def test_a_rule_that_cannot_be_applied_fails_the_scrape_and_says_which(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    other = {"objectName": "a:type=T", "attributes": [{"name": "Count", "type": "long", "value": 1}]}
    dump = write(tmp_path, "dump.json", orjson.dumps([*EXAMPLE_BEANS, other]).decode())
    config = write(tmp_path, "c.yml", r"""
rules:
- pattern: 'customValue><>Value'
  name: bad_$2
- pattern: '.*'
""")
    scraper = Scraper(ConfigWatcher(config), DumpSource(dump), timeout=10.0)
    with caplog.at_level(logging.ERROR, logger="exporter.scrape.scraper"):
        result = scraper.scrape()
    series = parse(result.body().decode())
    assert series[("jmx_scrape_error", ())] == 1.0
    assert series[("a_T_Count", ())] == 1.0  # what the other rules make is kept
    assert not any(name.startswith("bad") for name, _ in series)
    assert result.error == (
        "a rule could not be applied: rules[0].name (line 4): bad replacement 'bad_$2': no group 2 (the pattern has "
        "0 capturing groups), applied to io.prometheus.jmx:type=customValue Value"
    )
    assert result.error in caplog.text


# ---------------------------------------------------------------------------------------------------------------
# scrapeTimeoutSeconds (jmx_exporter's next release)


def test_scrape_timeout_seconds_bounds_the_scrape_unless_the_command_line_sets_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dump = write(tmp_path, "dump.json", orjson.dumps(EXAMPLE_BEANS).decode())
    config = write(tmp_path, "c.yml", "scrapeTimeoutSeconds: 3\n")
    monkeypatch.delenv("PJE_SCRAPE_TIMEOUT", raising=False)

    def timeout(*extra: str) -> float:
        args = build_parser().parse_args(["scrape", "--config", str(config), "--target", str(dump), *extra])
        scraper = build_scraper(args)
        scraper.source.close()
        return scraper.timeout

    assert timeout() == 3.0
    assert timeout("--scrape-timeout", "5") == 5.0
    assert timeout("--scrape-timeout", "8") == 8.0  # the default, given: it wins too
    monkeypatch.setenv("PJE_SCRAPE_TIMEOUT", "6")
    assert timeout() == 6.0
    monkeypatch.delenv("PJE_SCRAPE_TIMEOUT")
    config.write_text("{}\n")
    assert timeout() == 8.0


def test_a_reloaded_scrape_timeout_seconds_applies_from_the_next_scrape(tmp_path: Path) -> None:
    dump = write(tmp_path, "dump.json", orjson.dumps(EXAMPLE_BEANS).decode())
    config = write(tmp_path, "c.yml", "scrapeTimeoutSeconds: 3\n")
    watcher = ConfigWatcher(config)
    scraper = Scraper(watcher, DumpSource(dump), timeout=None)
    assert scraper.timeout == 3.0
    config.write_text("scrapeTimeoutSeconds: 30\n# a longer file\n")
    watcher.refresh()
    assert watcher.reload_success == 1 and scraper.timeout == 30.0
    assert scraper.scrape().error is None
    assert Scraper(watcher, DumpSource(dump), timeout=2.0).timeout == 2.0


# ---------------------------------------------------------------------------------------------------------------
# Warnings of a file jmx_exporter loads


def test_the_warnings_of_a_file_that_loads_are_logged_once_at_start_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dump = write(tmp_path, "dump.json", orjson.dumps(EXAMPLE_BEANS).decode())
    config = write(tmp_path, "c.yml", "includeObjectNames: []\nrules: [{pattern: '.*', name: x, value: one}]\n")
    code = main(["scrape", "--config", str(config), "--target", str(dump)])
    assert code == ExitCode.OK
    out, err = capsys.readouterr()
    warnings = [line.split(": ", 1)[1] for line in err.splitlines() if " WARNING exporter.commands.common: " in line]
    assert warnings == [
        f"{config}:1: includeObjectNames: an empty list selects no MBean, so nothing is exported (as in "
        "jmx_exporter); leave the key out for every MBean",
        f"{config}:2: rules[0].value: 'one' is not a number and refers to no group: every attribute the rule "
        "matches is dropped, as in jmx_exporter",
    ]
    assert "jmx_scrape_error 0.0" in out
    assert "includeObjectNames is an empty list, which selects no MBean" in err


def test_an_empty_file_exports_every_bean_in_the_default_format(tmp_path: Path) -> None:
    dump = write(tmp_path, "dump.json", orjson.dumps(EXAMPLE_BEANS).decode())
    scraper = Scraper(ConfigWatcher(write(tmp_path, "c.yml", "---\n")), DumpSource(dump), timeout=10.0)
    series = parse(scrape_body(scraper))
    assert series[("io_prometheus_jmx_customValue_Value", ())] == 345.0
    assert series[("jmx_scrape_error", ())] == 0.0
