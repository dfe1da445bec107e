"""Lint a configuration against the beans it ran over: dead rules, collisions and names that break conventions.

Findings, each tied to a rule where there is one:

- a rule that can never match: written as an ObjectName (``domain:key=value``), key properties joined by ``,``
  without the space, or key properties in an order no bean registers them in (found by trying the bean's keys in
  other orders with the rule's own regex);
- a rule that matched nothing: every string it matches was decided by an earlier rule (first match wins), or
  nothing in the input looks like it;
- a rule that matched but exported nothing (every match dropped: string without ``value``, empty name ...);
- series that collided (same name and labels from several beans: jmx_exporter 1.x adds ``_objectname``);
- names and labels that break Prometheus conventions: upper case, non-base units, a reserved suffix the client
  library strips (``_total`` on a gauge), ``:`` (reserved for recording rules), labels that clash with target labels;
- the configuration's warnings: what jmx_exporter 1.6 loads silently but reads otherwise than it looks
  (``Config.warnings``, also logged at start-up).

A rule may say that a finding is expected, in a comment of its own (jmx_exporter never sees comments):
``# lint: expected unused: trino.node:name=CoordinatorNodeManager exists on Trino 477+ only``. A pack written for
several product versions names beans that a capture of one version lacks; such findings are still reported, with
the reason, but do not count against ``--strict``. A ``# lint:`` comment that does not parse is a finding itself.

The strings are produced by the rule engine itself (a trace with a match-everything rule of the same kind), and each
rule is tested with its own compiled regex: the lint never re-implements matching.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from exporter.config.model import Config, ConfigWarning, MetricType, Rule
from exporter.output.families import OBJECTNAME_LABEL
from exporter.records.mbeans import MBean
from exporter.rules.engine import Drop, Outcome, RuleEngine, Sample
from exporter.tooling.evaluation import Evaluation
from exporter.tooling.series import Series

_OBJECTNAME_FORM = re.compile(r"^\^?(?:[\w.*?\-]|\\.)+:[A-Za-z_][\w.\-]*=")
_COMMA_WITHOUT_SPACE = re.compile(r"=[^<>,\s]*,(?:\\?[A-Za-z_])[\w.\-]*=")
_PATTERN_KEY = re.compile(r"([A-Za-z_][\w.\-]*)=")
_NON_BASE_UNITS = {
    **dict.fromkeys(("ms", "msec", "millis", "milliseconds", "us", "micros", "microseconds", "ns", "nanos",
                     "nanoseconds", "sec", "secs", "minutes", "hours", "days"), "seconds"),
    **dict.fromkeys(("kb", "mb", "gb", "kib", "mib", "gib", "kilobytes", "megabytes", "gigabytes"), "bytes"),
    "percent": "a ratio (0-1)",
}
_RESERVED_SUFFIXES = ("_total", "_created", "_bucket", "_info")
TARGET_LABELS = frozenset({"job", "instance", "cluster", "service", "env", "namespace", "pod"})
_MAX_ORDER_TRIES = 200_000
_EXAMPLES = 3


# The kinds a rule's marker may expect; "marker" (a marker that does not parse) is never expected.
KINDS = ("never-matches", "unused", "drops-all", "collision", "naming")
_MARKER_PREFIX = "lint:"
_MARKER = re.compile(r"expected\s+([\w-]+(?:\s*,\s*[\w-]+)*)\s*:\s*(\S.*)")


@dataclass(frozen=True, slots=True)
class Finding:
    """One lint finding. ``kind`` is a stable short word: never-matches, unused, drops-all, collision, naming,
    marker, config. ``expected`` is the reason a ``# lint: expected`` comment of the rule gives, when it names the
    kind."""

    kind: str
    rule_index: int | None
    message: str
    examples: tuple[str, ...] = ()
    expected: str | None = None


def lint(evaluation: Evaluation, beans: Sequence[MBean]) -> list[Finding]:
    """Every finding, rules in order first, then collisions."""
    config = evaluation.config
    findings: list[Finding] = []
    decided: Counter[int] = Counter(o.rule_index for o in evaluation.outcomes if o.rule_index is not None)
    if not config.implicit_default_rule:
        unused = [rule for rule in config.rules if decided[rule.index] == 0]
        findings.extend(_unused(config, unused, evaluation.outcomes, beans))
        findings.extend(_drops_all(config, evaluation.outcomes, decided))
    findings.extend(_naming(config, evaluation.series, evaluation.rule_of))
    findings.extend(_collisions(evaluation))
    findings.extend(Finding("config", None, _where(warning) + warning.message) for warning in config.warnings)
    findings = _apply_markers(config, findings)
    findings.sort(key=lambda f: (f.rule_index is None, f.rule_index or 0))
    return findings


def unexpected(findings: Iterable[Finding]) -> list[Finding]:
    """The findings no marker of the rule file expects: what ``--strict`` fails on."""
    return [finding for finding in findings if finding.expected is None]


# -- findings the rule file expects ----------------------------------------------------------------------------------


def _apply_markers(config: Config, findings: list[Finding]) -> list[Finding]:
    """Mark the findings a rule's ``# lint: expected`` comments name; markers that do not parse become findings."""
    reasons: dict[tuple[int, str], str] = {}
    problems: list[Finding] = []
    for rule in config.rules:
        for line, text in rule.comments:
            if not text.startswith(_MARKER_PREFIX):
                continue
            parsed = _marker(text[len(_MARKER_PREFIX):].strip())
            if isinstance(parsed, str):
                problems.append(Finding("marker", rule.index, f"the comment on line {line} {parsed}"))
                continue
            kinds, reason = parsed
            for kind in kinds:
                reasons.setdefault((rule.index, kind), reason)
    marked = [
        dataclasses.replace(finding, expected=reasons.get((finding.rule_index, finding.kind)))
        if finding.rule_index is not None else finding
        for finding in findings
    ]
    return marked + problems


