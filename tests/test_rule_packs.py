"""The shipped rule packs over the sample dumps: they produce exactly the metrics rules/README.md documents, with
the dump's values.

Each pack runs through the real product path (``presto-jmx-exporter scrape --config PACK --target DUMP``, so the
include lists, the rule engine and the renderer all take part); the exposition is parsed with prometheus_client
and compared with the README's tables and with the attribute values read straight from the dump JSON.
"""

from __future__ import annotations

import functools
import json
import math
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from exporter.cli import main
from exporter.commands.exitcodes import ExitCode
from tests.helpers.packs import (
    PROFILES,
    ROOT,
    RULES,
    SELF_METRICS,
    Labels,
    Series,
    dump_path,
    require_dumps,
    scrape,
    scrape_text,
)
from tests.helpers.promtool import lint_metrics, needs_promtool

README = RULES / "README.md"
# The historic packs and the one product whose bean domain each one reads.
HISTORIC = {"prestodb.yml": "prestodb", "presto.yml": "prestosql", "trino.yml": "trino"}
# The product lines whose dumps each historic pack reads (the trino.* domain of every Trino line).
HISTORIC_LINES = {"prestodb.yml": {"prestodb"}, "presto.yml": {"prestosql"},
                  "trino.yml": {"trino", "trino479", "trino483"}}


# ---------------------------------------------------------------- the dump, read directly


@functools.cache
def dump_beans(profile: str) -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(dump_path(profile).read_text(encoding="utf-8")))


def bean_properties(object_name: str) -> tuple[str, dict[str, str]]:
    domain, _, rest = object_name.partition(":")
    return domain, dict(pair.split("=", 1) for pair in rest.split(","))


def bean_key(object_name: str) -> str:
    """What the README's source column names a bean by: its ``type`` property, else its ``name``."""
    _, properties = bean_properties(object_name)
    return properties.get("type") or properties["name"]


def numeric(value: Any) -> float | None:
    """An attribute value as jmx_exporter exports it (numbers, booleans as 1/0, NaN/Inf strings), else None."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if value in ("NaN", "Infinity", "-Infinity"):
        return float(value.replace("Infinity", "inf"))
    return None


def attribute_values(bean: dict[str, Any]) -> dict[str, float]:
    """Numeric attributes by name, and CompositeData items as ``Attribute.item``."""
    values = {}
    for attribute in bean.get("attributes", []):
        value = attribute.get("value")
        if isinstance(value, dict) and attribute.get("type") == "javax.management.openmbean.CompositeData":
            for item, inner in value.items():
                if (number := numeric(inner)) is not None:
                    values[f"{attribute['name']}.{item}"] = number
        elif "value" in attribute and (number := numeric(value)) is not None:
            values[attribute["name"]] = number
    return values


def same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


# ---------------------------------------------------------------- rules/README.md tables


@dataclass(frozen=True)
class Row:
    metric: str
    type: str
    fixed_labels: Labels
    dynamic_labels: tuple[str, ...]
    sources: tuple[tuple[tuple[str, ...], str], ...]  # (beans, attribute) of each version, `;`-separated
    factor: float

    def reads(self, bean: dict[str, Any]) -> str | None:
        """The attribute this row reads of ``bean``, when the bean is one of its sources."""
        key = bean_key(bean["objectName"])
        return next((attribute for beans, attribute in self.sources if key in beans), None)


CELL_CODE = re.compile(r"`([^`]+)`")


def readme_rows(pack: str) -> list[Row]:
    """The metric table under the README's heading for ``pack`` (a heading line that contains `pack`)."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("## ") and f"`{pack}`" in line)
    rows: list[Row] = []
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        metric, kind, labels, source, unit = cells[:5]
        fixed = tuple(sorted(re.findall(r'`(\w+)="([^"]*)"`', labels)))
        dynamic = () if fixed or not labels else (CELL_CODE.findall(labels)[0],)  # "`pool` (the bean's `name`)"
        sources = []
        for part in re.sub(r"\([^)]*\)", "", source).split(";"):
            bean_part, _, attribute_part = part.partition("/")
            attribute = CELL_CODE.findall(attribute_part)[0] if CELL_CODE.findall(attribute_part) else ""
            sources.append((tuple(CELL_CODE.findall(bean_part)), attribute))
        rows.append(
            Row(
                metric=CELL_CODE.findall(metric)[0],
                type=kind.strip(),
                fixed_labels=fixed,
                dynamic_labels=dynamic,
                sources=tuple(sources),
                factor=0.001 if "from ms" in unit else 0.000001 if "from µs" in unit else 1.0,
            )
        )
    assert rows, f"no metric table for {pack} in rules/README.md"
    return rows


def row_matches(row: Row, series: Series) -> bool:
    if row.metric != series.name:
        return False
    names = {k for k, _ in series.labels}
    return set(row.fixed_labels) <= set(series.labels) and names == {k for k, _ in row.fixed_labels} | set(
        row.dynamic_labels
    )


# ---------------------------------------------------------------- the coordinator pack


