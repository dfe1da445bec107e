"""Render test-rules results: one line per test, and for a failing one a diff that says what to look at.

    FAIL rules/tests/trino.yml:4 tests[0] "cluster memory pool"
      - trino_clustermemorypool_general_FreeDistributedByte 5.0
          missing (expect[0], line 6); no series of this name, similar names: trino_..._FreeDistributedBytes
      ~ trino_execution_querymanager_RunningQueries: expected 3.0, got 2.0
          wrong value (expect[1], line 9)
          made by rules[2] (line 20) from trino.execution<name=QueryManager><>RunningQueries: 2
      + trino_clustermemorymanager_ClusterMemoryBytes 6.8719476736e+10
          unexpected (absent[0], line 14)
          made by rules[0] (line 14) from trino.memory<name=ClusterMemoryManager><>ClusterMemoryBytes: 68719476736

``-`` is expected but not produced, ``+`` produced but not wanted, ``~`` produced differently.
"""

from __future__ import annotations

from exporter.tooling.ruletest import CaseResult, Kind, Problem
from exporter.tooling.series import Series, format_series, format_value


def _entry(problem: Problem) -> str:
    spec = problem.spec
    if spec is None:
        return "not under expect; the test is exhaustive"
    short = spec.path.rsplit(".", 1)[-1]
    return f"{short}, line {spec.line}" if spec.line is not None else short


def _origin(result: CaseResult, series: Series) -> str:
    sample = series.sample
    index = result.evaluation.rule_of.get(sample.match)
    rules = result.evaluation.config.rules
    if index is None:
        rule = "no rule"
    elif result.evaluation.config.implicit_default_rule:
        rule = "the default rule"
    else:
        line = rules[index].line
        rule = f"rules[{index}]" + (f" (line {line})" if line is not None else "")
    return f"made by {rule} from {sample.match}"


def render_problem(result: CaseResult, problem: Problem) -> list[str]:
    spec, actual = problem.spec, problem.actual
    if problem.kind is Kind.MISSING:
        assert spec is not None and spec.value is not None
        lines = [f"  - {format_series(spec.name, spec.labels or (), spec.value)}"]
        hint = f"      missing ({_entry(problem)})"
        if problem.same_name:
            shown = ", ".join(format_series(s.name, s.labels, s.value) for s in problem.same_name)
            hint += f"; this name has other labels: {shown}"
        elif problem.similar_names:
            hint += f"; no series of this name, similar names: {', '.join(problem.similar_names)}"
        else:
            hint += "; no series of this name"
        filtered = result.filtered_beans
        if filtered and not problem.same_name:
            shown = f" ({', '.join(filtered)})" if len(filtered) <= 3 else ""
            hint += f"; {len(filtered)} MBean(s) of the input are not selected by includeObjectNames/" \
                    f"excludeObjectNames{shown}"
        return [*lines, hint]
    assert actual is not None
    if problem.kind is Kind.WRONG_VALUE:
        assert spec is not None and spec.value is not None
        return [
            f"  ~ {format_series(actual.name, actual.labels)}: expected {format_value(spec.value)}, "
            f"got {format_value(actual.value)}",
            f"      wrong value ({_entry(problem)})",
            f"      {_origin(result, actual)}",
        ]
    if problem.kind is Kind.WRONG_TYPE:
        assert spec is not None and spec.type is not None
        return [
            f"  ~ {format_series(actual.name, actual.labels)}: expected type {spec.type.value}, "
            f"got {actual.type.value}",
            f"      wrong type ({_entry(problem)})",
            f"      {_origin(result, actual)}",
        ]
    return [
        f"  + {format_series(actual.name, actual.labels, actual.value)}",
        f"      unexpected ({_entry(problem)})",
        f"      {_origin(result, actual)}",
    ]


def render_result(result: CaseResult, file_label: str) -> list[str]:
    case = result.case
    where = f"{file_label}:{case.line}" if case.line is not None else file_label
    head = f"{'ok  ' if result.passed else 'FAIL'} {where} {case.path} \"{case.name}\""
    if result.passed:
        exhaustive = ", exhaustive" if case.exhaustive else ""
        return [f"{head} ({len(case.expect)} expected, {len(case.absent)} absent{exhaustive})"]
    lines = [head]
    for problem in result.problems:
        lines.extend(render_problem(result, problem))
    return lines
