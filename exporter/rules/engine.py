"""The rule engine: MBean records in, samples out, with jmx_exporter 1.x semantics. Pure: no I/O, no logging.

For every selected bean and attribute the engine flattens the value the way jmx_exporter's scraper does, builds
the string rules are matched against::

    domain<k1=v1, k2=v2><attrKey1, attrKey2>attrName: value

and runs the rules in order; the first whose ``^.*(?:PATTERN).*$`` matches the whole string decides, even if it then
drops the attribute. ``evaluate`` returns the samples; ``trace`` returns one ``Outcome`` per record (a Sample or a
Drop with its reason, plus the match string and the deciding rule) and runs the same code.

Flattening:
- CompositeData: one record per item (items in sorted order), ``attrKeys`` extended by the attribute name.
- TabularData: per row, the index columns become extra key properties (``_`` appended to a name already taken;
  a composite index ``k`` adds ``k_<item>`` for each item); every other column is a record with ``attrKeys``
  extended by the attribute name, except a column named ``value`` (any case), which keeps the attribute's own name.
  When the source cannot tell the index columns (REST: ``Tabular.index_names`` is empty) the row's string-valued
  columns other than ``value`` are taken as the index; that is exactly right for the ``Map``-shaped tables (key,
  value) that MXBeans expose.
- ``java.lang:type=Runtime`` ``SystemProperties``, ``ClassPath``, ``BootClassPath``, ``LibraryPath`` and the
  whole ``jdk.management.jfr:type=FlightRecorder`` bean are skipped, as jmx_exporter skips them.

metricCustomizers (jmx_exporter >= 1.2): the first customizer whose filter selects a bean (one with an attribute the
attribute filters keep) adds its ``attributesAsLabels`` to every sample of the bean (after the default format's key
property labels, before a named rule's) and its ``extraMetrics`` as records of the bean, before its attributes,
matched by the rules like them.

A rule jmx_exporter loads but cannot apply (a FailingReplacement template) gives no sample where it matches, and
``Collected.errors`` says where, for the scrape to report: jmx_exporter's scrape fails there. Such outcomes are never
remembered, so they recur as they do there.

Values print as Java's ``toString()``: ``345``, ``0.5``, ``100.0`` for a double (even when JSON gave an integer),
``1.573285945111E9``, ``NaN``, ``true``. A ``cache: true`` rule sees ``<cache>`` instead, and its result for a
(bean, attribute) is kept until a scrape no longer sees that attribute, as jmx_exporter's rule cache does.

Names: ``name`` is expanded, sanitised (``[^a-zA-Z0-9:_]`` -> ``_``, runs of ``_`` merged, leading digit
prefixed), lowercased with ``lowercaseOutputName``, and finally stripped of ``_total``/``_created``/``_bucket``/
``_info`` as client_java 1.x does (a counter gets ``_total`` back when rendered). ``inferCounterTypeFromName``
makes a name ending in ``_total`` (before stripping) a counter.

Verdict memo: the outcome of running the rules on one record is remembered from one scrape to the next and reused
when it is provably the same. With every rule value-blind (:mod:`exporter.rules.valueblind`) and no ``cache: true``
rule, a numeric or boolean record is looked up by ``(prefix, attrName)`` alone, before its match string is built;
otherwise by the full match string (value included). Only records seen in the last scrape are kept, so the memo is
bounded by one scrape's size. A bean's attribute labels are part of the key, so a changed label value makes a fresh
verdict. There is one evaluation: ``collect`` serves the scrape, and ``evaluate`` and ``trace``
(what ``explain`` and ``test-rules`` read) are ``collect`` with its results kept in another form.
"""

from __future__ import annotations

import functools
import operator
import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

from exporter.config.model import Config, MetricCustomizer, MetricType, Rule, RuleFailure
from exporter.records.javanum import double_to_string, float_to_string, parse_double, to_double
from exporter.records.mbeans import DOUBLE_TYPES, Attribute, Composite, MBean, Tabular, Unsupported, Value
from exporter.rules.naming import safe_label_name, safe_name, snake_case, strip_reserved_suffixes
from exporter.rules.valueblind import match_blind, value_blind, value_tail

# Names repeat from scrape to scrape: remember the sanitised forms (pure functions, bounded memory).
_safe_name = functools.lru_cache(maxsize=1 << 16)(safe_name)
_safe_label_name = functools.lru_cache(maxsize=1 << 12)(safe_label_name)
_snake_case = functools.lru_cache(maxsize=1 << 14)(snake_case)

__all__ = [
    "Collected", "Drop", "DropReason", "MetricType", "Outcome", "RuleEngine", "RuleFailure", "RuleTimeout", "Sample",
    "java_text",
]


class RuleTimeout(Exception):
    """The rules could not be applied within the time allowed; ``str()`` names the rule and the attribute."""

_FLOAT_TYPES = frozenset({"float", "java.lang.Float"})
_SPECIAL_DOUBLES = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}
_RUNTIME_SKIPPED = frozenset({"systemproperties", "classpath", "bootclasspath", "librarypath"})
_BY_NAME = operator.itemgetter(0)
_PLAIN_NUMBERS = frozenset({int, float, bool})
_OPEN_TYPES = frozenset(
    {
        "javax.management.openmbean.CompositeData",
        "javax.management.openmbean.CompositeDataSupport",
        "javax.management.openmbean.TabularData",
        "javax.management.openmbean.TabularDataSupport",
    }
)


