"""The configuration as typed, immutable objects: the rules and the bean selection of one rule file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import regex

from exporter.config.javaregex import Replacement
from exporter.config.yamlnodes import LocatedError
from exporter.records.objectname import ObjectNameError, ObjectNamePattern, canonical_key, parse_object_name


class MetricType(Enum):
    """A rule's ``type``; the value is the exposition keyword. ``UNKNOWN`` in a rule file means UNTYPED."""

    GAUGE = "gauge"
    COUNTER = "counter"
    UNTYPED = "untyped"


class ConfigError(LocatedError):
    """A configuration that cannot be used; ``str()`` names the file, the line and the key path."""


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
    _name: Replacement | None = field(default=None, compare=False, repr=False)
    _value: Replacement | None = field(default=None, compare=False, repr=False)
    _help: Replacement | None = field(default=None, compare=False, repr=False)
    _labels: tuple[tuple[Replacement, Replacement], ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Config:
    """A whole configuration file.

    ``include_object_names`` empty means every MBean; ``exclude_object_names`` wins over it and already holds the
    JVM names when ``exclude_jvm_metrics`` is set. The attribute maps are (ObjectName, attribute names) pairs;
    when ``include_object_name_attributes`` is non-empty, a bean that is not in it exports no attribute (as in
    jmx_exporter). ``implicit_default_rule`` is True when ``rules`` was absent.
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
    warnings: tuple[str, ...] = ()
    _include_attributes: Mapping[Any, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)
    _exclude_attributes: Mapping[Any, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_include_attributes", _attribute_index(self.include_object_name_attributes))
        object.__setattr__(self, "_exclude_attributes", _attribute_index(self.exclude_object_name_attributes))

    def selects_bean(self, domain: str, properties: tuple[tuple[str, str], ...]) -> bool:
        """Whether includeObjectNames / excludeObjectNames let this MBean through (exclude wins)."""
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


def _attribute_index(pairs: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[Any, frozenset[str]]:
    index: dict[Any, set[str]] = {}
    for name, attributes in pairs:
        try:
            key = canonical_key(*parse_object_name(name))
        except ObjectNameError:
            continue  # a pattern: jmx_exporter compares these names exactly, so it matches no bean
        index.setdefault(key, set()).update(attributes)
    return {key: frozenset(names) for key, names in index.items()}