@pytest.mark.parametrize("profile", PROFILES)
def test_coordinator_pack_matches_readme_and_dump(profile: str) -> None:
    require_dumps()
    rows = readme_rows("coordinator.yml")
    series = scrape(RULES / "coordinator.yml", profile)
    assert series, "the coordinator pack produced nothing"
    beans = dump_beans(profile)
    for item in series:
        matching = [row for row in rows if row_matches(row, item)]
        assert len(matching) == 1, f"{item.name}{dict(item.labels)}: {len(matching)} README rows match"
        row = matching[0]
        assert item.type == row.type, f"{item.name}: exposed as {item.type}, README says {row.type}"
        labels = dict(item.labels)
        sources = [
            (bean, attribute)
            for bean in beans
            if (attribute := row.reads(bean)) is not None
            and all(bean_properties(bean["objectName"])[1].get("name") == labels[d] for d in row.dynamic_labels)
        ]
        values = [attribute_values(bean).get(attribute) for bean, attribute in sources]
        values = [v for v in values if v is not None]
        assert len(values) == 1, f"{item.name}{labels}: {len(values)} source attributes in the {profile} dump"
        assert same(item.value, values[0] * row.factor), f"{item.name}{labels}: {item.value} != {values[0]}"


def test_every_documented_coordinator_metric_is_produced_where_its_bean_exists() -> None:
    require_dumps()
    rows = readme_rows("coordinator.yml")
    produced = {profile: scrape(RULES / "coordinator.yml", profile) for profile in PROFILES}
    for row in rows:
        has_source = [
            profile
            for profile in PROFILES
            if any(row.reads(b) in attribute_values(b) for b in dump_beans(profile))
        ]
        for profile in has_source:
            assert any(row_matches(row, s) for s in produced[profile]), (
                f"{row.metric} {row.fixed_labels}: its source exists in the {profile} dump but nothing was produced"
            )


def test_coordinator_pack_fetches_only_listed_beans() -> None:
    config = yaml.safe_load((RULES / "coordinator.yml").read_text(encoding="utf-8"))
    names = config["includeObjectNames"]
    assert names and not any("*" in name or "?" in name for name in names), "literal names only: fetch just those"
    for profile in ("prestodb", "prestosql", "trino"):
        domain = {"prestodb": "com.facebook.presto.", "prestosql": "presto.", "trino": "trino."}[profile]
        listed = {name.partition(":")[2] for name in names if name.startswith(domain)}
        assert {"name=QueryManager", "name=ClusterMemoryManager", "type=ClusterMemoryPool,name=general"} <= listed


@needs_promtool
@pytest.mark.parametrize("profile", PROFILES)
def test_coordinator_pack_passes_promtool_lint(profile: str) -> None:
    require_dumps()
    assert lint_metrics(scrape_text(RULES / "coordinator.yml", profile)) == []


def test_coordinator_pack_names_follow_prometheus_conventions() -> None:
    for row in readme_rows("coordinator.yml"):
        assert re.fullmatch(r"presto_[a-z0-9_]+", row.metric), row.metric
        assert row.metric.endswith("_total") == (row.type == "counter"), row.metric
        if row.factor != 1.0:
            assert row.metric.removesuffix("_total").endswith("_seconds")


# ---------------------------------------------------------------- the historic packs


def expected_historic(pack: str, profile: str) -> dict[str, float]:
    """Name -> value the javaagent-era rules give: every numeric attribute of the three beans, name kept as is."""
    prefix = "presto" if pack != "trino.yml" else "trino"
    expected = {}
    for bean in dump_beans(profile):
        domain, properties = bean_properties(bean["objectName"])
        key = bean_key(bean["objectName"])
        if domain.endswith(".memory") and properties.get("name") == "ClusterMemoryManager":
            stem = f"{prefix}_clustermemorymanager_"
        elif domain.endswith(".memory") and key == "ClusterMemoryPool":
            stem = f"{prefix}_clustermemorypool_{properties['name']}_"
        elif domain.endswith(".execution") and properties.get("name") == "QueryManager":
            stem = f"{prefix}_execution_querymanager_"
        else:
            continue
        for attribute, value in attribute_values(bean).items():
            expected[stem + re.sub(r"[^a-zA-Z0-9:_]", "_", attribute)] = value
    return expected


@pytest.mark.parametrize("pack", sorted(HISTORIC))
def test_historic_pack_exports_every_numeric_attribute(pack: str) -> None:
    require_dumps()
    profile = HISTORIC[pack]
    series = scrape(RULES / pack, profile)
    got = {s.name: s.value for s in series}
    expected = expected_historic(pack, profile)
    assert expected, f"the {profile} dump has none of the three beans"
    assert set(got) == set(expected)
    for name, value in expected.items():
        assert same(got[name], value), f"{name}: {got[name]} != {value}"
    assert {s.type for s in series} == {"gauge"}
    assert all(s.labels == () for s in series)