class DropReason(Enum):
    """Why a record produced no sample."""

    FILTERED_BEAN = "the MBean is not selected by includeObjectNames/excludeObjectNames"
    FILTERED_ATTRIBUTE = "the attribute is not selected by includeObjectNameAttributes/excludeObjectNameAttributes"
    SKIPPED = "jmx_exporter never reads this attribute"
    NULL_VALUE = "the value is null"
    UNSUPPORTED_TYPE = "the value's type is not exported (arrays, maps, other objects)"
    NO_MATCH = "no rule matched"
    UNPARSABLE_VALUE = "the rule's value did not parse as a number"
    EMPTY_NAME = "the rule's name expanded to an empty string"
    STRING_WITHOUT_VALUE = "the value is a string and the matching rule has no 'value'"
    RULE_FAILED = "the rule cannot be applied, and jmx_exporter fails the scrape here"


@dataclass(frozen=True, slots=True)
class Sample:
    """One exported series.

    ``name`` is the family name without ``_total`` (a COUNTER is rendered with it); ``labels`` are sorted by name;
    ``match`` is the string the rule matched, whose part before the last ``:`` is the ``_objectname`` label value
    jmx_exporter adds when two samples collide.
    """

    name: str
    labels: tuple[tuple[str, str], ...]
    value: float
    type: MetricType
    help: str
    object_name: str
    match: str

    @property
    def origin(self) -> str:
        """The value of the ``_objectname`` label used to tell colliding samples apart."""
        return _origin(self.match)


def _origin(match: str) -> str:
    return match[: match.rfind(":")]


@dataclass(frozen=True, slots=True)
class Drop:
    """A record that produced no sample; ``detail`` adds specifics (the unparsable text, the unsupported type)."""

    reason: DropReason
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one record: ``rule_index`` is the deciding rule (None when no rule was consulted)."""

    object_name: str
    attribute: str
    match: str
    rule_index: int | None
    result: Sample | Drop


@dataclass(frozen=True, slots=True)
class _Matched:
    """A rule's verdict for one (bean, attribute), everything but the value: what a cache entry holds.

    ``help`` and ``match`` are built when read, from the bean's strings, which all its verdicts share: kept
    whole, they would be two long strings per series, kept between scrapes.
    """

    name: str
    labels: tuple[tuple[str, str], ...]
    type: MetricType
    fixed_value: float | None
    value_factor: float
    rule_index: int
    help_text: str | None  # the rule's own help; None: jmx_exporter's, from help_head, attr_name and description
    help_head: str
    attr_name: str
    description: str
    subject: str | None  # the string a variant rule matched; None: the plain one, from prefix, attr_name, value_text
    prefix: str
    value_text: str

    @property
    def help(self) -> str:
        if self.help_text is not None:
            return self.help_text
        return _help(self.help_head, self.attr_name, self.description)

    @property
    def match(self) -> str:
        """The string the rule matched."""
        if self.subject is not None:
            return self.subject
        return self.prefix + self.attr_name + ": " + self.value_text


class _Where(NamedTuple):
    """Where a verdict was made: the strings its help and match are built from (see _Matched)."""

    help_head: str
    attr_name: str
    description: str
    subject: str | None
    prefix: str
    value_text: str


_UNMATCHED = object()
# Seconds one match may run before a timeout blames its pattern rather than the scrape's length.
_BACKTRACKING = 0.1


class _Memo:
    """A remembered rule outcome for one record: ``matched`` None means "no sample", and ``dropped`` then says why
    (for ``trace``). ``cut`` rebuilds the match string (``match[:cut] + value text``) when the value may differ from
    the one the verdict was made with; an offset, not that prefix, so the memo keeps no string per record."""

    __slots__ = ("cut", "description", "dropped", "matched")

    def __init__(self, matched: _Matched | None, cut: int | None, description: str,
                 dropped: _Dropped | None = None) -> None:  # fmt: skip
        self.matched = matched
        self.cut = cut
        self.description = description
        self.dropped = dropped


class _Dropped(NamedTuple):
    """Why a remembered verdict gives no sample: the deciding rule (None: no rule matched), the string it saw."""

    rule_index: int | None
    match: str
    drop: Drop

    def outcome(self, object_name: str, attribute: str, cut: int | None, value: object, java_type: str) -> Outcome:
        return Outcome(object_name, attribute, _rebuilt(self.match, cut, value, java_type), self.rule_index, self.drop)


def _rebuilt(match: str, cut: int | None, value: object, java_type: str) -> str:
    """A remembered match string with this value's text in place of the one it was made with (``cut``: where the
    value starts; None: the string is kept whole)."""
    return match if cut is None else match[:cut] + java_text(value, java_type)


class Collected:
    """One scrape's samples as parallel rows, without building Sample objects.

    ``verdicts[i]`` is the rule verdict (the same object from scrape to scrape while the outcome is reused),
    ``numbers[i]`` the sample value; ``samples()`` builds the full Sample list when it is needed.
    """

    __slots__ = ("errors", "extras", "numbers", "verdicts")

    def __init__(self) -> None:
        self.verdicts: list[_Matched] = []
        self.numbers: list[float] = []
        # (object name, match cut or None, raw value, Java type): what it takes to rebuild Sample.match.
        self.extras: list[tuple[str, int | None, object, str]] = []
        # Rules that could not be applied (RuleFailure), each with where: jmx_exporter fails such a scrape.
        self.errors: list[str] = []

    def __len__(self) -> int:
        return len(self.numbers)

    def views(self) -> list[SampleView]:
        """The rows as samples whose help and match strings are built only when read: a layout reads them only for a
        family's first sample and for colliding samples, so most are never built."""
        return [SampleView(*row) for row in zip(self.verdicts, self.numbers, self.extras, strict=True)]

    def samples(self) -> list[Sample]:
        """The Sample objects, exactly as ``RuleEngine.evaluate`` returns them."""
        out = []
        for matched, number, (object_name, cut, raw, java_type) in zip(
            self.verdicts, self.numbers, self.extras, strict=True
        ):
            match = _rebuilt(matched.match, cut, raw, java_type)
            out.append(Sample(matched.name, matched.labels, number, matched.type, matched.help, object_name, match))
        return out