def _marker(text: str) -> tuple[tuple[str, ...], str] | str:
    """The kinds and the reason of a marker's text (after ``lint:``), or what is wrong with it."""
    match = _MARKER.fullmatch(text)
    if match is None:
        return "does not read '# lint: expected KIND[, KIND ...]: why'"
    kinds = tuple(kind.strip() for kind in match.group(1).split(","))
    for kind in kinds:
        if kind not in KINDS:
            guess = next(iter(difflib.get_close_matches(kind, KINDS, n=1, cutoff=0.6)), None)
            hint = f" (did you mean '{guess}'?)" if guess else ""
            return f"expects '{kind}', which is not a kind of finding{hint}: {', '.join(KINDS)}"
    return kinds, match.group(2).strip()


def _where(warning: ConfigWarning) -> str:
    line = f" (line {warning.line})" if warning.line is not None else ""
    return f"{warning.path}{line}: " if warning.path else f"line {warning.line}: " if line else ""


# -- rules that decided nothing --------------------------------------------------------------------------------------


def _unused(config: Config, rules: list[Rule], outcomes: Sequence[Outcome], beans: Sequence[MBean]) -> list[Finding]:
    findings = []
    strings: dict[object, list[Outcome]] = {}
    by_name = {bean.object_name: bean for bean in beans}
    for rule in rules:
        variant = (rule.cache, rule.attr_name_snake_case)
        if variant not in strings:
            strings[variant] = _match_strings(config, beans, *variant)
        subjects = strings[variant]
        if rule.regex is None:
            findings.append(Finding("unused", rule.index, "matched nothing: no attribute reached it"))
            continue
        fullmatch = rule.regex.fullmatch
        if len(subjects) == len(outcomes):
            taken = sorted({f"rules[{outcomes[i].rule_index}]" for i, s in enumerate(subjects)
                            if outcomes[i].rule_index is not None and fullmatch(s.match)},
                           key=lambda text: int(text[6:-1]))
            if taken:
                findings.append(Finding(
                    "unused", rule.index,
                    f"matched nothing: every string it matches was decided first by {', '.join(taken)} "
                    "(the first matching rule wins, even when it drops the attribute)"))
                continue
        if (variant, False) not in strings:
            strings[(variant, False)] = _match_strings(config, beans, *variant, filtered=False)
        hidden = next((s for s in strings[(variant, False)] if s.rule_index is not None and fullmatch(s.match)), None)
        if hidden is not None and not any(fullmatch(s.match) for s in subjects if s.rule_index is not None):
            findings.append(Finding(
                "unused", rule.index,
                "matched nothing: the attributes it matches belong to beans (or are attributes) that "
                "includeObjectNames/excludeObjectNames or the attribute filters leave out",
                (f"e.g. {hidden.object_name} {hidden.attribute}",)))
            continue
        findings.append(_never_matches(rule, subjects, by_name))
    return findings


