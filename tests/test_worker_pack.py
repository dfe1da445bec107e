"""rules/worker.yml over the worker sample dumps: exactly the metrics rules/README.md documents, with the dump's
values, named as Prometheus wants them.

The pack runs through ``presto-jmx-exporter scrape --config rules/worker.yml --target DUMP`` (include list, rule
engine and renderer), as the coordinator pack does in test_rule_packs.py, whose README table reader it shares.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.packs import PROFILES, ROOT, RULES, SELF_METRICS, Series, worker_dump_path
from tests.helpers.promtool import lint_metrics, needs_promtool
from tests.test_rule_packs import attribute_values, bean_properties, numeric, readme_rows, row_matches, same

PACK = RULES / "worker.yml"


@functools.cache
def scrape_text(profile: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "exporter", "scrape", "--config", str(PACK), "--target", str(worker_dump_path(profile))],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


@functools.cache
def scrape(profile: str) -> tuple[Series, ...]:
    return tuple(
        Series(sample.name, family.type, tuple(sorted(sample.labels.items())), sample.value)
        for family in text_string_to_metric_families(scrape_text(profile))
        for sample in family.samples
        if sample.name not in SELF_METRICS
    )


@functools.cache
def dump_beans(profile: str) -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(worker_dump_path(profile).read_text(encoding="utf-8")))


def values_of(bean: dict[str, Any]) -> dict[str, float]:
    """The bean's numeric attributes, CompositeData items as ``Attribute.item`` (as the README's table names them)."""
    values = attribute_values(bean)
    for attribute in bean.get("attributes", []):
        if isinstance(attribute.get("value"), dict) and attribute["type"].endswith("CompositeData"):
            for item, value in attribute["value"].items():
                if (number := numeric(value)) is not None:
                    values[f"{attribute['name']}.{item}"] = number
    return values


@pytest.mark.parametrize("profile", PROFILES)
def test_worker_pack_matches_readme_and_dump(profile: str) -> None:
    rows = readme_rows("worker.yml")
    series = scrape(profile)
    assert len(series) >= 20, "the worker pack produced too little"
    for item in series:
        matching = [row for row in rows if row_matches(row, item)]
        assert len(matching) == 1, f"{item.name}{dict(item.labels)}: {len(matching)} README rows match"
        row = matching[0]
        assert item.type == row.type, f"{item.name}: exposed as {item.type}, README says {row.type}"
        labels = dict(item.labels)
        values = [
            values_of(bean).get(attribute)
            for bean in dump_beans(profile)
            if (attribute := row.reads(bean)) is not None
            and all(bean_properties(bean["objectName"])[1].get("name") == labels[d] for d in row.dynamic_labels)
        ]
        values = [v for v in values if v is not None]
        assert len(values) == 1, f"{item.name}{labels}: {len(values)} source attributes in the {profile} dump"
        assert same(item.value, values[0] * row.factor), f"{item.name}{labels}: {item.value} != {values[0]}"


def test_every_documented_node_metric_is_produced_where_its_bean_exists() -> None:
    produced = {profile: scrape(profile) for profile in PROFILES}
    for row in readme_rows("worker.yml"):
        has_source = [p for p in PROFILES if any(row.reads(b) in values_of(b) for b in dump_beans(p))]
        assert has_source, f"{row.metric}: no worker dump has its source"
        for profile in has_source:
            assert any(row_matches(row, s) for s in produced[profile]), f"{row.metric}: nothing in {profile}"


def test_worker_pack_names_follow_prometheus_conventions() -> None:
    for row in readme_rows("worker.yml"):
        assert re.fullmatch(r"presto_[a-z0-9_]+", row.metric), row.metric
        assert row.metric.endswith("_total") == (row.type == "counter"), row.metric
        if row.factor != 1.0:
            assert "_seconds" in row.metric


def test_task_executor_gauges_have_the_coordinator_packs_names() -> None:
    coordinator = {row.metric for row in readme_rows("coordinator.yml") if row.metric.startswith("presto_task_")}
    assert coordinator and coordinator <= {row.metric for row in readme_rows("worker.yml")}


@needs_promtool
@pytest.mark.parametrize("profile", PROFILES)
def test_worker_pack_passes_promtool_lint(profile: str) -> None:
    assert lint_metrics(scrape_text(profile)) == []


@pytest.mark.parametrize("profile", PROFILES)
def test_worker_pack_passes_the_strict_lint_with_its_expected_findings(profile: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "exporter", "explain", "--strict", "--config", str(PACK), "--target",
         str(worker_dump_path(profile)), "--bean", "none:*"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lint = result.stdout[result.stdout.index("lint: "):]
    assert lint.splitlines()[0].endswith("expected") or lint.startswith("lint: no findings"), lint