class SampleView:
    """A row of Collected read like a Sample (the same fields, and ``origin``)."""

    __slots__ = ("_extra", "_matched", "value")

    def __init__(self, matched: _Matched, value: float, extra: tuple[str, int | None, object, str]) -> None:
        self._matched = matched
        self.value = value
        self._extra = extra

    @property
    def name(self) -> str:
        return self._matched.name

    @property
    def labels(self) -> tuple[tuple[str, str], ...]:
        return self._matched.labels

    @property
    def type(self) -> MetricType:
        return self._matched.type

    @property
    def help(self) -> str:
        return self._matched.help

    @property
    def object_name(self) -> str:
        return self._extra[0]

    @property
    def match(self) -> str:
        _, cut, raw, java_type = self._extra
        return _rebuilt(self._matched.match, cut, raw, java_type)

    @property
    def origin(self) -> str:
        return _origin(self.match)


class _CompiledRule:
    """A Rule reduced to what the hot loop needs."""

    __slots__ = (
        "cache",
        "default",
        "factor",
        "fails",
        "fullmatch",
        "help",
        "index",
        "labels",
        "line",
        "literal",
        "name",
        "search",
        "snake",
        "type",
        "value",
        "variant",
        "where",
    )

    def __init__(self, rule: Rule) -> None:
        self.index = rule.index
        self.line = rule.line
        self.where = f"rules[{rule.index}]" + (f" (line {rule.line})" if rule.line is not None else "")
        self.fullmatch = rule.regex.fullmatch if rule.regex is not None else None
        self.search = rule._search.search if rule._search is not None else None
        self.literal = rule._literal
        # Which match string the rule sees: bit 0 = "<cache>" for the value, bit 1 = snake-case attribute name.
        self.variant = (1 if rule.cache else 0) | (2 if rule.attr_name_snake_case else 0)
        self.snake = rule.attr_name_snake_case
        self.cache = rule.cache
        self.default = rule.name is None
        self.name = rule._name
        self.value = rule._value
        self.help = rule._help
        self.labels = rule._labels
        self.type = rule.type
        self.factor = rule.value_factor
        self.fails = rule.fails_when_applied


@dataclass(slots=True)
class _Bean:
    """Per-bean state threaded through the flattening, with where its results go."""

    bean: MBean
    samples: Collected
    trace: list[Outcome] | None  # every outcome, dropped ones included (``explain``); None on scrapes
    fresh: dict[tuple[str, str], object] | None  # this scrape's rule-cache entries, when some rule caches
    deadline: float | None  # when matching must give up (time.monotonic), if ever
    attribute: str = ""  # the top-level attribute being processed
    labels: tuple[tuple[str, str], ...] = ()  # metricCustomizers' attributesAsLabels, on every sample of the bean


class _Place(NamedTuple):
    """Where a value sits in its bean: the key properties (a table row adds its index cells), the composite keys
    above it, and the match-string prefix and HELP text head these make."""

    properties: tuple[tuple[str, str], ...]
    attr_keys: tuple[str, ...]
    prefix: str
    help_head: str


