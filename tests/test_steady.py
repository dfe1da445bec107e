"""Reading values without records (exporter/steady.py) gives exactly what the full path gives.

A long-lived scraper reads a real HTTP server on 127.0.0.1 whose answer changes between scrapes: values only
(the steady read must be taken), or the structure (a bean or attribute added or gone, a value that changes kind,
a new description). After every change its answer is compared with a fresh scraper's first scrape of the same
body, which always takes the full path.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import orjson
import pytest

from exporter.collector import ConfigWatcher, Scraper, ScrapeResult
from exporter.sources.rest import RestSource
from tests.canned_server import CannedServer, Reply

ROOT = Path(__file__).resolve().parents[1]
SELF_PREFIX = "# HELP jmx_scrape_duration_seconds "
CONFIGS = {
    "everything": "{}\n",
    "rules": (
        "lowercaseOutputName: true\n"
        "rules:\n"
        "  - pattern: 'trino.memory<type=ClusterMemoryPool, name=(\\w+)><>(\\w+):'\n"
        "    name: pool_$2\n    labels: {pool: $1}\n    valueFactor: 0.5\n"
        "  - pattern: 'trino.execution<name=QueryManager><>(\\w+):'\n    name: queries_$1\n    type: COUNTER\n"
        "  - pattern: 'java.lang<type=Memory><HeapMemoryUsage>(\\w+):'\n    name: heap_$1\n"
        "  - pattern: '.*'\n"
    ),
    "string values": "rules:\n  - pattern: '(.*)<(.*)><>(\\w+): (.*)'\n    name: s_$3\n    value: 1\n",
    # A rule cache and a whole list with CompositeData beans: a direct read would have to run the engine over
    # some beans, and could not keep the cache as a full scrape does, so every scrape takes the full path.
    "cached rules": (
        "rules:\n"
        "  - pattern: 'trino.memory<type=ClusterMemoryPool, name=(\\w+)><>(\\w+):'\n"
        "    name: pool_$2\n    labels: {pool: $1}\n    cache: true\n"
        "  - pattern: 'java.lang<type=Memory><HeapMemoryUsage>(\\w+):'\n    name: heap_$1\n    cache: true\n"
        "  - pattern: '.*'\n    cache: true\n"
    ),
}


class ChangingServer:
    """A real HTTP server answering ``/v1/jmx/mbean`` and ``/v1/jmx/mbean/{name}`` from whatever document the test
    set last (an unknown name gets airlift's 500)."""

    def __init__(self, document: list[dict[str, Any]]) -> None:
        self.set(document)
        self.server = CannedServer(self._answer)

    def set(self, document: list[dict[str, Any]]) -> None:
        self.body = orjson.dumps(document)
        self.beans = {bean["objectName"]: orjson.dumps(bean) for bean in document}

    def _answer(self, path: str) -> Reply:
        if path == "/v1/jmx/mbean":
            return Reply(body=self.body, headers={"Content-Type": "application/json"})
        body = self.beans.get(unquote(path.removeprefix("/v1/jmx/mbean/")))
        if body is None:
            return Reply(500, b"javax.management.InstanceNotFoundException")
        return Reply(body=body, headers={"Content-Type": "application/json"})


@pytest.fixture
def changing() -> Iterator[Callable[[list[dict[str, Any]]], ChangingServer]]:
    servers: list[ChangingServer] = []

    def start(document: list[dict[str, Any]]) -> ChangingServer:
        server = ChangingServer(document)
        server.server.__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.server.__exit__(None, None, None)


def _dump(profile: str) -> list[dict[str, Any]]:
    """A shipped sample answer of ``/v1/jmx/mbean``, decoded afresh (the tests change it)."""
    return orjson.loads((ROOT / "examples" / "dumps" / f"{profile}-coordinator.json").read_bytes())  # type: ignore[no-any-return]


def _scraper(tmp_path: Path, config: str, url: str) -> tuple[Scraper, RestSource]:
    path = tmp_path / "config.yml"
    if not path.exists():
        path.write_text(config)
    source = RestSource(url)
    return Scraper(ConfigWatcher(path), source, timeout=20), source


def _beans_part(result: ScrapeResult, openmetrics: bool = False) -> str:
    assert result.error is None, result.error
    text = result.body(openmetrics).decode("utf-8")
    return text[: text.index(SELF_PREFIX)] if not openmetrics else text[: text.index("# TYPE jmx_scrape_duration")]


def _reference(tmp_path: Path, config: str, url: str) -> ScrapeResult:
    scraper, source = _scraper(tmp_path, config, url)
    try:
        return scraper.scrape()
    finally:
        source.close()


def _move_values(document: list[dict[str, Any]], rng: random.Random) -> None:
    for bean in document:
        for attribute in bean.get("attributes", ()):
            value = attribute.get("value")
            if value.__class__ is int:
                attribute["value"] = value + rng.randrange(1, 1000)
            elif value.__class__ is float:
                attribute["value"] = value * rng.uniform(0.5, 2.0) + 1.0
            elif value.__class__ is bool:
                attribute["value"] = rng.random() < 0.5
            elif value.__class__ is dict:
                for key, item in value.items():
                    if item.__class__ in (int, float):
                        value[key] = item + rng.randrange(1, 50)


def _numeric(document: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a for b in document for a in b.get("attributes", ()) if a.get("value").__class__ in (int, float)]


def _change_structure(document: list[dict[str, Any]], rng: random.Random) -> str:
    """Change one thing besides values; returns what, for the failure message."""
    kind = rng.choice([
        "null", "nan string", "fractional long", "new attribute", "gone attribute", "gone bean", "new bean",
        "description", "swap beans", "type",
    ])
    attribute = rng.choice(_numeric(document))
    if kind == "null":
        attribute["value"] = None
    elif kind == "nan string":
        attribute["type"], attribute["value"] = "double", "NaN"
    elif kind == "fractional long":
        attribute["type"], attribute["value"] = "long", 2.5
    elif kind == "new attribute":
        rng.choice(document).setdefault("attributes", []).append({"name": "Added", "type": "long", "value": 7})
    elif kind == "gone attribute":
        bean = rng.choice([b for b in document if b.get("attributes")])
        bean["attributes"].pop(rng.randrange(len(bean["attributes"])))
    elif kind == "gone bean":
        document.pop(rng.randrange(len(document)))
    elif kind == "new bean":
        document.insert(rng.randrange(len(document)), {
            "objectName": f"trino.test:name=Added{rng.randrange(10**6)}",
            "attributes": [{"name": "Count", "type": "long", "value": 1}],
        })
    elif kind == "description":
        attribute["description"] = "changed"
    elif kind == "swap beans":
        i, j = rng.sample(range(len(document)), 2)
        document[i], document[j] = document[j], document[i]
    else:
        attribute["type"] = "java.lang.String"
    return kind


@pytest.mark.parametrize("profile", ["trino", "prestosql", "prestodb"])
@pytest.mark.parametrize("config", list(CONFIGS), ids=list(CONFIGS))
def test_a_long_lived_scraper_matches_a_fresh_one_through_every_change(
    tmp_path: Path, changing: Callable[[list[dict[str, Any]]], ChangingServer], profile: str, config: str
) -> None:
    rng = random.Random(f"{profile}/{config}")
    document = _dump(profile)
    server = changing(document)
    _follow_changes(tmp_path, CONFIGS[config], server, document, rng, steady_capable=config != "string values",
                    direct=config not in ("string values", "cached rules"))


@pytest.mark.parametrize("profile", ["trino", "prestosql", "prestodb"])
def test_beans_asked_for_by_name_are_read_directly_and_match_a_fresh_scraper(
    tmp_path: Path, changing: Callable[[list[dict[str, Any]]], ChangingServer], profile: str
) -> None:
    # A listed include list (one request per bean), some of the names absent, as in rules/coordinator.yml.
    rng = random.Random(profile)
    document = _dump(profile)
    names = [bean["objectName"] for bean in document[::9]] + ["trino.absent:name=Nowhere"]
    config = orjson.dumps({"includeObjectNames": names, "rules": [
        {"pattern": "(.+)<(.+)><>(\\w+):", "name": "named_$3", "labels": {"bean": "$1 $2"}},
        {"pattern": ".*"},
    ]}).decode()  # fmt: skip
    server = changing(document)
    scraper = _follow_changes(tmp_path, config, server, document, rng, steady_capable=True)
    assert scraper.planner.plan().request.object_names is not None
    assert len(scraper.planner.missing) >= 1
    assert "/v1/jmx/mbean" not in {seen.path for seen in server.server.seen}


@pytest.mark.parametrize("profile", ["trino", "prestosql", "prestodb"])
def test_the_coordinator_pack_with_its_cached_rules_is_read_directly(
    tmp_path: Path, changing: Callable[[list[dict[str, Any]]], ChangingServer], profile: str
) -> None:
    """rules/coordinator.yml puts ``cache: true`` on every rule and lists its beans: each is read directly."""
    rng = random.Random(f"coordinator/{profile}")
    document = _dump(profile)
    server = changing(document)
    config = (ROOT / "rules" / "coordinator.yml").read_text()
    scraper = _follow_changes(tmp_path, config, server, document, rng, steady_capable=True)
    assert scraper.watcher.engine.caches
    assert scraper.watcher.engine.cached_beans() > 0


def _cached_beans(result: ScrapeResult) -> str:
    text = result.body().decode("utf-8")
    return next(line for line in text.splitlines() if line.startswith("jmx_scrape_cached_beans "))


def _follow_changes(
    tmp_path: Path, config: str, server: ChangingServer, document: list[dict[str, Any]], rng: random.Random,
    steady_capable: bool, direct: bool | None = None,
) -> Scraper:
    """Change the document 24 times (every fourth change is not one of values only); after each, the long-lived
    scraper must answer what the reference does (its rule cache as big, too), and read the values directly when
    only values changed (unless ``direct`` is False: never directly).

    The reference is a fresh scraper. With ``cache: true`` rules it is a twin that lived as long but always took
    the full path: a cached verdict keeps its HELP text when the description changes (jmx_exporter's cache does
    too), so a fresh scraper would differ from any long-lived one."""
    direct = steady_capable if direct is None else direct
    scraper, source = _scraper(tmp_path, config, server.server.url)
    twin, twin_source = _scraper(tmp_path, config, server.server.url)
    caches = scraper.watcher.engine.caches
    assert scraper.watcher.engine.steady_safe == steady_capable  # a 'value' template may export text
    try:
        for step in range(24):
            structural = step % 4 == 3
            what = _change_structure(document, rng) if structural else "values"
            _move_values(document, rng)
            server.set(document)
            reads = scraper.steady_reads
            discovery = scraper.planner.plan().discovery  # a discovery is read in full, as it teaches the planner
            result = scraper.scrape()
            if caches:
                twin._steady = None  # no plan: this scrape takes the full path
                expected = twin.scrape()
            else:
                expected = _reference(tmp_path, config, server.server.url)
            assert _beans_part(result) == _beans_part(expected), f"step {step}: {what}"
            assert _beans_part(result, True) == _beans_part(expected, True), f"step {step}: {what}"
            assert _cached_beans(result) == _cached_beans(expected), f"step {step}: {what}"
            # The first full scrape plans the reads; after a change of structure the next one is read again.
            if direct and not structural and step >= 1 and not discovery:
                assert scraper.steady_reads == reads + 1, f"step {step} was not read directly"
        if not direct:
            assert scraper.steady_reads == 0
        assert twin.steady_reads == 0
    finally:
        source.close()
        twin_source.close()
    return scraper


def test_a_bean_that_changes_between_kinds_falls_back_and_returns(
    tmp_path: Path, changing: Callable[[list[dict[str, Any]]], ChangingServer]
) -> None:
    document = [{"objectName": "trino.test:name=A", "attributes": [
        {"name": "Count", "type": "long", "value": 1},
        {"name": "Ratio", "type": "double", "value": 0.5},
        {"name": "Up", "type": "boolean", "value": True},
    ]}]
    server = changing(document)
    scraper, source = _scraper(tmp_path, "{}\n", server.server.url)
    try:
        for _ in range(3):
            scraper.scrape()
        assert scraper.steady_reads == 2  # the first scrape takes the full path and plans the reads
        values = [
            (1, "NaN", True), (2, 0.25, False), (3, "Infinity", True), (4, None, True), (5, 1.0, True), (6, 2.0, False)
        ]  # fmt: skip
        for count, ratio, up in values:
            changed = copy.deepcopy(document)
            changed[0]["attributes"][0]["value"] = count
            changed[0]["attributes"][1]["value"] = ratio
            changed[0]["attributes"][2]["value"] = up
            server.set(changed)
            result = scraper.scrape()
            assert _beans_part(result) == _beans_part(_reference(tmp_path, "{}\n", server.server.url))
        text = result.body().decode()
        assert re.search(r"^trino_test_A_Count 6\.0$", text, re.M), text
        assert re.search(r"^trino_test_A_Up 0\.0$", text, re.M), text
        # One more change of values only: the last scrape planned the reads again, so this one is read directly.
        changed[0]["attributes"][0]["value"] = 7
        server.set(changed)
        result = scraper.scrape()
        assert _beans_part(result) == _beans_part(_reference(tmp_path, "{}\n", server.server.url))
        assert scraper.steady_reads >= 3  # back on the direct read after each change of kind
    finally:
        source.close()


def test_a_bean_that_changed_is_read_directly_from_the_next_scrape(
    tmp_path: Path, changing: Callable[[list[dict[str, Any]]], ChangingServer]
) -> None:
    document = _dump("trino")
    server = changing(document)
    scraper, source = _scraper(tmp_path, "{}\n", server.server.url)
    try:
        for _ in range(3):
            scraper.scrape()
        plan = scraper.steady_plan
        assert plan is not None and scraper.steady_reads == 2
        through_engine = plan.through_engine
        queries = next(b for b in document if b["objectName"] == "trino.execution:name=QueryManager")
        queries["attributes"].append({"name": "Added", "type": "long", "value": 7})
        server.set(document)
        scraper.scrape()  # the change: the full path, running the rules for the new attribute, and a new plan
        assert scraper.steady_reads == 2
        plan = scraper.steady_plan
        # The rules' verdict on the new attribute is remembered by name, so QueryManager is still read directly.
        assert plan is not None and plan.through_engine == through_engine
        queries["attributes"][-1]["value"] = 8
        server.set(document)
        result = scraper.scrape()
        assert scraper.steady_reads == 3
        assert re.search(r"^trino_execution_QueryManager_Added 8\.0$", result.body().decode(), re.M)
        assert _beans_part(result) == _beans_part(_reference(tmp_path, "{}\n", server.server.url))
    finally:
        source.close()


def test_a_table_whose_text_changes_every_scrape_does_not_keep_the_others_from_the_direct_read(
    tmp_path: Path, changing: Callable[[list[dict[str, Any]]], ChangingServer]
) -> None:
    # The rules run for the table's changing string every scrape, as for the fixture's "generation" label; the
    # table goes through the engine anyway, and that must not keep the other beans from the direct read.
    document = _dump("trino")
    tabular = "javax.management.openmbean.TabularData"
    table = next(a for b in document for a in b.get("attributes", ()) if a.get("type") == tabular)
    generation = next(row for row in table["value"] if row["key"] == "generation")
    server = changing(document)
    scraper, source = _scraper(tmp_path, "{}\n", server.server.url)
    rng = random.Random(7)
    try:
        for step in range(6):
            generation["value"] = str(step)
            _move_values(document, rng)
            server.set(document)
            runs = scraper.watcher.engine.rule_runs
            result = scraper.scrape()
            assert _beans_part(result) == _beans_part(_reference(tmp_path, "{}\n", server.server.url)), step
            if step >= 1:
                assert scraper.watcher.engine.rule_runs > runs, step  # the table's new string ran the rules
        assert scraper.steady_reads == 5  # the first scrape takes the full path and plans, every later one is direct
    finally:
        source.close()

