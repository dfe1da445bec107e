"""What makes scrapes cheap, asserted as invariants (no timings): requests the coordinator sees, rule runs skipped,
and the fast paths giving exactly the reference output."""

from __future__ import annotations

import copy
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from exporter.config.loader import load_config, parse_config
from exporter.output.exposition import render_text
from exporter.output.families import build_families
from exporter.rules.engine import RuleEngine
from exporter.scrape.scraper import Scraper
from exporter.scrape.watcher import ConfigWatcher
from exporter.sources import airlift
from exporter.sources.dump import DumpSource
from exporter.sources.rest.settings import HttpSettings
from exporter.sources.rest.source import RestSource
from tests.fixture.process import FixtureCoordinator
from tests.helpers.waiting import run_in_threads

ROOT = Path(__file__).resolve().parents[1]
DUMP = ROOT / "examples" / "dumps" / "trino-coordinator.json"
POOL = "trino.memory:type=ClusterMemoryPool,name=general"
# No include list. The JVM's beans are left out: their CompositeData (memory pools, collectors, heap usage) may
# export, and on a coordinator this small asking for them too by name would cost more than the whole list.
DISCOVERED = """
excludeObjectNames: ['java.lang:*']
rules:
  - pattern: 'trino\\.memory<type=ClusterMemoryPool, name=(\\w+)><>FreeDistributedBytes:'
    name: pool_free_$1
  - pattern: 'trino\\.memory<name=ClusterMemoryManager><>ClusterMemoryBytes:'
    name: cluster_memory_bytes
"""