class RuleEngine:
    """Applies a Config's rules to MBean records. Compiled once per Config; safe to reuse across scrapes."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._rules = tuple(_CompiledRule(rule) for rule in config.rules)
        self._uses_cache = any(rule.cache for rule in config.rules)
        self._variants = any(rule.variant for rule in self._rules)
        self._uncached_rules = tuple(rule for rule in self._rules if not rule.cache)
        # Default-format labels by key properties: the same beans come back every scrape.
        self._default_labels: dict[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]] = {}
        self._cache: dict[tuple[str, str], object] = {}
        self._lower_names = config.lowercase_output_name
        self._lower_labels = config.lowercase_output_label_names
        self._infer_counters = config.infer_counter_type_from_name
        self._filters_attributes = bool(
            config.include_object_name_attributes or config.exclude_object_name_attributes
        )
        # Verdict memo (see the module docstring): by (prefix, attrName) when that is sound, else by match string.
        rules_blind = all(rule.cache or _value_blind_rule(rule) for rule in config.rules)
        self._blind = not self._uses_cache and rules_blind
        # Whether a bean that exports nothing now provably exports nothing for other values (see may_export).
        self._strings_drop = not any(rule.value is not None for rule in config.rules)
        self._decidable = self._strings_drop and all(rule.cache or match_blind(rule.pattern) for rule in config.rules)
        self._matches_all = any(rule.pattern is None or rule.pattern in ("", ".*", ".+") for rule in config.rules)
        self._customized = bool(config.metric_customizers)
        self._memo: dict[tuple[object, ...], _Memo] = {}
        self._fresh_memo: dict[tuple[object, ...], _Memo] = {}
        self._probe: RuleEngine | None = None  # may_export's own engine, so probes leave this one's memo alone
        self.rule_runs = 0  # records the rule list was run for (memo and rule-cache hits are not counted)

    def evaluate(self, beans: Iterable[MBean]) -> list[Sample]:
        """The samples for these beans (one scrape). Updates the rule cache when a rule has ``cache: true``."""
        return self.collect(beans).samples()

    def collect(
        self, beans: Iterable[MBean], trace: list[Outcome] | None = None, deadline: float | None = None
    ) -> Collected:
        """One scrape's samples as rows; updates the rule cache and the memo. With ``trace``, one Outcome per record
        is appended to it as well (dropped records included), from the same verdicts. With a ``deadline``
        (``time.monotonic()``), a pattern still matching then raises RuleTimeout instead of holding the scrape."""
        rows = Collected()
        self._fresh_memo = {}
        try:
            cache = self._run(beans, rows, trace, deadline)
        finally:
            self._memo, self._fresh_memo = self._fresh_memo, {}
        if cache is not None:
            self._cache = cache
        return rows

    def trace(self, beans: Iterable[MBean]) -> list[Outcome]:
        """One Outcome per record: ``collect`` keeping every outcome instead of the rows."""
        outcomes: list[Outcome] = []
        self.collect(beans, outcomes)
        return outcomes

    def may_export(self, bean: MBean, deadline: float | None = None) -> bool:
        """Whether this bean could give a sample now or later, when only its values change (False: skip it).

        Provable only when whether each rule matches is blind to the value (:func:`match_blind`) and none has a
        ``value`` template (so strings never export): then a bean whose records match no exporting rule exports
        nothing for any numeric value. Nulls, unreadable values and text of types other than String are probed as
        numbers, and so is every item of CompositeData (its items are those of its type). TabularData can grow new
        rows, whose records are new match strings, so a bean with such an attribute counts as exporting. Otherwise
        every bean the include/exclude lists select counts.
        """
        if not self.config.selects_bean(bean.domain, bean.properties):
            return False
        if bean.object_name == "jdk.management.jfr:type=FlightRecorder" or not bean.attributes:
            return False
        if not self._decidable or self._matches_all:
            return True
        if self._customized:
            try:
                customizer = self.config.customizer_for(bean.domain, bean.properties)
            except RuleFailure:
                return True  # the scrape must meet it and fail, as jmx_exporter's does
            if customizer is not None and customizer.extra_metrics:
                return True
        probe: list[Attribute] = []
        runtime = bean.object_name == "java.lang:type=Runtime"
        for attribute in bean.attributes:
            value = attribute.value
            cls = value.__class__
            if runtime and attribute.name.lower() in _RUNTIME_SKIPPED:
                continue
            if cls is Composite:
                items = _probe_items(value)  # type: ignore[arg-type]
                if items is None:
                    return True
                attribute = Attribute(attribute.name, attribute.java_type, items, attribute.description)
            elif cls is Tabular or attribute.java_type in _OPEN_TYPES:
                return True
            # A null, unreadable or (for a type that is not String) text value may be a number next time.
            elif value is None or cls is Unsupported or (cls is str and attribute.java_type != "java.lang.String"):
                if _never_exported_type(attribute.java_type):
                    continue
                attribute = Attribute(attribute.name, attribute.java_type, 0, attribute.description)
            probe.append(attribute)
        if self._probe is None:
            self._probe = RuleEngine(self.config)
        rows = self._probe.collect([MBean(bean.object_name, bean.domain, bean.properties, tuple(probe))],
                                   deadline=deadline)
        return len(rows) > 0 or bool(rows.errors)

    def cached_beans(self) -> int:
        """How many (bean, attribute) verdicts the rule cache holds after the last evaluate."""
        return len(self._cache)

    # -- walking beans ---------------------------------------------------------------------------------------------

    def _run(
        self, beans: Iterable[MBean], samples: Collected, trace: list[Outcome] | None, deadline: float | None
    ) -> dict[tuple[str, str], object] | None:
        config = self.config
        fresh: dict[tuple[str, str], object] | None = {} if self._uses_cache else None
        memo_get, fresh_memo = self._memo.get, self._fresh_memo
        add_verdict, add_number, add_extra = samples.verdicts.append, samples.numbers.append, samples.extras.append
        if len(self._default_labels) > 50_000:
            self._default_labels = {}
        for bean in beans:
            domain, properties = bean.domain, bean.properties
            if not config.selects_bean(domain, properties):
                if trace is not None:
                    self._drop_all(bean, DropReason.FILTERED_BEAN, trace)
                continue
            if bean.object_name == "jdk.management.jfr:type=FlightRecorder":
                if trace is not None:
                    self._drop_all(bean, DropReason.SKIPPED, trace)
                continue
            keep, drop = config.attribute_filter(domain, properties) if self._filters_attributes else (None, ())
            runtime = bean.object_name == "java.lang:type=Runtime"
            props_text = ", ".join([f"{k}={v}" for k, v in properties])
            prefix = f"{domain}<{props_text}><>"
            help_head = _help_head(domain, properties)
            state = _Bean(bean, samples, trace, fresh, deadline)
            place = _Place(properties, (), prefix, help_head)
            extra: tuple[Attribute, ...] = ()
            if self._customized:
                try:
                    customizer = self._customizer(bean, keep, drop)
                except RuleFailure as exc:
                    self._fail_bean(bean, str(exc), samples, trace)
                    continue
                if customizer is not None:
                    state.labels = self._attribute_labels(customizer, bean, keep, drop)
                    extra = customizer.extra_metrics
            memo_prefix: object = prefix if not state.labels else (prefix, state.labels)
            # By name: a top-level number's verdict is looked up before its match string is built (the module
            # docstring says when that is sound).
            bean_fast = self._blind and not runtime and keep is None and not drop
            object_name = bean.object_name
            for attribute in extra:  # a customizer's extra metrics come first, as in jmx_exporter
                state.attribute = attribute.name
                self._value(state, place, attribute.name, attribute.java_type, attribute.description, attribute.value)
            for attribute in bean.attributes:
                name = attribute.name
                if bean_fast and attribute.value.__class__ not in _PLAIN_NUMBERS and trace is None \
                        and self._skips(attribute):
                    continue  # gives no sample whatever the rules say; a trace still asks them why
                if bean_fast and attribute.value.__class__ in _PLAIN_NUMBERS:
                    key = (memo_prefix, name)
                    memo = memo_get(key)
                    if memo is not None and memo.description == attribute.description:
                        fresh_memo[key] = memo
                        matched = memo.matched
                        value = attribute.value
                        if matched is not None:
                            if matched.fixed_value is not None:
                                number = matched.fixed_value * matched.value_factor
                            elif value.__class__ is bool:
                                number = 1.0 if value else 0.0
                            else:
                                number = to_double(value) * matched.value_factor  # type: ignore[arg-type]
                            add_verdict(matched)
                            add_number(number)
                            add_extra((object_name, memo.cut, value, attribute.java_type))
                            if trace is not None:
                                trace.append(self._sample_outcome(name, matched, number, object_name, memo.cut,
                                                                  value, attribute.java_type))  # fmt: skip
                        elif trace is not None and memo.dropped is not None:
                            trace.append(memo.dropped.outcome(object_name, name, memo.cut, value, attribute.java_type))
                        continue
                state.attribute = name
                if (keep is not None and name not in keep) or name in drop:
                    if trace is not None:
                        trace.append(Outcome(bean.object_name, name, prefix + name, None,
                                             Drop(DropReason.FILTERED_ATTRIBUTE)))
                    continue
                if runtime and name.lower() in _RUNTIME_SKIPPED:
                    if trace is not None:
                        trace.append(Outcome(bean.object_name, name, prefix + name, None, Drop(DropReason.SKIPPED)))
                    continue
                self._value(state, place, name, attribute.java_type, attribute.description, attribute.value)
        return fresh

    def _customizer(self, bean: MBean, keep: frozenset[str] | None, drop: frozenset[str] | tuple[()]
                    ) -> MetricCustomizer | None:  # fmt: skip
        """The bean's metric customizer; as in jmx_exporter, only a bean with an attribute the filters keep has
        one (RuleFailure: the customizer that selects it cannot be applied)."""
        if not any((keep is None or a.name in keep) and a.name not in drop for a in bean.attributes):
            return None
        return self.config.customizer_for(bean.domain, bean.properties)

    def _attribute_labels(self, customizer: MetricCustomizer, bean: MBean, keep: frozenset[str] | None,
                          drop: frozenset[str] | tuple[()]) -> tuple[tuple[str, str], ...]:  # fmt: skip
        """``attributesAsLabels``: the named attributes the filters keep, with a value, as (label, text) pairs.

        jmx_exporter labels with the value's ``toString()``: a string, a number or a boolean prints as the rule
        strings show it; CompositeData, TabularData and other objects (whose ``toString()`` is an object dump) give
        no label here.
        """
        wanted = customizer.attributes_as_labels
        labels = []
        for attribute in bean.attributes:
            name = attribute.name
            if name not in wanted or (keep is not None and name not in keep) or name in drop:
                continue
            value = attribute.value
            if value.__class__ not in (str, bool, int, float):
                continue
            label = _safe_label_name(name)
            labels.append((label.lower() if self._lower_labels else label, java_text(value, attribute.java_type)))
        return tuple(labels)

    def _fail_bean(self, bean: MBean, problem: str, samples: Collected, trace: list[Outcome] | None) -> None:
        samples.errors.append(f"{problem} ({bean.object_name})")
        if trace is not None:
            self._drop_all(bean, DropReason.RULE_FAILED, trace, problem)

    def _skips(self, attribute: Attribute) -> bool:
        """Whether ``evaluate`` may pass over this top-level attribute: it can give no sample and touch no cache."""
        value = attribute.value
        if value is None or value.__class__ is Unsupported:
            return True
        # Without a 'value' template no string is ever exported (NaN/Infinity strings of doubles are numbers).
        return value.__class__ is str and self._strings_drop and attribute.java_type not in DOUBLE_TYPES

    def _drop_all(self, bean: MBean, reason: DropReason, trace: list[Outcome], detail: str = "") -> None:
        props_text = ", ".join([f"{k}={v}" for k, v in bean.properties])
        for attribute in bean.attributes:
            match = f"{bean.domain}<{props_text}><>{attribute.name}"
            trace.append(Outcome(bean.object_name, attribute.name, match, None, Drop(reason, detail)))

    def _value(self, state: _Bean, place: _Place, attr_name: str, java_type: str, description: str,
               value: Value) -> None:  # fmt: skip
        """processBeanValue: recurse into composite and tabular data, hand plain values to the rules."""
        cls = value.__class__
        if cls is Composite:
            keys = (*place.attr_keys, attr_name)
            item_prefix = place.prefix[:-1] + (", " if place.attr_keys else "") + attr_name + ">"
            inner = _Place(place.properties, keys, item_prefix, place.help_head)
            for key, item in value.items:  # type: ignore[union-attr]
                self._value(state, inner, key, "", "", item)
        elif cls is Tabular:
            self._tabular(state, place, attr_name, value)  # type: ignore[arg-type]
        elif value is None or cls is Unsupported:
            if state.trace is not None:
                reason = DropReason.NULL_VALUE if value is None else DropReason.UNSUPPORTED_TYPE
                detail = "" if value is None else value.reason  # type: ignore[union-attr]
                state.trace.append(Outcome(state.bean.object_name, state.attribute, place.prefix + attr_name, None,
                                           Drop(reason, detail)))
        else:
            if cls is str and java_type in DOUBLE_TYPES and value in _SPECIAL_DOUBLES:
                value = _SPECIAL_DOUBLES[value]  # type: ignore[index]
            self._record(state, place, attr_name, java_type, description, value)  # type: ignore[arg-type]

    def _tabular(self, state: _Bean, place: _Place, attr_name: str, table: Tabular) -> None:
        properties, attr_keys = place.properties, place.attr_keys
        domain = state.bean.domain
        extended = (*attr_keys, attr_name)
        for row in table.rows:
            items = dict(row.items)
            if table.index_names:
                index_names: tuple[str, ...] | list[str] = table.index_names
            else:
                index_names = [k for k, v in row.items if v.__class__ is str and k.lower() != "value"]
            row_props = dict(properties)
            for index in index_names:
                cell = items.get(index)
                if cell is None:
                    continue
                label = index
                while label in row_props:
                    label += "_"
                if cell.__class__ is Composite:
                    for key, part in cell.items:  # type: ignore[union-attr]
                        row_props[f"{label}_{key}"] = java_text(part, "")
                else:
                    row_props[label] = java_text(cell, "")
            new_properties = tuple(row_props.items())
            props_text = ", ".join([f"{k}={v}" for k, v in new_properties])
            help_head = _help_head(domain, new_properties)
            for column, cell in row.items:
                if column in index_names:
                    continue
                if column.lower() == "value":
                    keys, name = attr_keys, attr_name
                else:
                    keys, name = extended, column
                prefix = f"{domain}<{props_text}><{', '.join(keys)}>"
                self._value(state, _Place(new_properties, keys, prefix, help_head), name, "", "", cell)

    # -- one record ------------------------------------------------------------------------------------------------

    def _record(self, state: _Bean, place: _Place, attr_name: str, java_type: str, description: str,
                value: str | bool | int | float) -> None:  # fmt: skip
        properties, attr_keys, prefix, help_head = place
        trace, fresh = state.trace, state.fresh
        labels = state.labels
        matched: _Matched | None = None
        cached = None
        cut: int | None = None
        if fresh is not None:
            # Attribute labels are part of the verdict: a changed label value must not reuse the old one.
            key = (prefix, attr_name) if not labels else ((prefix, labels), attr_name)
            cached = self._cache.get(key)
            if cached is not None and cached is not _UNMATCHED:
                matched = cached  # type: ignore[assignment]
                fresh[key] = cached
            elif cached is _UNMATCHED and not self._uncached_rules and trace is None:
                fresh[key] = _UNMATCHED  # no rule is left to try: unmatched again, as the loop below would find
                return
        memo_key: tuple[object, ...] | None = None
        by_name = False
        if matched is None:
            text = java_text(value, java_type)
            plain = prefix + attr_name + ": " + text
            if fresh is None:
                by_name = self._blind and value.__class__ in _PLAIN_NUMBERS
                if by_name:
                    memo_key = (prefix, attr_name) if not labels else ((prefix, labels), attr_name)
                else:
                    is_str = value.__class__ is str
                    memo_key = (plain, is_str) if not labels else (plain, is_str, labels)
                memo = self._memo.get(memo_key)
                if memo is not None and memo.description == description:
                    self._fresh_memo[memo_key] = memo
                    if memo.matched is None:
                        if trace is not None and memo.dropped is not None:
                            trace.append(memo.dropped.outcome(state.bean.object_name, state.attribute, memo.cut,
                                                              value, java_type))  # fmt: skip
                        return
                    matched, cut = memo.matched, memo.cut
                    memo_key = None
        if matched is None:
            # Match strings by _CompiledRule.variant; most configurations use only the plain one.
            subjects: list[str | None] | None = [plain, None, None, None] if self._variants else None
            subject = plain
            self.rule_runs += 1
            # After an "unmatched" verdict was cached, only the uncached rules are tried again (as jmx_exporter).
            for rule in self._rules if cached is None else self._uncached_rules:
                if subjects is not None:
                    subject = subjects[rule.variant]  # type: ignore[assignment]
                    if subject is None:
                        subject = subjects[rule.variant] = _subject(rule.variant, prefix, attr_name, text)
                literal = rule.literal
                if literal is not None and literal not in subject:
                    continue
                m = None
                if rule.fullmatch is not None:
                    m = self._match(rule, subject, state)
                    if m is None:
                        continue
                try:
                    name_part = _snake_case(attr_name) if rule.snake else attr_name
                    fixed: float | None = None
                    if rule.value is not None:
                        expanded = rule.value.expand(m)  # type: ignore[arg-type]
                        fixed = parse_double(expanded)
                        if fixed is None:
                            dropped = _Dropped(rule.index, subject, Drop(DropReason.UNPARSABLE_VALUE, repr(expanded)))
                            self._forget(state, memo_key, dropped, description, text if by_name else None)
                            return
                    where = _Where(help_head, attr_name, description, None if subject is plain else subject, prefix,
                                   text)
                    if rule.default:
                        matched = self._default_export(rule, properties, attr_keys, state.bean.domain, name_part,
                                                       fixed, where, labels)
                    else:
                        name = _safe_name(rule.name.expand(m))  # type: ignore[union-attr, arg-type]
                        if not name:
                            dropped = _Dropped(rule.index, subject, Drop(DropReason.EMPTY_NAME))
                            self._forget(state, memo_key, dropped, description, text if by_name else None)
                            return
                        if value.__class__ is str and fixed is None and not rule.cache and not rule.fails:
                            # Dropped below anyway; skip building labels (jmx_exporter's outcome is the same).
                            dropped = _Dropped(rule.index, subject, Drop(DropReason.STRING_WITHOUT_VALUE))
                            self._forget(state, memo_key, dropped, description, text if by_name else None)
                            return
                        matched = self._named_export(rule, m, name, fixed, where, labels)
                    if rule.cache:
                        fresh[key] = matched  # type: ignore[index]
                    break
                except RuleFailure as exc:  # a template jmx_exporter cannot expand either: it fails the scrape
                    self._fail(state, rule, subject, str(exc))
                    return
            if matched is None:
                if fresh is not None:
                    fresh[key] = _UNMATCHED
                dropped = _Dropped(None, plain, Drop(DropReason.NO_MATCH))
                self._forget(state, memo_key, dropped, description, text if by_name else None)
                return
            if memo_key is not None:
                # By name: the next value will differ, so keep what precedes it to rebuild the match string.
                by_name_cut = len(matched.match) - len(text) if by_name else None
                self._fresh_memo[memo_key] = _Memo(matched, by_name_cut, description)
        cls = value.__class__
        if matched.fixed_value is not None:
            number = matched.fixed_value * matched.value_factor
        elif cls is bool:
            number = 1.0 if value else 0.0
        elif cls is int or cls is float:
            number = to_double(value) * matched.value_factor  # type: ignore[arg-type]
        else:
            self._drop(state, matched.match, matched.rule_index, DropReason.STRING_WITHOUT_VALUE)
            return
        samples = state.samples
        samples.verdicts.append(matched)
        samples.numbers.append(number)
        samples.extras.append((state.bean.object_name, cut, value, java_type))
        if trace is not None:
            trace.append(self._sample_outcome(state.attribute, matched, number, state.bean.object_name, cut, value,
                                              java_type))  # fmt: skip

    @staticmethod
    def _sample_outcome(attribute: str, matched: _Matched, number: float, object_name: str, cut: int | None,
                        value: object, java_type: str) -> Outcome:  # fmt: skip
        match = _rebuilt(matched.match, cut, value, java_type)
        sample = Sample(matched.name, matched.labels, number, matched.type, matched.help, object_name, match)
        return Outcome(object_name, attribute, match, matched.rule_index, sample)

    def _match(self, rule: _CompiledRule, subject: str, state: _Bean) -> object:
        """``rule``'s match of ``subject`` (None: no match), bounded by the collect's deadline."""
        limit = None
        if state.deadline is not None:
            started = time.monotonic()
            limit = state.deadline - started
            if limit <= 0:
                raise RuleTimeout(self._out_of_time(rule, state))
        try:
            if rule.search is not None and rule.search(subject, timeout=limit) is None:
                return None
            return rule.fullmatch(subject, timeout=limit)  # type: ignore[misc]
        except TimeoutError:
            if time.monotonic() - started < _BACKTRACKING:  # the scrape was all but over when this match began
                raise RuleTimeout(self._out_of_time(rule, state)) from None
            raise RuleTimeout(
                f"{rule.where} did not finish matching {state.bean.object_name} {state.attribute} within the scrape's "
                "time: its pattern backtracks too much (nested quantifiers or a backreference); simplify it"
            ) from None

    @staticmethod
    def _out_of_time(rule: _CompiledRule, state: _Bean) -> str:
        return (f"the scrape's time ran out while {rule.where} was applied to {state.bean.object_name} "
                f"{state.attribute}, with {len(state.samples):,} samples made: raise --scrape-timeout, or narrow "
                "includeObjectNames to the beans the rules need")

    def _forget(self, state: _Bean, memo_key: tuple[object, ...] | None, dropped: _Dropped, description: str,
                by_name_text: str | None) -> None:  # fmt: skip
        """A record gives no sample: trace why, and remember it (``by_name_text``: the value text of a verdict kept
        by name, whose match string is rebuilt for the next value)."""
        if state.trace is not None:
            state.trace.append(Outcome(state.bean.object_name, state.attribute, dropped.match, dropped.rule_index,
                                       dropped.drop))
        if memo_key is not None:
            cut = len(dropped.match) - len(by_name_text) if by_name_text is not None else None
            self._fresh_memo[memo_key] = _Memo(None, cut, description, dropped)

    def _fail(self, state: _Bean, rule: _CompiledRule, match: str, problem: str) -> None:
        """A rule that cannot be applied: no sample, and the scrape reports it (not remembered: it recurs)."""
        state.samples.errors.append(f"{problem}, applied to {state.bean.object_name} {state.attribute}")
        if state.trace is not None:
            state.trace.append(Outcome(state.bean.object_name, state.attribute, match, rule.index,
                                       Drop(DropReason.RULE_FAILED, problem)))

    def _drop(self, state: _Bean, match: str, rule_index: int, reason: DropReason, detail: str = "") -> None:
        if state.trace is not None:
            state.trace.append(Outcome(state.bean.object_name, state.attribute, match, rule_index,
                                       Drop(reason, detail)))

    def _type_for(self, rule: _CompiledRule, name: str) -> MetricType:
        if self._infer_counters and name.endswith("_total"):
            return MetricType.COUNTER
        return rule.type

    def _default_export(
        self,
        rule: _CompiledRule,
        properties: tuple[tuple[str, str], ...],
        attr_keys: tuple[str, ...],
        domain: str,
        name_part: str,
        fixed: float | None,
        where: _Where,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> _Matched:
        parts = [domain]
        if properties:
            parts.append(properties[0][1])
        parts.extend(attr_keys)
        parts.append(name_part)
        name = _safe_name("_".join(parts))
        if self._lower_names:
            name = name.lower()
        cache_key = properties if not extra else (properties, extra)
        labels = self._default_labels.get(cache_key)
        if labels is None:
            pairs: list[tuple[str, str]] = []
            for key, value in properties[1:]:
                label = _safe_label_name(key)
                pairs.append((label.lower() if self._lower_labels else label, value))
            pairs.extend(extra)  # after the key properties: on a clash, the key property wins
            labels = self._default_labels[cache_key] = _sorted_labels(pairs)
        return _Matched(strip_reserved_suffixes(name), labels, self._type_for(rule, name), fixed, rule.factor,
                        rule.index, None, *where)

    def _named_export(
        self,
        rule: _CompiledRule,
        m: object,
        name: str,
        fixed: float | None,
        where: _Where,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> _Matched:
        if self._lower_names:
            name = name.lower()
        help_text = rule.help.expand(m) if rule.help is not None else None  # type: ignore[arg-type]
        labels: list[tuple[str, str]] = list(extra)  # before the rule's: on a clash, the attribute label wins
        for name_template, value_template in rule.labels:
            label = _safe_label_name(name_template.expand(m))  # type: ignore[arg-type]
            label_value = value_template.expand(m)  # type: ignore[arg-type]
            if self._lower_labels:
                label = label.lower()
            if label and label_value:
                labels.append((label, label_value))
        return _Matched(strip_reserved_suffixes(name), _sorted_labels(labels), self._type_for(rule, name), fixed,
                        rule.factor, rule.index, help_text, *where)


def _probe_items(composite: Composite) -> Composite | None:
    """CompositeData as ``may_export`` probes it: every item a number (an item's type is not known, so any item may
    be one next time), nested ones likewise; None when it holds TabularData, whose rows come and go."""
    items: list[tuple[str, Value]] = []
    for name, item in composite.items:
        if item.__class__ is Composite:
            nested = _probe_items(item)  # type: ignore[arg-type]
            if nested is None:
                return None
            items.append((name, nested))
        elif item.__class__ is Tabular:
            return None
        else:
            items.append((name, 0))
    return Composite(tuple(items))


def _never_exported_type(java_type: str) -> bool:
    """Arrays and collections: jmx_exporter exports none of them, whatever their content."""
    return java_type.startswith("[") or java_type in ("java.util.Map", "java.util.List", "java.util.Set")


def _value_blind_rule(rule: Rule) -> bool:
    """A value-blind pattern (see exporter.rules.valueblind) and no template that copies the whole match (``$0``);
    or a pattern whose only hold on the value is a tail that eats it, in a group no template copies."""
    templates = [rule._name, rule._value, rule._help, *(t for pair in rule._labels for t in pair)]
    used = {part for t in templates if t is not None for part in t.parts}
    if 0 in used:
        return False
    if value_blind(rule.pattern):
        return True
    tail = value_tail(rule.pattern) if rule.pattern is not None else None
    if tail is None:
        return False
    # A capturing tail opens the pattern's last group.
    return not tail.startswith("(") or tail.startswith("(?:") or rule.groups not in used


def _subject(variant: int, prefix: str, attr_name: str, text: str) -> str:
    name_part = _snake_case(attr_name) if variant & 2 else attr_name
    return f"{prefix}{name_part}: {'<cache>' if variant & 1 else text}"


def _sorted_labels(labels: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Labels sorted by name; when two expand to the same name the first (in rule order) is kept."""
    if len(labels) < 2:
        return tuple(labels)
    labels.sort(key=_BY_NAME)
    out = [labels[0]]
    for pair in labels[1:]:
        if pair[0] != out[-1][0]:
            out.append(pair)
    return tuple(out)


