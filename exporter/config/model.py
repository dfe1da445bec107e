"""The configuration as typed, immutable objects: the rules and the bean selection of one rule file."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import regex

from exporter.config.javaregex import Replacement
from exporter.config.yamlnodes import LocatedError, located
from exporter.records.mbeans import Attribute
from exporter.records.objectname import ObjectNameError, ObjectNamePattern, canonical_key, parse_object_name


class MetricType(Enum):
    """A rule's ``type``; the value is the exposition keyword. ``UNKNOWN`` in a rule file means UNTYPED."""

    GAUGE = "gauge"
    COUNTER = "counter"
    UNTYPED = "untyped"


class ConfigError(LocatedError):
    """A configuration that cannot be used; ``str()`` names the file, the line and the key path."""


class ConfigWarning(str):
    """A warning about a file that loads: the text is ``file:line: key.path: message``, the parts are kept too."""

    line: int | None
    path: str
    message: str

    def __new__(cls, source: str, line: int | None, path: str, message: str) -> ConfigWarning:
        self = super().__new__(cls, located(source, line, path, message))
        self.line, self.path, self.message = line, path, message
        return self

    @property
    def rule_index(self) -> int | None:
        """The rule the warning is about (``rules[3]...`` -> 3), if any."""
        if not self.path.startswith("rules["):
            return None
        return int(self.path[6 : self.path.index("]")])


class RuleFailure(Exception):
    """Raised when a rule is applied that jmx_exporter loads but cannot apply (see FailingReplacement)."""


@dataclass(frozen=True, slots=True)
class FailingReplacement:
    """A template jmx_exporter accepts at load but that throws when its rule is applied (a group the pattern lacks,
    a trailing ``$``, a ``value`` without a ``pattern`` ...): it fails the scrape there. ``expand`` raises
    RuleFailure with ``problem``; it stands where a Replacement would."""

    source: str
    problem: str
    parts: tuple[str | int, ...] = ()
    constant: None = None

    def expand(self, match: object) -> str:
        raise RuleFailure(self.problem)


Template = Replacement | FailingReplacement


@dataclass(frozen=True)
class Rule:
    """One entry of ``rules`` (or the implicit default rule), with its regex and templates compiled.

    ``regex`` is the pattern as jmx_exporter runs it (``^.*(?:PATTERN).*$``, matched against the whole string);
    None matches everything. ``labels`` are (name template, value template) pairs sorted by name template.
    ``comments`` are the rule's own full-line comments as (line, text after ``#``): jmx_exporter ignores them,
    explain's lint reads its ``# lint:`` markers from them.
    """

    index: int
    line: int | None = None
    pattern: str | None = None
    regex: regex.Pattern[str] | None = field(default=None, compare=False, repr=False)
    groups: int = field(default=0, compare=False, repr=False)  # capturing groups, as Java counts them
    name: str | None = None
    value: str | None = None
    value_factor: float = 1.0
    labels: tuple[tuple[str, str], ...] = ()
    help: str | None = None
    type: MetricType = MetricType.UNTYPED
    attr_name_snake_case: bool = False
    cache: bool = False
    comments: tuple[tuple[int, str], ...] = field(default=(), compare=False, repr=False)
    # Compiled forms used by the engine.
    _search: regex.Pattern[str] | None = field(default=None, compare=False, repr=False)
    _literal: str | None = field(default=None, compare=False, repr=False)
    _name: Template | None = field(default=None, compare=False, repr=False)
    _value: Template | None = field(default=None, compare=False, repr=False)
    _help: Template | None = field(default=None, compare=False, repr=False)
    _labels: tuple[tuple[Template, Template], ...] = field(default=(), compare=False, repr=False)

    @property
    def fails_when_applied(self) -> bool:
        """Whether a template of this rule fails when the rule matches (see FailingReplacement)."""
        templates = (self._name, self._value, self._help, *(t for pair in self._labels for t in pair))
        return any(isinstance(t, FailingReplacement) for t in templates)


@dataclass(frozen=True, slots=True)
class MetricCustomizer:
    """One entry of ``metricCustomizers`` (jmx_exporter >= 1.2).

    It applies to an MBean whose domain is ``domain`` and whose key properties include every pair of
    ``properties`` (the first customizer that applies wins). ``attributes_as_labels`` names attributes whose values
    become labels on every sample of the bean; ``extra_metrics`` are records added to the bean (their values come
    from the file) and go through the rules like its attributes. ``failure``: jmx_exporter loads the entry but
    fails the scrape when it meets a bean of that domain (for example ``properties:`` left empty).
    """

    index: int
    domain: str
    properties: tuple[tuple[str, object], ...] = ()
    attributes_as_labels: tuple[str, ...] = ()
    extra_metrics: tuple[Attribute, ...] = ()
    failure: str | None = None
    line: int | None = None

    def applies_to(self, domain: str, properties: tuple[tuple[str, str], ...]) -> bool:
        if domain != self.domain:
            return False
        if self.failure is not None:
            raise RuleFailure(self.failure)
        have = dict(properties)
        return all(have.get(key, _MISSING) == value for key, value in self.properties)


_MISSING = object()