class Clock:
    """Monotonic time plus an offset the test moves (deadlines stay real for the HTTP client)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


@pytest.fixture(scope="module")
def coordinator(private_trino_coordinator: FixtureCoordinator) -> FixtureCoordinator:
    return private_trino_coordinator


@pytest.fixture
def fresh(coordinator: FixtureCoordinator) -> Iterator[FixtureCoordinator]:
    coordinator.clear_fault()
    coordinator.reset_stats()
    yield coordinator
    coordinator.clear_fault()
    coordinator.register(POOL)


def scraper_for(config: Path, coordinator: FixtureCoordinator, clock: Clock | None = None) -> Scraper:
    source = RestSource(coordinator.http_url, HttpSettings(user="test"))
    return Scraper(ConfigWatcher(config), source, timeout=30, clock=clock or Clock(), discovery_interval=60)


def requests_by_route(coordinator: FixtureCoordinator) -> dict[str, int]:
    routes = coordinator.stats()["routes"]
    coordinator.reset_stats()
    return {name: routes.get(name, {}).get("requests", 0) for name in ("list", "bean")}


def sample_lines(body: bytes) -> list[bytes]:
    return [line for line in body.splitlines() if not line.startswith((b"#", b"jmx_", b"presto_jmx_exporter_"))]


def test_twenty_concurrent_scrapes_cost_the_coordinator_one_fetch(fresh: FixtureCoordinator) -> None:
    scraper = scraper_for(ROOT / "rules" / "coordinator.yml", fresh)
    try:
        scraper.scrape()  # discovery: learns which listed beans exist
        scraper.scrape()  # and asks once more for the ones it lacks
        fresh.reset_stats()
        assert scraper.scrape().error is None
        one = requests_by_route(fresh)
        fresh.fault("slow", delay=0.5, paths=["bean"])
        fetches = scraper.upstream_fetches
        barrier = threading.Barrier(20)
        results: list[Any] = []

        def scrape() -> None:
            barrier.wait(10)
            results.append(scraper.scrape())

        run_in_threads(scrape, 20)
        fresh.clear_fault()
        assert len(results) == 20 and all(r.error is None for r in results)
        assert scraper.upstream_fetches == fetches + 1
        assert requests_by_route(fresh) == one
        assert len({id(r) for r in results}) == 1
    finally:
        scraper.source.close()


def test_listed_beans_the_server_lacks_are_asked_for_again_only_after_a_back_off(fresh: FixtureCoordinator) -> None:
    clock = Clock()
    scraper = scraper_for(ROOT / "rules" / "coordinator.yml", fresh, clock)
    listed = len(scraper.watcher.config.include_object_names)
    try:
        scraper.scrape()
        assert requests_by_route(fresh) == {"list": 0, "bean": listed}
        missing = len(scraper.planner.missing)
        assert 0 < missing < listed
        scraper.scrape()  # the missing ones once more, at once
        assert requests_by_route(fresh) == {"list": 0, "bean": listed}
        for _ in range(3):
            assert scraper.scrape().error is None
            assert requests_by_route(fresh) == {"list": 0, "bean": listed - missing}
        clock.offset += 11
        scraper.scrape()
        assert requests_by_route(fresh) == {"list": 0, "bean": listed}
        assert f"presto_jmx_exporter_missing_beans {float(missing)}" in scraper.scrape().body().decode()
    finally:
        scraper.source.close()


def test_without_an_include_list_only_the_beans_the_rules_use_are_fetched(
    fresh: FixtureCoordinator, tmp_path: Path
) -> None:
    config = tmp_path / "rules.yml"
    config.write_text(DISCOVERED)
    scraper = scraper_for(config, fresh)
    try:
        first = scraper.scrape()
        assert requests_by_route(fresh) == {"list": 1, "bean": 0}
        named = scraper.planner.named
        assert named is not None and {POOL, "trino.memory:name=ClusterMemoryManager"} <= set(named)
        # Beans whose records no rule matches are left out; those with CompositeData/TabularData attributes may
        # grow records and stay in.
        assert not [name for name in named if name.startswith(("trino.execution", "io.airlift"))]
        second = scraper.scrape()
        assert requests_by_route(fresh) == {"list": 0, "bean": len(named)}
        assert sample_lines(first.body()) == sample_lines(second.body())
        assert len(sample_lines(second.body())) == 2
        # The pool vanishes: that scrape still answers, and the next one reads the whole list again.
        fresh.unregister(POOL)
        assert scraper.scrape().error is None
        assert requests_by_route(fresh) == {"list": 0, "bean": len(named)}
        assert len(sample_lines(scraper.scrape().body())) == 1
        assert requests_by_route(fresh) == {"list": 1, "bean": 0}
    finally:
        scraper.source.close()


def test_a_verbatim_javaagent_file_fetches_only_the_beans_it_can_export(
    coordinator_factory: Callable[..., FixtureCoordinator],
) -> None:
    """Unanchored patterns that capture the value, and no include list, against a coordinator of realistic size:
    after the discovery, a few named beans (those holding TabularData, or CompositeData that is null now, stay in:
    their records may change), with the samples the whole list gave."""
    coordinator = coordinator_factory("trino", 1)
    scraper = scraper_for(ROOT / "tests" / "testdata" / "verbatim-trino.yml", coordinator)
    try:
        first = scraper.scrape()
        assert requests_by_route(coordinator) == {"list": 1, "bean": 0}
        named = scraper.planner.named
        assert named is not None
        assert {"trino.execution:name=QueryManager", "trino.memory:name=ClusterMemoryManager", POOL} <= set(named)
        assert not [name for name in named if name.startswith(("trino.execution:type=", "io.airlift", "trino.plugin"))]
        assert len(named) <= 12
        second = scraper.scrape()
        assert requests_by_route(coordinator) == {"list": 0, "bean": len(named)}
        assert sample_lines(first.body()) == sample_lines(second.body())
        assert len(sample_lines(second.body())) > 50
    finally:
        scraper.source.close()


# -- the rule memo and the layout reuse (no JVM: the sample dump) ---------------------------------------------------

VALUE_DEPENDENT = """
rules:
  - pattern: 'trino.execution<name=QueryManager><>(\\w+): 0'
    name: idle_$1
  - pattern: '(.*)<name=(\\w+)><>(\\w+)'
    name: $2_$3
"""
WHOLE_MATCH = """
rules:
  - pattern: 'trino.memory<type=ClusterMemoryPool, name=(\\w+)><>(\\w+):'
    name: pool_$2
    help: "from $0"