def _help_head(domain: str, properties: tuple[tuple[str, str], ...]) -> str:
    name = type_ = "null"  # Java prints a missing property as "null"
    for key, value in properties:
        if key == "name":
            name = value
        elif key == "type":
            type_ = value
    return f"{domain}:name={name},type={type_},attribute="


def _help(help_head: str, attr_name: str, description: str) -> str:
    """jmx_exporter 1.x's HELP: ``[<description> ]<domain>:name=<name>,type=<type>,attribute=<attribute>``."""
    if description and description != attr_name:
        return f"{description} {help_head}{attr_name}"
    return help_head + attr_name


def java_text(value: object, java_type: str) -> str:
    """``String.valueOf(value)`` for a plain record value, given its declared Java type."""
    cls = value.__class__
    if cls is str:
        return value  # type: ignore[return-value]
    if cls is bool:
        return "true" if value else "false"
    if cls is int:
        return double_to_string(to_double(value)) if java_type in DOUBLE_TYPES else str(value)  # type: ignore[arg-type]
    if cls is float:
        if java_type in _FLOAT_TYPES:
            return float_to_string(value)  # type: ignore[arg-type]
        if 1e-3 <= abs(value) < 1e7:  # type: ignore[arg-type]
            return repr(value)  # Python's repr and Java agree in this range
        return double_to_string(value)  # type: ignore[arg-type]
    return str(value)