def _match_strings(
    config: Config, beans: Iterable[MBean], cache: bool, snake: bool, filtered: bool = True
) -> list[Outcome]:
    """The strings rules of this kind see, one per record, in trace order (a match-everything rule's trace).

    With ``filtered`` False the bean and attribute filters are lifted, to tell a rule that only matches filtered
    beans; the outcomes then no longer line up with the real trace.
    """
    probe = dataclasses.replace(
        config, rules=(Rule(index=0, cache=cache, attr_name_snake_case=snake),), implicit_default_rule=False
    )
    if not filtered:
        probe = dataclasses.replace(
            probe, include_object_names=(), exclude_object_names=(), include_object_name_attributes=(),
            exclude_object_name_attributes=(),
        )
    return RuleEngine(probe).trace(beans)


def _never_matches(rule: Rule, subjects: Sequence[Outcome], beans: dict[str, MBean]) -> Finding:
    pattern = rule.pattern or ""
    if _OBJECTNAME_FORM.search(pattern):
        return Finding("never-matches", rule.index,
                       "can never match: written as an ObjectName (domain:key=value), but patterns see "
                       "'domain<key=value, key2=value2><attrKeys>attrName: value'")
    if _COMMA_WITHOUT_SPACE.search(pattern):
        return Finding("never-matches", rule.index,
                       "can never match: key properties are joined by ', ' (a comma and a space) in the string "
                       "patterns see, not by ','")
    reordered = _reordered_match(rule, subjects, beans)
    if reordered is not None:
        would, registered = reordered
        return Finding("never-matches", rule.index,
                       "can never match: its key properties are in an order no bean registers them in "
                       "(patterns see keys in registration order)",
                       (f"would match: {would}", f"but the bean is: {registered}"))
    return Finding("unused", rule.index, "matched nothing in this input")


def _reordered_match(rule: Rule, subjects: Sequence[Outcome], beans: dict[str, MBean]) -> tuple[str, str] | None:
    """A string the rule would match if some bean's keys came in another order, and that bean's real name."""
    assert rule.regex is not None
    mentioned = _PATTERN_KEY.findall(rule.pattern or "")
    if not mentioned:
        return None
    tries = 0
    for outcome in subjects:
        bean = beans.get(outcome.object_name)
        if bean is None or outcome.rule_index is None or not 2 <= len(bean.properties) <= 5:
            continue
        keys = [k for k, _ in bean.properties]
        if not set(mentioned) <= set(keys) or keys[: len(mentioned)] == mentioned:
            continue
        head = f"{bean.domain}<{', '.join(f'{k}={v}' for k, v in bean.properties)}"
        if not outcome.match.startswith(head):
            continue
        tail = outcome.match[len(head):]
        for order in itertools.permutations(bean.properties):
            if order == bean.properties:
                continue
            tries += 1
            candidate = f"{bean.domain}<{', '.join(f'{k}={v}' for k, v in order)}{tail}"
            if rule.regex.fullmatch(candidate):
                return candidate, bean.object_name
            if tries > _MAX_ORDER_TRIES:
                return None
    return None


# -- rules that matched but exported nothing -------------------------------------------------------------------------