"""
STRING_VALUES = """
rules:
  - pattern: '<>Unit: (\\w+)'
    name: unit
    value: 1
    labels:
      unit: $1
  - pattern: '.*'
"""
CONFIGS = {
    "trino": (ROOT / "rules" / "trino.yml").read_text(),
    "coordinator": (ROOT / "rules" / "coordinator.yml").read_text(),
    "everything": "lowercaseOutputName: false\n",
    "value-dependent": VALUE_DEPENDENT,
    "whole-match": WHOLE_MATCH,
    "string-values": STRING_VALUES,
}


def perturbed(document: list[dict[str, Any]], generation: int) -> list[dict[str, Any]]:
    """The dump with every number moved (booleans flipped on odd generations); generation 0 is the dump."""
    out = copy.deepcopy(document)
    for item in out:
        for attribute in item.get("attributes", []):
            value = attribute.get("value")
            if isinstance(value, bool):
                attribute["value"] = value ^ bool(generation % 2)
            elif isinstance(value, int):
                attribute["value"] = value + generation * 7
            elif isinstance(value, float) and value == value:
                attribute["value"] = value * (1 + generation) + 0.25 * generation
    return out


def comparable(samples: list[Any]) -> list[tuple[Any, ...]]:
    """Samples as tuples whose values compare equal when both are NaN."""
    return [(s.name, s.labels, repr(s.value), s.type, s.help, s.object_name, s.match) for s in samples]


def beans_of(document: list[dict[str, Any]]) -> list[Any]:
    return airlift.parse_bean_list(document, "dump")[0]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_a_warm_engine_gives_what_a_fresh_one_gives(name: str) -> None:
    config = parse_config(CONFIGS[name], f"{name}.yml", environ={})
    warm = RuleEngine(config)
    document = orjson.loads(DUMP.read_bytes())
    for generation in (0, 1, 1, 2, 0):
        beans = beans_of(perturbed(document, generation))
        assert comparable(warm.evaluate(beans)) == comparable(RuleEngine(config).evaluate(beans)), generation


@pytest.mark.parametrize("path", ["rules/trino.yml", "tests/testdata/verbatim-trino.yml"])
def test_a_value_blind_configuration_runs_its_rules_once_per_record(path: str) -> None:
    """A verbatim javaagent file counts: its patterns' hold on the value is a tail no template copies."""
    engine = RuleEngine(load_config(ROOT / path))
    document = orjson.loads(DUMP.read_bytes())
    engine.collect(beans_of(document))
    runs = engine.rule_runs
    assert runs > 0
    for generation in (1, 2, 3):
        engine.collect(beans_of(perturbed(document, generation)))
    assert engine.rule_runs == runs


def test_a_value_dependent_configuration_reruns_only_records_whose_text_changed() -> None:
    engine = RuleEngine(parse_config(VALUE_DEPENDENT, "rules.yml", environ={}))
    document = orjson.loads(DUMP.read_bytes())
    beans = beans_of(document)
    engine.collect(beans)
    runs = engine.rule_runs
    engine.collect(beans)
    assert engine.rule_runs == runs
    engine.collect(beans_of(perturbed(document, 1)))
    assert engine.rule_runs > runs


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_reused_layouts_render_what_a_fresh_render_gives(name: str, tmp_path: Path) -> None:
    config_path = tmp_path / "rules.yml"
    config_path.write_text(CONFIGS[name])
    dump = tmp_path / "dump.json"
    document = orjson.loads(DUMP.read_bytes())
    scraper = Scraper(ConfigWatcher(config_path), DumpSource(dump), timeout=30)
    config = load_config(config_path)
    for step, generation in enumerate((0, 1, 2, 2, 3)):
        current = perturbed(document, generation)
        dump.write_bytes(orjson.dumps(current))
        os.utime(dump, ns=(step * 10**9, step * 10**9))  # a new stamp even within the clock's resolution
        result = scraper.scrape()
        assert result.error is None
        beans = sorted(beans_of(current), key=lambda bean: bean.object_name)
        expected = render_text(build_families(RuleEngine(config).evaluate(beans))).encode()
        assert sample_lines(result.body()) == sample_lines(expected), generation

