"""Property tests (Hypothesis): arbitrary bytes, arbitrary JSON and arbitrary airlift-shaped MBean JSON through the
parser, and arbitrary valid rule sets through the engine and the renderer, on the real scrape path (a dump file read
by ``DumpSource``, a ``ConfigWatcher`` over a config file, a ``Scraper``).

Whatever the input: nothing raises (the scrape reports a SourceError at most, never an internal error), both
renderings parse with prometheus_client's parsers (text 0.0.4 and OpenMetrics), and no series appears twice.
Example counts stay modest: CI has two cores.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from exporter.config.loader import parse_config
from exporter.config.model import ConfigError
from exporter.scrape.scraper import Scraper, ScrapeResult
from exporter.scrape.watcher import ConfigWatcher
from exporter.sources import airlift
from exporter.sources.base import SourceError
from exporter.sources.dump import DumpSource
from tests.fixture.make_dumps import fixture_beans_path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# A few real beans, so generated patterns also meet Presto-shaped match strings, and the fixture's typed beans
# (CompositeData, TabularData, a quoted name), which only the test-only dump has.
REAL_BEANS = [
    bean
    for path in (ROOT / "examples" / "dumps" / "trino-coordinator.json", fixture_beans_path("trino"))
    for bean in orjson.loads(path.read_bytes())
    if bean["objectName"] in {
        "trino.memory:type=ClusterMemoryPool,name=general",
        "trino.memory:name=ClusterMemoryManager",
        "trino.fixture:type=OpenTypes,name=Samples",
        'trino.fixture:type=Quoted,name="odd,name=x"',
        "trino.execution:name=ClusterSizeMonitor",
    }
]
assert len(REAL_BEANS) == 5, "a sample bean is missing: python -m tests.fixture.make_dumps"
SELF_PREFIX = "# HELP jmx_scrape_duration_seconds "


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("properties")


_names = itertools.count()


def _write(directory: Path, suffix: str, data: bytes) -> Path:
    path = directory / f"{next(_names)}{suffix}"
    path.write_bytes(data)
    return path


def scrape(directory: Path, config_text: str, dump: bytes) -> ScrapeResult:
    """One scrape of ``dump`` (bytes of a dump file) with ``config_text``, through the real objects."""
    config = _write(directory, ".yml", config_text.encode())
    source = DumpSource(_write(directory, ".json", dump))
    scraper = Scraper(ConfigWatcher(config), source, timeout=30.0)
    try:
        return scraper.scrape()
    finally:
        source.close()


def check_exposition(result: ScrapeResult) -> None:
    """Never an internal error; both formats parse; every line is a comment or a sample; no series twice."""
    assert result.error is None or not result.error.startswith("internal error"), result.error
    text = result.body().decode("utf-8")
    assert text.endswith("\n")
    families = list(parse_text(text))
    names = [family.name for family in families]
    assert len(names) == len(set(names)), "a family appears twice"
    series = [(s.name, tuple(sorted(s.labels.items()))) for family in families for s in family.samples]
    assert len(series) == len(set(series)), "a series appears twice"
    assert sum(1 for line in text.splitlines() if not line.startswith("#")) == len(series)
    for line in text.splitlines():
        assert line.startswith(("# HELP ", "# TYPE ")) or re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*[{ ]", line), line
    openmetrics = result.body(openmetrics=True).decode("utf-8")
    assert openmetrics.endswith("# EOF\n")
    parsed = parse_openmetrics(openmetrics)
    om_series = [(s.name, tuple(sorted(s.labels.items()))) for family in parsed for s in family.samples]
    # OpenMetrics forbids a negative or NaN counter: exactly those samples are left out there.
    invalid = _counters_below_zero_or_nan(families)
    assert sorted(om_series) == sorted(set(series) - invalid)
    gauge = next(f for f in families if f.name == "presto_jmx_exporter_openmetrics_omitted_samples")
    assert gauge.samples[0].value == len(invalid)


def _counters_below_zero_or_nan(families: list[Any]) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    return {
        (sample.name, tuple(sorted(sample.labels.items())))
        for family in families
        if family.type == "counter"
        for sample in family.samples
        if math.isnan(sample.value) or sample.value < 0
    }


# ---------------------------------------------------------------------------------------------------------------
# Strategies: MBean JSON


JAVA_TYPES = [
    "long", "int", "short", "byte", "double", "float", "boolean", "java.lang.String", "java.lang.Long",
    "java.lang.Integer", "java.lang.Double", "java.lang.Boolean", "java.util.Map", "[Ljava.lang.String;", "[J",
    "javax.management.openmbean.CompositeData", "javax.management.openmbean.TabularData", "java.util.Date",
    "java.util.concurrent.TimeUnit", "javax.management.ObjectName", "java.lang.Object", "",
]
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
    st.sampled_from(["NaN", "Infinity", "-Infinity", "2024-01-02T03:04:05.678Z", "MILLISECONDS", "1.5", "true"]),
)
JSON = st.recursive(
    JSON_LEAF, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12
)
DOMAIN = st.one_of(
    st.sampled_from(["trino.memory", "trino.execution", "java.lang", "io.airlift.stats", "jmx", "a"]),
    st.text(alphabet="abcxyz.-_ é٣$<>", min_size=1, max_size=12),
)
KEY = st.one_of(
    st.sampled_from(["type", "name", "rule", "value"]), st.text(alphabet="abkXY_.-0 é", min_size=1, max_size=6)
)
VALUE = st.one_of(
    st.sampled_from(["general", "QueryManager", "ClusterMemoryPool", "G1 Old Gen"]),
    st.text(alphabet="abXY09 _-.é<>/\\$|()[]{}+", min_size=1, max_size=10),
    st.text(alphabet="ab ,=:*?", max_size=6).map(lambda body: f'"{body}"'),
)


@st.composite
def object_names(draw: st.DrawFn) -> str:
    keys = draw(st.lists(KEY, min_size=1, max_size=4, unique=True))
    return draw(DOMAIN) + ":" + ",".join(f"{key}={draw(VALUE)}" for key in keys)


ATTRIBUTE = st.fixed_dictionaries(
    {"name": st.one_of(st.sampled_from(["Count", "FreeBytes", "OneMinute.Rate", "P99"]), TEXT)},
    optional={
        "type": st.sampled_from(JAVA_TYPES),
        "value": JSON,
        "readable": st.booleans(),
        "writable": st.booleans(),
        "description": TEXT,
    },
)
BEAN = st.fixed_dictionaries(
    {"objectName": st.one_of(object_names(), object_names(), TEXT)},
    optional={"className": TEXT, "description": TEXT, "attributes": st.lists(ATTRIBUTE, max_size=6),
              "operations": st.just([])},
)
BEAN_LISTS = st.lists(BEAN, max_size=6)


def dump_bytes(document: Any) -> bytes:
    """The document as a dump file; what orjson cannot write (lone surrogates, huge ints) no server sends either."""
    try:
        return orjson.dumps(document)
    except orjson.JSONEncodeError:
        assume(False)
        raise


# ---------------------------------------------------------------------------------------------------------------
# The parser alone


@settings(SETTINGS, max_examples=60)
@given(st.binary(max_size=200) | TEXT.map(str.encode))
def test_junk_bytes_are_a_source_error_at_most(data: bytes) -> None:
    try:
        airlift.parse_bean_list(airlift.loads(data, "junk"), "junk")
    except SourceError as exc:
        assert str(exc).startswith("junk")


@settings(SETTINGS, max_examples=60)
@given(JSON)
def test_any_json_is_beans_or_a_source_error(document: Any) -> None:
    try:
        beans, problems = airlift.parse_bean_list(document, "doc")
    except SourceError:
        return
    assert isinstance(document, list)
    assert len(beans) + len(problems) == len(document)


# ---------------------------------------------------------------------------------------------------------------
# MBean JSON through fixed rule sets, on the scrape path


FIXED_CONFIGS = {
    "implicit-default": "{}\n",
    "groups-to-labels": r"""
