"""A scrape's family layout with its lines prerendered up to the values, reused while the rule verdicts stay the same.

The rule engine's memo gives the same verdict objects, in the same order, while only values change; the grouping
into families and every line's text up to its value are then the same too, and a scrape only formats its numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

from exporter.config.model import MetricType
from exporter.output.exposition import FamilyShape, Prerendered
from exporter.output.families import Layout
from exporter.rules.engine import Collected, RuleEngine


class Rendering:
    """A family layout and its prerendered texts, valid for scrapes whose verdicts are these same objects.

    Of the layout's families it keeps only their shapes: the Sample objects, with their help and match strings,
    would be several MB kept between scrapes for nothing.
    """

    def __init__(self, engine: RuleEngine, verdicts: list[object], layout: Layout) -> None:
        self.engine = engine
        self.verdicts = verdicts
        self.order = layout.order
        self.stable = layout.stable
        self._shapes = [FamilyShape.of(family) for family in layout.families]
        self._texts: dict[bool, Prerendered] = {}
        self._counters = _counter_families(self._shapes)

    def invalid_counters(self, values: Sequence[float]) -> tuple[tuple[int, ...], str]:
        """Indices of COUNTER samples whose value is negative or NaN, and the first such family's name."""
        invalid = tuple(index for index in self._counters if not values[index] >= 0)  # NaN fails >= too
        return (invalid, self._counters[invalid[0]]) if invalid else ((), "")

    def reusable_for(self, engine: RuleEngine, rows: Collected) -> bool:
        # List equality checks identity first, so this costs one pointer comparison per sample.
        return self.stable and self.engine is engine and self.verdicts == rows.verdicts

    def text(self, openmetrics: bool) -> Prerendered:
        prerendered = self._texts.get(openmetrics)
        if prerendered is None:  # two threads may both build it: harmless
            prerendered = self._texts[openmetrics] = Prerendered(self._shapes, openmetrics)
        return prerendered


def _counter_families(families: Sequence[FamilyShape]) -> dict[int, str]:
    """Family name by sample index (in exposition order) of every COUNTER family sample."""
    counters: dict[int, str] = {}
    start = 0
    for family in families:
        if family.type is MetricType.COUNTER:
            counters.update((start + offset, family.name) for offset in range(len(family.labels)))
        start += len(family.labels)
    return counters
