"""Helpers for rule-engine tests: build MBean records tersely and flatten results to exposition-level rows."""

from __future__ import annotations

import math
from typing import Any

from exporter.config.loader import parse_config
from exporter.config.model import Config, MetricType
from exporter.output.families import build_families
from exporter.records.mbeans import Attribute, Composite, MBean, Tabular, Unsupported
from exporter.records.objectname import parse_object_name
from exporter.rules.engine import RuleEngine

_TYPES = {
    bool: "boolean",
    int: "long",
    float: "double",
    str: "java.lang.String",
    Composite: "javax.management.openmbean.CompositeData",
    Tabular: "javax.management.openmbean.TabularData",
    Unsupported: "[J",
    type(None): "java.lang.Object",
}

Row = tuple[str, dict[str, str], Any]


def attr(name: str, value: Any, java_type: str | None = None, description: str = "") -> Attribute:
    """An attribute; the Java type follows the Python type unless given."""
    return Attribute(name, java_type if java_type is not None else _TYPES[type(value)], value, description)


def bean(object_name: str, *attributes: Attribute, **values: Any) -> MBean:
    """An MBean from its registered name, explicit attributes and name=value shorthands."""
    domain, properties = parse_object_name(object_name)
    extra = tuple(attr(name, value) for name, value in values.items())
    return MBean(object_name, domain, properties, tuple(attributes) + extra)


def composite(**items: Any) -> Composite:
    return Composite(tuple(sorted(items.items())))


def tabular(rows: list[dict[str, Any]], index: tuple[str, ...] = ()) -> Tabular:
    return Tabular(index, tuple(composite(**row) for row in rows))


def config(text: str) -> Config:
    return parse_config(text, "rules.yml", environ={})


def exposed(text: str, beans: list[MBean]) -> list[Row]:
    """Evaluate, build families and return (exposed name, labels, value) rows in exposition order."""
    families = build_families(RuleEngine(config(text)).evaluate(beans))
    rows: list[Row] = []
    for family in families:
        name = family.name + "_total" if family.type is MetricType.COUNTER else family.name
        for sample in family.samples:
            rows.append((name, dict(sample.labels), _value(sample.value)))
    return rows


def _value(value: float) -> Any:
    return "NaN" if math.isnan(value) else value
