"""Render explain's report: per attribute the string the patterns see, the deciding rule and the result.

    trino.memory:type=ClusterMemoryPool,name=general
      FreeDistributedBytes
        string   trino.memory<type=ClusterMemoryPool, name=general><>FreeDistributedBytes: 49392123904
        rule     rules[1] (line 17): trino.memory<type=ClusterMemoryPool, name=(.*)><>(.+):
        series   trino_clustermemorypool_general_FreeDistributedBytes 4.9392123904e+10 (gauge)

Beans that includeObjectNames/excludeObjectNames leave out get one line each.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence

from exporter.config.model import Config
from exporter.records.mbeans import MBean
from exporter.rules.engine import Drop, DropReason, Outcome, Sample
from exporter.tooling.evaluation import Evaluation
from exporter.tooling.lint import Finding
from exporter.tooling.selection import BeanSelection
from exporter.tooling.series import Series, format_series


def rule_text(config: Config, index: int | None, with_pattern: bool = True) -> str:
    """``rules[1] (line 17): PATTERN``, or the implicit default rule."""
    if index is None:
        return "none"
    if config.implicit_default_rule:
        return "the default rule (the config has no 'rules': every attribute in the default format)"
    rule = config.rules[index]
    head = f"rules[{index}]" + (f" (line {rule.line})" if rule.line is not None else "")
    if not with_pattern:
        return head
    return f"{head}: {rule.pattern}" if rule.pattern is not None else f"{head}: no pattern, matches everything"


def _drop_text(drop: Drop) -> str:
    text = drop.reason.value
    return f"{text}: {drop.detail}" if drop.detail else text


def render_outcomes(
    evaluation: Evaluation,
    beans: Sequence[MBean],
    selection: BeanSelection,
    attribute: str | None,
) -> tuple[list[str], int]:
    """The report lines for the selected beans and attributes, and how many records (or left-out beans) they show."""
    config = evaluation.config
    by_match: dict[str, Series] = {s.sample.match: s for s in evaluation.series}
    by_bean: dict[str, list[Outcome]] = {}
    for outcome in evaluation.outcomes:
        by_bean.setdefault(outcome.object_name, []).append(outcome)
    lines: list[str] = []
    filtered: list[str] = []
    shown = 0
    for bean in sorted(beans, key=lambda b: b.object_name):
        if not selection.selects(bean):
            continue
        outcomes = [o for o in by_bean.get(bean.object_name, ())
                    if attribute is None or fnmatch.fnmatchcase(o.attribute, attribute)]
        if not outcomes:
            continue
        if all(isinstance(o.result, Drop) and o.result.reason is DropReason.FILTERED_BEAN for o in outcomes):
            filtered.append(bean.object_name)
            continue
        lines.append(bean.object_name)
        for outcome in outcomes:
            shown += 1
            lines.extend(_record(config, outcome, by_match))
    if filtered:
        if selection.patterns:
            lines.extend(f"{name}\n  not selected by includeObjectNames/excludeObjectNames" for name in filtered)
            shown += len(filtered)
        else:
            lines.append(f"({len(filtered)} MBeans not selected by includeObjectNames/excludeObjectNames are not "
                         "shown; name one with --bean to see it)")
    return lines, shown


def _record(config: Config, outcome: Outcome, by_match: dict[str, Series]) -> list[str]:
    out = [f"  {outcome.attribute}", f"    string   {outcome.match}"]
    result = outcome.result
    if outcome.rule_index is not None or isinstance(result, Sample):
        out.append(f"    rule     {rule_text(config, outcome.rule_index)}")
    elif isinstance(result, Drop) and result.reason is DropReason.NO_MATCH:
        out.append("    rule     none matched")
    if isinstance(result, Sample):
        series = by_match.get(result.match)
        if series is None:
            out.append(f"    dropped  an identical series from another bean was kept ({result.name})")
        else:
            out.append(f"    series   {format_series(series.name, series.labels, series.value)} "
                       f"({series.type.value})")
    elif isinstance(result, Drop) and result.reason is not DropReason.NO_MATCH:
        out.append(f"    dropped  {_drop_text(result)}")
    return out


def render_findings(config: Config, findings: Iterable[Finding]) -> list[str]:
    """``lint: N findings[, M expected]``, then each finding; an expected one says so and gives the rule's reason."""
    items = list(findings)
    expected = sum(1 for finding in items if finding.expected is not None)
    lines = [f"lint: {len(items)} finding{'s' if len(items) != 1 else ''}" + (f", {expected} expected" if expected
                                                                              else "")]
    for finding in items:
        who = rule_text(config, finding.rule_index, with_pattern=False) if finding.rule_index is not None else ""
        if config.implicit_default_rule and finding.rule_index is not None:
            who = "the default rule"
        tag = f"{finding.kind}, expected" if finding.expected is not None else finding.kind
        lines.append(f"  [{tag}] {who + ' ' if who else ''}{finding.message}")
        if finding.rule_index is not None and not config.implicit_default_rule:
            pattern = config.rules[finding.rule_index].pattern
            if pattern is not None and finding.kind in ("never-matches", "unused"):
                lines.append(f"      pattern: {pattern}")
        lines.extend(f"      {example}" for example in finding.examples)
        if finding.expected is not None:
            lines.append(f"      expected: {finding.expected}")
    return lines