def _drops_all(config: Config, outcomes: Sequence[Outcome], decided: Counter[int]) -> list[Finding]:
    exported: Counter[int] = Counter()
    reasons: dict[int, Counter[str]] = defaultdict(Counter)
    for outcome in outcomes:
        if outcome.rule_index is None:
            continue
        if isinstance(outcome.result, Sample):
            exported[outcome.rule_index] += 1
        elif isinstance(outcome.result, Drop):
            reasons[outcome.rule_index][outcome.result.reason.value] += 1
    findings = []
    for rule in config.rules:
        if decided[rule.index] and not exported[rule.index]:
            why = "; ".join(f"{text} ({count})" for text, count in reasons[rule.index].most_common())
            findings.append(Finding("drops-all", rule.index,
                                    f"matched {decided[rule.index]} attribute(s) but exported none: {why}"))
    return findings


# -- names -----------------------------------------------------------------------------------------------------------


def _naming(config: Config, series: Sequence[Series], rule_of: dict[str, int]) -> list[Finding]:
    problems: dict[tuple[int | None, str], list[str]] = defaultdict(list)
    seen: set[tuple[int | None, str, str]] = set()

    def note(rule: int | None, message: str, example: str) -> None:
        if (rule, message, example) not in seen:
            seen.add((rule, message, example))
            problems[(rule, message)].append(example)

    for item in series:
        rule = rule_of.get(item.sample.match)
        name = item.name
        if name != name.lower():
            note(rule, "names are not snake_case (upper case letters); lower-case names, or lowercaseOutputName: "
                 "true, follow the Prometheus convention (but change names dashboards may use)", name)
        if ":" in name:
            note(rule, "names contain ':', which Prometheus reserves for recording rules", name)
        unit = name.lower().removesuffix("_total").rsplit("_", 1)[-1]
        if unit in _NON_BASE_UNITS:
            note(rule, f"names end in a non-base unit ('{unit}'): use {_NON_BASE_UNITS[unit]} with valueFactor",
                 name)
        for label, _ in item.labels:
            if label in TARGET_LABELS:
                note(rule, f"label '{label}' clashes with a label Prometheus or Kubernetes discovery puts on the "
                     "target (Prometheus renames it to exported_" + label + ")", name)
            elif label.startswith("__"):
                note(rule, f"label '{label}' starts with '__', which Prometheus reserves", name)
    for rule in config.rules:
        if rule.name is None:
            continue
        suffix = next((s for s in _RESERVED_SUFFIXES if rule.name.endswith(s)), None)
        if suffix == "_total" and rule.type is MetricType.COUNTER:
            continue
        if suffix is not None and not (suffix == "_total" and config.infer_counter_type_from_name):
            note(rule.index, f"the name ends in '{suffix}', which the Prometheus client library strips "
                 f"({'_total belongs to counters: ' if suffix == '_total' else ''}the series is exposed without it)",
                 rule.name)
    return [Finding("naming", rule, message, _examples(examples)) for (rule, message), examples in problems.items()]


def _examples(items: Sequence[str]) -> tuple[str, ...]:
    more = (f"... {len(items) - _EXAMPLES} more",) if len(items) > _EXAMPLES else ()
    return (*items[:_EXAMPLES], *more)


# -- collisions ------------------------------------------------------------------------------------------------------


def _collisions(evaluation: Evaluation) -> list[Finding]:
    findings = []
    for family in evaluation.families:
        if family.name not in evaluation.collided:
            continue
        beans = sorted({s.object_name for s in family.samples})
        rules = sorted({evaluation.rule_of[s.match] for s in family.samples if s.match in evaluation.rule_of})
        origins = [dict(s.labels).get(OBJECTNAME_LABEL, "") for s in family.samples]
        findings.append(Finding(
            "collision", rules[0] if len(rules) == 1 else None,
            f"series of {family.name} collided: {len(family.samples)} series from {len(beans)} bean(s) had the same "
            f"name and labels, so each got an {OBJECTNAME_LABEL} label; add a label that tells them apart",
            _examples(origins)))
    return findings