@dataclass(frozen=True, slots=True)
class Passthrough:
    """The ``passthrough`` key (this exporter's own): which of the target's own metric families ``--source
    passthrough`` re-serves, by family name.

    ``names`` are the exact names, each once, in the file's order: the server is asked for just those
    (``/metrics?name[]=...``). ``patterns`` are the entries with ``*`` (any run of characters, none included); with
    one of them the whole ``/metrics`` is read and :meth:`selects` picks the families here.
    """

    names: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)
    _exact: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    @classmethod
    def of(cls, entries: Sequence[str]) -> Passthrough:
        names = tuple(dict.fromkeys(entry for entry in entries if "*" not in entry))
        patterns = tuple(dict.fromkeys(entry for entry in entries if "*" in entry))
        regex_ = None
        if patterns:
            regex_ = re.compile("|".join(".*".join(map(re.escape, p.split("*"))) for p in patterns))
        return cls(names, patterns, regex_, frozenset(names))

    def selects(self, family: str) -> bool:
        """Whether a family of the whole answer is re-served: a pattern matches its name, or it is named like an
        exact name or like one of its parts (``<name>_<part>``: a TimeStat's windows, a CompositeData's items, which
        airlift's ``name[]`` gives for the whole's name)."""
        if family in self._exact or (self._regex is not None and self._regex.fullmatch(family)):
            return True
        at = family.find("_", 1)
        while at > 0:  # every prefix that ends before an underscore: one set lookup each
            if family[:at] in self._exact:
                return True
            at = family.find("_", at + 1)
        return False


@dataclass(frozen=True)
class Config:
    """A whole configuration file.

    ``include_object_names`` empty means every MBean, unless ``include_nothing`` (``includeObjectNames: []``, which
    selects no MBean in jmx_exporter); ``exclude_object_names`` wins over it and already holds the JVM names when
    ``exclude_jvm_metrics`` is set. The attribute maps are (ObjectName, attribute names) pairs;
    when ``include_object_name_attributes`` is non-empty, a bean that is not in it exports no attribute (as in
    jmx_exporter). ``implicit_default_rule`` is True when ``rules`` was absent. ``passthrough`` is this exporter's
    own key (None when absent); only ``--source passthrough`` reads it.
    """

    source: str
    rules: tuple[Rule, ...]
    implicit_default_rule: bool = False
    lowercase_output_name: bool = False
    lowercase_output_label_names: bool = False
    infer_counter_type_from_name: bool = False
    include_object_names: tuple[ObjectNamePattern, ...] = ()
    exclude_object_names: tuple[ObjectNamePattern, ...] = ()
    include_object_name_attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude_object_name_attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude_jvm_metrics: bool = False
    auto_exclude_object_name_attributes: bool = True
    jmx_url: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    ssl: bool = False
    start_delay_seconds: int = 0
    scrape_timeout_seconds: int | None = None
    metric_customizers: tuple[MetricCustomizer, ...] = ()
    include_nothing: bool = False
    passthrough: Passthrough | None = None
    warnings: tuple[ConfigWarning, ...] = ()
    _include_attributes: Mapping[Any, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)
    _exclude_attributes: Mapping[Any, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_include_attributes", _attribute_index(self.include_object_name_attributes))
        object.__setattr__(self, "_exclude_attributes", _attribute_index(self.exclude_object_name_attributes))

    def selects_bean(self, domain: str, properties: tuple[tuple[str, str], ...]) -> bool:
        """Whether includeObjectNames / excludeObjectNames let this MBean through (exclude wins)."""
        if self.include_nothing:
            return False
        if self.include_object_names and not any(p.matches(domain, properties) for p in self.include_object_names):
            return False
        return not any(p.matches(domain, properties) for p in self.exclude_object_names)

    def attribute_filter(
        self, domain: str, properties: tuple[tuple[str, str], ...]
    ) -> tuple[frozenset[str] | None, frozenset[str]]:
        """For one MBean: (attribute names to keep, or None for all; attribute names to drop)."""
        key = canonical_key(domain, properties)
        keep = self._include_attributes.get(key, frozenset()) if self._include_attributes else None
        return keep, self._exclude_attributes.get(key, frozenset())

    def selects_attribute(self, object_name: str, attribute_name: str) -> bool:
        """Whether include/excludeObjectNameAttributes let this attribute of this MBean through."""
        if not self._include_attributes and not self._exclude_attributes:
            return True
        domain, properties = parse_object_name(object_name)
        keep, drop = self.attribute_filter(domain, properties)
        return attribute_name not in drop and (keep is None or attribute_name in keep)

    def literal_object_names(self) -> tuple[str, ...] | None:
        """The include names when there are some and none is a pattern (a source may fetch just these), else None."""
        if self.include_nothing:
            return ()
        if not self.include_object_names or any(p.is_pattern for p in self.include_object_names):
            return None
        return tuple(p.text for p in self.include_object_names)

    def listed_attributes(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """For each literal include name, the attributes include/excludeObjectNameAttributes let through, when
        ``includeObjectNameAttributes`` restricts them (a bean it does not name: none); else nothing."""
        if not self._include_attributes:
            return ()
        out = []
        for name in self.literal_object_names() or ():
            keep, drop = self.attribute_filter(*parse_object_name(name))
            if keep is not None:
                out.append((name, tuple(sorted(keep - drop))))
        return tuple(out)


    def customizer_for(self, domain: str, properties: tuple[tuple[str, str], ...]) -> MetricCustomizer | None:
        """The first metric customizer whose filter selects this MBean (RuleFailure: one that fails there)."""
        for customizer in self.metric_customizers:
            if customizer.applies_to(domain, properties):
                return customizer
        return None


def _attribute_index(pairs: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[Any, frozenset[str]]:
    index: dict[Any, set[str]] = {}
    for name, attributes in pairs:
        try:
            key = canonical_key(*parse_object_name(name))
        except ObjectNameError:
            continue  # a pattern: jmx_exporter compares these names exactly, so it matches no bean
        index.setdefault(key, set()).update(attributes)
    return {key: frozenset(names) for key, names in index.items()}