@pytest.mark.parametrize("pack", sorted(HISTORIC))
def test_historic_pack_examples_from_the_brief(pack: str) -> None:
    require_dumps()
    prefix = "trino" if pack == "trino.yml" else "presto"
    names = {s.name for s in scrape(RULES / pack, HISTORIC[pack])}
    for example in (
        "clustermemorymanager_ClusterMemoryBytes",
        "clustermemorypool_general_FreeDistributedBytes",
        "execution_querymanager_RunningQueries",
        "execution_querymanager_ExecutionTime_FiveMinutes_P50",
    ):
        assert f"{prefix}_{example}" in names


@pytest.mark.parametrize("pack", sorted(HISTORIC))
def test_historic_pack_reads_nothing_of_other_products(pack: str) -> None:
    require_dumps()
    for profile in PROFILES:
        if profile not in HISTORIC_LINES[pack]:
            assert scrape(RULES / pack, profile) == ()


def test_prestodb_pack_gives_the_names_the_javaagent_gave(tmp_path: Path) -> None:
    """presto.yml's unanchored patterns, without an include list (as users ran them), also matched prestodb's
    com.facebook.presto.* beans; prestodb.yml must give prestodb users exactly those names and values."""
    require_dumps()
    config = yaml.safe_load((RULES / "presto.yml").read_text(encoding="utf-8"))
    del config["includeObjectNames"]
    javaagent = tmp_path / "javaagent-presto.yml"
    javaagent.write_text(yaml.safe_dump(config), encoding="utf-8")
    as_javaagent = {s.name: s.value for s in scrape(javaagent, "prestodb")}
    ours = {s.name: s.value for s in scrape(RULES / "prestodb.yml", "prestodb")}
    assert ours.keys() == as_javaagent.keys() and ours
    assert all(same(ours[n], as_javaagent[n]) for n in ours)


@pytest.mark.parametrize("pack", sorted(HISTORIC))
def test_historic_pack_is_documented(pack: str) -> None:
    rows = readme_rows(pack)
    assert {row.type for row in rows} == {"gauge"}
    prefix = "trino" if pack == "trino.yml" else "presto"
    assert {row.metric for row in rows} == {
        f"{prefix}_clustermemorymanager_<attribute>",
        f"{prefix}_clustermemorypool_<pool>_<attribute>",
        f"{prefix}_execution_querymanager_<attribute>",
    }


# ---------------------------------------------------------------- explain --strict, as a CI job runs it

# Each pack with the dumps of the products it is for.
MEANT_FOR = [("coordinator.yml", profile) for profile in PROFILES] + sorted(HISTORIC.items())


@pytest.mark.parametrize(("pack", "profile"), MEANT_FOR, ids=[f"{p}-{d}" for p, d in MEANT_FOR])
def test_explain_strict_passes_each_pack_over_the_dumps_it_is_for(
    pack: str, profile: str, capsys: pytest.CaptureFixture[str]
) -> None:
    require_dumps()
    capsys.readouterr()
    code = main(["explain", "--strict", "--config", str(RULES / pack), "--target", str(dump_path(profile)),
                 "--bean", "none:*"])
    out = capsys.readouterr().out
    lint = out[out.index("\nlint: ") + 1:].splitlines()
    findings = [line for line in lint if line.startswith("  [")]
    # Only what the pack marks as expected: beans of other versions (coordinator.yml), the javaagent's names.
    assert all(", expected] " in line for line in findings), findings
    assert lint[0] == (f"lint: {len(findings)} findings, {len(findings)} expected" if findings else "lint: 0 findings")
    assert code == ExitCode.OK


# ---------------------------------------------------------------- the same pack over the live sources


def scrape_live(config: Path, target: str, *extra: str) -> dict[tuple[str, Labels], float]:
    result = subprocess.run(
        [sys.executable, "-m", "exporter", "scrape", "--config", str(config), "--target", target, *extra],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert result.returncode == 0, f"{config.name} over {target}: {result.stderr}"
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(result.stdout)
        for sample in family.samples
        if sample.name not in SELF_METRICS
    }


# Each line with the sources its server supports: /v1/jmx up to Trino 479, /metrics on Trino, JMX everywhere.
LIVE = [(profile, source) for profile in PROFILES for source in ("rest", "jmx", "native")
        if not (source == "rest" and profile == "trino483") and not (source == "native" and "trino" not in profile)]


@pytest.mark.jvm
@pytest.mark.parametrize(("profile", "source"), LIVE, ids=[f"{p}-{s}" for p, s in LIVE])
def test_coordinator_pack_gives_the_same_series_over_every_source(
    profile: str, source: str, request: pytest.FixtureRequest
) -> None:
    """The dumps are the fixture's generation 0: a live scrape over REST, JMX or Trino's /metrics must give the
    same series (the native source's list of what it cannot carry holds nothing the pack reads)."""
    require_dumps()
    coordinator = request.getfixturevalue(f"{profile}_coordinator")
    target = coordinator.jmx_url if source == "jmx" else coordinator.http_url
    extra = ("--source", source) if source != "jmx" else ()
    live = scrape_live(RULES / "coordinator.yml", target, *extra)
    offline = {(s.name, s.labels): s.value for s in scrape(RULES / "coordinator.yml", profile)}
    assert live.keys() == offline.keys()
    for key, value in offline.items():
        assert same(live[key], value), f"{key}: {live[key]} over {source}, {value} in the dump"
