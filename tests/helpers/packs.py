"""The shipped rule packs over the sample dumps in examples/dumps/, through ``presto-jmx-exporter scrape``."""

from __future__ import annotations

import functools
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from exporter.scrape.scraper import SELF_METRIC_NAMES

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
DUMPS = ROOT / "examples" / "dumps"
# Every product line: prestodb, PrestoSQL, Trino 476 ("trino"), 479 and 483.
PROFILES = ("prestodb", "prestosql", "trino", "trino479", "trino483")
PACKS = ("coordinator.yml", "presto.yml", "prestodb.yml", "trino.yml", "worker.yml")
# The exporter's own series: its family names, counters with the _total their samples carry.
SELF_METRICS = SELF_METRIC_NAMES | {f"{name}_total" for name in SELF_METRIC_NAMES}

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Series:
    """One sample of a scrape, with its family's type and its labels sorted."""

    name: str
    type: str
    labels: Labels
    value: float


def dump_path(profile: str) -> Path:
    """The shipped coordinator dump of ``profile``."""
    return DUMPS / f"{profile}-coordinator.json"


def worker_dump_path(profile: str) -> Path:
    """The shipped worker dump of ``profile``."""
    return DUMPS / "worker" / f"{profile}-worker.json"


def require_dumps() -> None:
    """Skip the test when a sample dump has not been generated."""
    missing = [p for p in PROFILES if not dump_path(p).is_file()]
    if missing:
        pytest.skip(f"sample dumps not generated yet: {missing} (python -m tests.fixture.make_dumps)")


@functools.cache
def scrape_text(config: Path, profile: str) -> str:
    """The exposition text of one `scrape` of a dump with a rule file."""
    result = subprocess.run(
        [sys.executable, "-m", "exporter", "scrape", "--config", str(config), "--target", str(dump_path(profile))],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, f"{config.name} over {profile}: {result.stderr}"
    return result.stdout


@functools.cache
def scrape(config: Path, profile: str) -> tuple[Series, ...]:
    """One `scrape` of a dump with a rule file, parsed; self metrics left out."""
    series = []
    for family in text_string_to_metric_families(scrape_text(config, profile)):
        for sample in family.samples:
            if sample.name in SELF_METRICS:
                continue
            series.append(Series(sample.name, family.type, tuple(sorted(sample.labels.items())), sample.value))
    return tuple(series)


def produced_series(pack: str) -> dict[str, set[Labels]]:
    """Series name -> label sets, over every sample dump (for the deployment-kit checks)."""
    require_dumps()
    produced: dict[str, set[Labels]] = {}
    for profile in PROFILES:
        for series in scrape(RULES / pack, profile):
            produced.setdefault(series.name, set()).add(series.labels)
    return produced