rules:
  - pattern: '([^<]*)<([^=,>]+)=([^,>]*)[^>]*><([^>]*)>([^:]*): (.*)'
    name: 'x_$1_$5'
    labels: {'$2': '$3', keys: '$4', whole: '$6'}
    help: 'from $1 \$ "quoted" \\ back'
    type: COUNTER
""",
    "value-from-the-string": r"""
lowercaseOutputName: true
lowercaseOutputLabelNames: true
rules:
  - pattern: '(.*)<(.*)><(.*)>(.*): (.*)'
    name: '$1_$4'
    value: '$5'
    valueFactor: -0.001
    attrNameSnakeCase: true
    labels: {'$2': x}
  - pattern: '.*'
""",
    "cached": """
inferCounterTypeFromName: true
excludeObjectNames: ['java.lang:*']
rules:
  - pattern: '(.*)<type=(\\w+)(.*)><>(\\w+)'
    name: '$1_$2_total'
    cache: true
  - pattern: '(.*)'
    name: 'all'
    labels: {m: '$1'}
    type: UNTYPED
""",
}


@pytest.mark.parametrize("config", FIXED_CONFIGS.values(), ids=FIXED_CONFIGS.keys())
@settings(SETTINGS, max_examples=40)
@given(beans=BEAN_LISTS, real=st.booleans())
def test_any_mbean_json_scrapes_to_valid_exposition(workdir: Path, config: str, beans: list[Any], real: bool) -> None:
    result = scrape(workdir, config, dump_bytes(beans + (REAL_BEANS if real else [])))
    check_exposition(result)
    if real:
        assert result.error is None


# ---------------------------------------------------------------------------------------------------------------
# Arbitrary valid rule sets


# (piece, capturing groups it adds); "{name}" becomes a fresh group name.
PATTERN_PIECES = [
    ("(.*)", 1), ("(\\w+)", 1), ("([^<>=,]+)", 1), ("(.+?)", 1), ("(\\d+)", 1), ("(?<{name}>\\w*)", 1),
    ("(?:type|name)", 0), ("<", 0), (">", 0), ("<>", 0), ("type=", 0), ("name=", 0), (", ", 0), (": ", 0),
    ("\\.", 0), ("trino", 0), ("memory", 0), ("Pool", 0), ("[A-Z]", 0), ("\\p{Lu}", 0), ("x*+", 0), ("\\Q.*\\E", 0),
    ("é", 0), ("|", 0),
]
LITERALS = ["x", "_", "é", "-", " ", ":", "\\$", "Q", "0", "9", "__", "\\\\"]
TYPES = ["GAUGE", "COUNTER", "UNTYPED"]
OBJECT_NAME_PATTERNS = ["trino.memory:*", "*:type=*,*", "trino.*:*", "java.lang:type=Memory", "*:*"]


@st.composite
def templates(draw: st.DrawFn, groups: int, names: list[str], min_size: int = 0) -> str:
    refs = [f"${i}" for i in range(groups + 1)] + [f"${{{name}}}" for name in names]
    return "".join(draw(st.lists(st.sampled_from(LITERALS + refs), min_size=min_size, max_size=5)))


@st.composite
def rules(draw: st.DrawFn) -> dict[str, Any]:
    rule: dict[str, Any] = {}
    if draw(st.booleans()) or draw(st.booleans()):
        groups, names, parts = 0, [], []
        for piece, adds in draw(st.lists(st.sampled_from(PATTERN_PIECES), min_size=1, max_size=6)):
            if "{name}" in piece:
                names.append(f"g{len(names)}")
                piece = piece.replace("{name}", names[-1])
            parts.append(piece)
            groups += adds
        rule["pattern"] = "".join(parts)
        if draw(st.booleans()):
            rule["name"] = draw(templates(groups, names, min_size=1))
            if draw(st.booleans()):
                labels = st.dictionaries(templates(groups, names, 1), templates(groups, names), max_size=3)
                rule["labels"] = draw(labels)
            if draw(st.booleans()):
                rule["help"] = draw(templates(groups, names)) + ' "help" \\\\ \n line'
        if draw(st.booleans()):
            rule["value"] = draw(st.sampled_from(["1.5", "-2", "1e300", *[f"${i}" for i in range(1, groups + 1)]]))
    if draw(st.booleans()):
        rule["valueFactor"] = draw(st.floats(allow_nan=False, allow_infinity=False, width=32))
    if draw(st.booleans()):
        rule["type"] = draw(st.sampled_from(TYPES))
    for flag in ("attrNameSnakeCase", "cache"):
        if draw(st.booleans()):
            rule[flag] = draw(st.booleans())
    return rule


@st.composite
def configs(draw: st.DrawFn) -> str:
    config: dict[str, Any] = {}
    for flag in ("lowercaseOutputName", "lowercaseOutputLabelNames", "inferCounterTypeFromName", "excludeJvmMetrics"):
        if draw(st.booleans()):
            config[flag] = draw(st.booleans())
    if draw(st.booleans()):
        config["includeObjectNames"] = draw(st.lists(st.sampled_from(OBJECT_NAME_PATTERNS), min_size=1, max_size=2))
    if draw(st.booleans()):
        config["excludeObjectNames"] = draw(st.lists(st.sampled_from(OBJECT_NAME_PATTERNS), max_size=1))
    if draw(st.integers(0, 9)):
        config["rules"] = draw(st.lists(rules(), max_size=4))
    return yaml.safe_dump(config, allow_unicode=True)


@settings(SETTINGS, max_examples=120)
@given(config=configs(), beans=st.lists(BEAN, max_size=3))
def test_any_valid_rule_set_scrapes_to_valid_exposition(workdir: Path, config: str, beans: list[Any]) -> None:
    try:
        parse_config(config, "generated.yml")
    except ConfigError as exc:  # the generator only builds valid configs: a refusal is a loader bug
        raise AssertionError(f"a valid config was refused: {exc}\n{config}") from None
    result = scrape(workdir, config, dump_bytes(REAL_BEANS + beans))
    check_exposition(result)
    assert result.error is None


@settings(SETTINGS, max_examples=40)
@given(config=configs(), first=st.lists(BEAN, max_size=3), second=st.lists(BEAN, max_size=3), ticks=st.integers(0, 3))
def test_a_scrape_after_others_equals_a_first_scrape(
    workdir: Path, config: str, first: list[Any], second: list[Any], ticks: int
) -> None:
    """State kept between scrapes (rule cache, verdict memo, reused layout) never changes what a scrape says."""
    path = _write(workdir, ".json", dump_bytes(REAL_BEANS + first))
    config_path = _write(workdir, ".yml", config.encode())
    kept = Scraper(ConfigWatcher(config_path), DumpSource(path), timeout=30.0, discovery_interval=0.0)
    kept.scrape()
    later = REAL_BEANS + second
    for tick in range(ticks + 1):
        later = [_tick(bean, tick) for bean in later]
        path.write_bytes(dump_bytes(later))
        stamp = path.stat().st_mtime_ns + (tick + 1) * 10**9  # file times are coarse: make every rewrite visible
        os.utime(path, ns=(stamp, stamp))
        again = kept.scrape()
    fresh = scrape(workdir, config, dump_bytes(later))
    assert _beans_part(again) == _beans_part(fresh)


def _tick(bean: dict[str, Any], step: int) -> dict[str, Any]:
    """The bean with its numbers changed, as between two scrapes of a live coordinator."""
    attributes = []
    for attribute in bean.get("attributes", []):
        value = attribute.get("value")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < 2**52:
            attribute = {**attribute, "value": value + step + 1}
        attributes.append(attribute)
    return {**bean, "attributes": attributes} if "attributes" in bean else bean


def _beans_part(result: ScrapeResult) -> str:
    text = result.body().decode("utf-8")
    return text[: text.index(SELF_PREFIX)]


# ---------------------------------------------------------------------------------------------------------------
# What the properties found


def _one_bean(attribute: dict[str, Any]) -> bytes:
    return orjson.dumps([{"objectName": "trino.test:name=Counters", "attributes": [attribute]}])


@pytest.mark.parametrize("number", [-1, "NaN"], ids=["negative", "nan"])
def test_a_negative_or_nan_counter_is_left_out_of_openmetrics_only(
    workdir: Path, number: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="exporter.scrape.scraper")
    config = "rules:\n  - pattern: 'trino.test<name=Counters><>(\\w+)'\n    name: c_$1\n    type: COUNTER\n"
    bean = {"objectName": "trino.test:name=Counters", "attributes": [
        {"name": "Failures", "type": "double", "value": number},
        {"name": "Successes", "type": "double", "value": 4},
    ]}
    result = scrape(workdir, config, orjson.dumps([bean]))
    text = result.body().decode("utf-8")
    assert re.search(r"^c_Failures_total (-1\.0|NaN)$", text, re.M)  # the text format allows it, as 1.x writes it
    openmetrics = result.body(openmetrics=True).decode("utf-8")
    families = {f.name: f for f in parse_openmetrics(openmetrics)}
    assert "c_Failures_total" not in openmetrics
    assert "# TYPE c_Failures counter" in openmetrics  # the family stays, with no sample
    assert [s.value for s in families["c_Successes"].samples] == [4.0]
    assert families["presto_jmx_exporter_openmetrics_omitted_samples"].samples[0].value == 1.0
    check_exposition(result)
    assert any("COUNTER sample(s) are negative or NaN, first in c_Failures" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("name", ["jmx_scrape_error", "jmx_scrape_duration_seconds", "presto_jmx_exporter_target_up"])
def test_a_rule_named_like_a_self_metric_does_not_duplicate_it(workdir: Path, name: str) -> None:
    config = f"rules:\n  - pattern: 'trino.test<name=Counters><>(\\w+)'\n    name: {name}\n"
    result = scrape(workdir, config, _one_bean({"name": "Failures", "type": "long", "value": 7}))
    check_exposition(result)
    assert result.body().decode("utf-8").count(f"# TYPE {name} ") == 1
