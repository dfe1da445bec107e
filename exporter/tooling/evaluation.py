"""Run a configuration over beans exactly as a scrape does, keeping what explain and test-rules need to know."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from exporter.config.model import Config
from exporter.output.families import OBJECTNAME_LABEL, Family, build_families
from exporter.records.mbeans import MBean
from exporter.rules.engine import Outcome, RuleEngine, Sample
from exporter.tooling.series import Series, series_of


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Every record's outcome (``RuleEngine.trace``), the families a scrape would expose and their series.

    ``rule_of`` maps a sample's match string to the index of the rule that made it; ``collided`` holds the
    families whose members got an ``_objectname`` label because two of them had the same name and labels.
    """

    config: Config
    outcomes: tuple[Outcome, ...]
    families: tuple[Family, ...]
    series: tuple[Series, ...]
    rule_of: dict[str, int]
    collided: frozenset[str]


def evaluate(config: Config, beans: Iterable[MBean]) -> Evaluation:
    """The scrape path (trace runs the same code as evaluate), then build_families as the collector does."""
    outcomes = tuple(RuleEngine(config).trace(beans))
    samples: list[Sample] = []
    rule_of: dict[str, int] = {}
    for outcome in outcomes:
        if isinstance(outcome.result, Sample):
            samples.append(outcome.result)
            if outcome.rule_index is not None:
                rule_of[outcome.result.match] = outcome.rule_index
    originally_labelled = {s.name for s in samples if any(k == OBJECTNAME_LABEL for k, _ in s.labels)}
    families = tuple(build_families(samples))
    collided = frozenset(
        f.name for f in families
        if f.name not in originally_labelled and any(k == OBJECTNAME_LABEL for s in f.samples for k, _ in s.labels)
    )
    return Evaluation(config, outcomes, families, tuple(series_of(families)), rule_of, collided)
