"""Attributes declared as maps, collections or arrays over JMX: read until one value shows a class no rule exports,
then left out of ``getAttributes``; a map that is a table (TabularDataSupport) is read and exported every time.

The server is a real JMX/RMI server in a child JVM process (tests/helpers/container_jmx.py) that records what each
``getAttributes`` asked for.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import require_jvm
from tests.helpers.jmx_child import run_helper


@pytest.fixture(scope="module")
def scrapes(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    require_jvm()
    config = tmp_path_factory.mktemp("containers") / "exporter.yaml"
    config.write_text("rules:\n  - pattern: '.*'\n")
    done = run_helper("tests.helpers.container_jmx", str(config), "3")
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def _series(exposition: str) -> dict[str, float]:
    lines = (line.rsplit(" ", 1) for line in exposition.splitlines() if line.startswith("test_domain_"))
    return {name: float(value) for name, value in lines}


@pytest.mark.jvm
@pytest.mark.parametrize(("scrape", "asked"), [
    (1, ["Count", "Percentiles", "Table", "LateMap", "Names"]),  # nothing seen yet: everything is read
    (2, ["Count", "Table", "LateMap"]),  # the TreeMap and the array are not read again; LateMap was null
    (3, ["Count", "Table"]),  # LateMap has shown a TreeMap now; the table is read every time
])  # fmt: skip
def test_containers_are_read_until_their_class_shows_they_never_export(
    scrapes: list[dict[str, Any]], scrape: int, asked: list[str]
) -> None:
    answer = scrapes[scrape - 1]
    assert answer["error"] is None
    assert answer["asked"] == [asked]  # one getAttributes per scrape, nothing one by one


@pytest.mark.jvm
@pytest.mark.parametrize("scrape", [1, 2, 3])
def test_every_scrape_exports_the_same_series_with_fresh_values(scrapes: list[dict[str, Any]], scrape: int) -> None:
    assert _series(scrapes[scrape - 1]["exposition"]) == {
        "test_domain_Containers_Count": float(scrape),
        'test_domain_Containers_Table{key="only"}': float(scrape),
    }
