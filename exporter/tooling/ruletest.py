"""Check one test case: compare the series a scrape would expose with the expected and absent ones."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import Enum

from exporter.rules.engine import Drop, DropReason
from exporter.tooling.evaluation import Evaluation, evaluate
from exporter.tooling.series import Labels, Series, same_value
from exporter.tooling.testfile import Case, SeriesSpec


class Kind(Enum):
    MISSING = "missing"
    WRONG_VALUE = "wrong value"
    WRONG_TYPE = "wrong type"
    UNEXPECTED = "unexpected"


@dataclass(frozen=True, slots=True)
class Problem:
    """One difference. ``spec`` is the test file's entry (None for a series exhaustive found unlisted)."""

    kind: Kind
    spec: SeriesSpec | None
    actual: Series | None = None
    same_name: tuple[Series, ...] = ()  # for MISSING: what the name has instead
    similar_names: tuple[str, ...] = ()  # for MISSING when the name is not produced at all


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: Case
    evaluation: Evaluation
    problems: tuple[Problem, ...]

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def filtered_beans(self) -> tuple[str, ...]:
        """The input's beans that includeObjectNames/excludeObjectNames leave out (a reason for a missing series)."""
        names = dict.fromkeys(o.object_name for o in self.evaluation.outcomes
                              if isinstance(o.result, Drop) and o.result.reason is DropReason.FILTERED_BEAN)
        return tuple(names)


def run_case(case: Case) -> CaseResult:
    evaluation = evaluate(case.config, case.beans)
    by_key = {series.key: series for series in evaluation.series}
    by_name: dict[str, list[Series]] = {}
    for series in evaluation.series:
        by_name.setdefault(series.name, []).append(series)
    problems: list[Problem] = []
    for spec in case.expect:
        problems.extend(_check_expected(spec, by_key, by_name))
    for spec in case.absent:
        hits = by_name.get(spec.name, []) if spec.labels is None else [
            s for s in [by_key.get((spec.name, spec.labels))] if s is not None
        ]
        problems.extend(Problem(Kind.UNEXPECTED, spec, series) for series in hits)
    if case.exhaustive:
        listed = {(spec.name, spec.labels) for spec in case.expect}
        problems.extend(Problem(Kind.UNEXPECTED, None, s) for s in evaluation.series if s.key not in listed)
    return CaseResult(case, evaluation, tuple(problems))


def _check_expected(
    spec: SeriesSpec, by_key: dict[tuple[str, Labels], Series], by_name: dict[str, list[Series]]
) -> list[Problem]:
    labels = spec.labels or ()
    actual = by_key.get((spec.name, labels))
    if actual is None:
        others = tuple(by_name.get(spec.name, ())[:3])
        similar = () if others else tuple(difflib.get_close_matches(spec.name, list(by_name), n=3, cutoff=0.75))
        return [Problem(Kind.MISSING, spec, None, others, similar)]
    problems = []
    if spec.value is not None and not same_value(spec.value, actual.value):
        problems.append(Problem(Kind.WRONG_VALUE, spec, actual))
    if spec.type is not None and spec.type is not actual.type:
        problems.append(Problem(Kind.WRONG_TYPE, spec, actual))
    return problems
