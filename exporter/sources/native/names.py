"""Between MBean attributes and the metric names of Trino's ``/metrics``, both ways.

airlift names a metric after its bean and attribute, sanitised (every run of characters outside ``[A-Za-z0-9_]``
becomes one ``_``), which cannot be undone in general: ``trino.execution:name=QueryManager`` + ``RunningQueries``
gives ``trino_execution_name_QueryManager_RunningQueries``, and so would other names. So the way back starts from
the bean names the caller asks for (a rule file's literal ``includeObjectNames``): a metric belongs to the listed
bean whose sanitised name is the longest prefix of it, and when the attributes are listed too
(``includeObjectNameAttributes``) the metric names asked for are exactly theirs and map back exactly.

- A bean airlift exports itself (every Presto/Trino bean): ``<sanitised name>_<attribute path joined by _>``.
  A number or a boolean is a gauge: the attribute. A ``CounterStat`` is a counter: its ``.TotalCount``. A
  ``TimeDistribution`` (a ``TimeStat`` window: ``ExecutionTime.FiveMinutes``) is a summary: its ``.P50`` ..
  ``.P99`` and ``.Count``; a ``Distribution`` adds ``.P01`` .. ``.P25`` and ``.Total``.
- A JVM bean, listed in the server's ``openmetrics.jmx-object-names``: ``JMX_<domain>[_NAME_<name>][_TYPE_<type>]
  _ATTRIBUTE_<attribute>``; CompositeData comes as one gauge per item (``..._HeapMemoryUsage_used``), made a
  Composite again.

What cannot come back (it is not in ``/metrics``): the decayed one/five/fifteen-minute counts and rates of a
CounterStat, ``Min``, ``Max``, ``Avg``, ``Unit``, ``MaxError`` and the ``Percentiles`` maps of a distribution,
strings, enums, arrays; a table (TabularData: samples with labels); the fractions of a distribution's ``Count``
(airlift writes it as a whole number). Numbers come as doubles: a whole number is given back as a long (exact up
to 2^53), anything else as a double.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from exporter.records.mbeans import Attribute, Composite, MBean, Value
from exporter.records.metrics import MetricFamily, MetricSample
from exporter.records.objectname import parse_object_name

_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_]+")
# Domains of the JVM's own beans: airlift never exports them itself, only as raw JMX beans.
_JVM_DOMAINS = ("java.", "javax.", "jdk.", "com.sun.management", "JMImplementation")
_EXACT = 2**53


def sanitize(text: str) -> str:
    """airlift's ``sanitizeMetricName``."""
    return _NOT_ALLOWED.sub("_", text)


def is_jvm_bean(domain: str) -> bool:
    """Whether a bean is the JVM's (named as a raw JMX bean in ``/metrics``) rather than one airlift exports."""
    return domain.startswith(_JVM_DOMAINS) or domain in ("java.lang", "JMImplementation")


@dataclass(frozen=True, slots=True)
class Wanted:
    """One requested bean: its name, parsed, the prefix of its metric names, and the attributes asked for."""

    object_name: str
    domain: str
    properties: tuple[tuple[str, str], ...]
    prefix: str
    attributes: tuple[str, ...] | None  # None: every attribute /metrics has

    @classmethod
    def of(cls, object_name: str, attributes: Sequence[str] | None = None) -> Wanted:
        domain, properties = parse_object_name(object_name)
        if is_jvm_bean(domain):
            keys = dict(properties)
            text = "JMX_" + domain
            if "name" in keys:
                text += "_NAME_" + keys["name"]
            if "type" in keys:
                text += "_TYPE_" + keys["type"]
            prefix = sanitize(text) + "_ATTRIBUTE"
        else:
            prefix = sanitize(object_name)
        return cls(object_name, domain, properties, prefix, None if attributes is None else tuple(attributes))

    @property
    def jvm(self) -> bool:
        return self.prefix.startswith("JMX_")


def metric_names(bean: Wanted, attribute: str) -> list[str]:
    """The names ``attribute`` of ``bean`` may have in ``/metrics`` (a stat leaf is in its stat's metric)."""
    if bean.jvm:
        return [f"{bean.prefix}_{sanitize(attribute)}"]
    parts = attribute.split(".")
    stat = f"{bean.prefix}_{sanitize('_'.join(parts[:-1]))}"
    if len(parts) > 1 and parts[-1] == "TotalCount":
        return [stat]  # a CounterStat's total is its counter: no metric has the attribute's own name
    names = [f"{bean.prefix}_{sanitize('_'.join(parts))}"]
    if len(parts) > 1:
        names.append(stat)
    return names


@dataclass(frozen=True, slots=True)
class _Key:
    """Where a metric name leads: the bean, and the attribute path its name stands for (None: from the name)."""

    bean: Wanted
    stem: str | None


class Mapper:
    """Turns the families of ``/metrics`` into MBean records of the requested beans."""

    def __init__(self, beans: Iterable[Wanted]) -> None:
        self.beans = tuple(beans)
        self._exact: dict[str, _Key] = {}
        for bean in self.beans:
            for attribute in bean.attributes or ():
                parts = attribute.split(".")
                for name in metric_names(bean, attribute):
                    whole = name == f"{bean.prefix}_{sanitize('_'.join(parts))}"
                    self._exact.setdefault(name, _Key(bean, attribute if whole else ".".join(parts[:-1])))
        # Longest prefix first, so trino_x_name_A_B is not taken for a bean named trino.x:name=A.
        self._by_prefix = sorted(self.beans, key=lambda b: len(b.prefix), reverse=True)

    def names(self) -> list[str]:
        """Every metric name the listed attributes may have, each once."""
        return list(self._exact)

    def records(self, families: Iterable[MetricFamily]) -> list[MBean]:
        """The requested beans that ``families`` has metrics of, with the attributes those carry."""
        found: dict[str, dict[str, Attribute]] = {}
        for family in families:
            key = self._find(family.name)
            if key is None and not family.name.startswith("JMX_"):  # airlift ~410 drops JMX_ when asked by name
                key = self._find("JMX_" + family.name)
                if key is not None:
                    family = MetricFamily(
                        "JMX_" + family.name,
                        family.type,
                        family.help,
                        [MetricSample("JMX_" + s.name, s.labels, s.value) for s in family.samples],
                    )
            if key is None:
                continue
            attributes = found.setdefault(key.bean.object_name, {})
            for attribute in _attributes(family, key):
                previous = attributes.get(attribute.name)
                if previous is None:
                    attributes[attribute.name] = attribute
                elif isinstance(previous.value, Composite) and isinstance(attribute.value, Composite):
                    value = _merge_composites(previous.value, attribute.value)
                    attributes[attribute.name] = Attribute(previous.name, previous.java_type, value,
                                                           previous.description)
        beans = []
        for bean in self.beans:
            attributes = found.get(bean.object_name)
            if attributes:
                ordered = tuple(attributes[name] for name in sorted(attributes))
                beans.append(MBean(bean.object_name, bean.domain, bean.properties, ordered))
        return beans

    def _find(self, name: str) -> _Key | None:
        key = self._exact.get(name)
        if key is not None:
            return key
        for bean in self._by_prefix:
            if name.startswith(bean.prefix + "_") and bean.attributes is None:
                return _Key(bean, None)
            if bean.jvm and bean.attributes is not None:
                # An item of a listed composite attribute: ``<prefix>_<attribute>_<item>``.
                for attribute in bean.attributes:
                    head = f"{bean.prefix}_{sanitize(attribute)}_"
                    if name.startswith(head):
                        return _Key(bean, None)
        return None


def _number(value: float) -> int | float:
    if math.isfinite(value) and value == int(value) and -_EXACT < value < _EXACT:
        return int(value)
    return value


def _record(name: str, value: Value, help_text: str) -> Attribute:
    java_type = "long" if value.__class__ is int else "double"
    return Attribute(sys.intern(name), java_type, value, help_text)


def _attributes(family: MetricFamily, key: _Key) -> list[Attribute]:
    bean = key.bean
    rest = family.name[len(bean.prefix) + 1 :]
    if bean.jvm:
        return _jvm_attributes(family, key, rest)
    stem = key.stem if key.stem is not None else rest.replace("_", ".")
    plain = [sample for sample in family.samples if not sample.labels]
    if family.type == "counter":
        total = next((s for s in plain if s.name in (family.name, family.name + "_total")), None)
        if total is None:
            return []
        name = stem if stem.endswith(".TotalCount") else f"{stem}.TotalCount"
        return [_record(name, _number(total.value), family.help)]
    if family.type == "summary":
        return _summary(family, stem)
    single = [s for s in plain if s.name == family.name]
    if len(single) != 1:
        return []
    return [_record(stem, _number(single[0].value), family.help)]


def _summary(family: MetricFamily, stem: str) -> list[Attribute]:
    out: list[Attribute] = []
    quantiles: list[tuple[float, float]] = []
    count = total = None
    for sample in family.samples:
        labels = dict(sample.labels)
        if sample.name == family.name + "_count" and not labels:
            count = sample.value
        elif sample.name == family.name + "_sum" and not labels:
            total = sample.value
        elif sample.name == family.name and set(labels) == {"quantile"}:
            try:
                quantiles.append((float(labels["quantile"]), sample.value))
            except ValueError:
                continue
    distribution = any(q < 0.5 for q, _ in quantiles)  # a Distribution has P01 .. P25, a TimeDistribution not
    for quantile, value in quantiles:
        out.append(_record(f"{stem}.P{round(quantile * 100):02d}", value, family.help))
    if count is not None:
        out.append(_record(f"{stem}.Count", float(count), family.help))
    if distribution and total is not None:
        out.append(_record(f"{stem}.Total", total, family.help))
    return out


def _jvm_attributes(family: MetricFamily, key: _Key, rest: str) -> list[Attribute]:
    """A raw JMX bean's gauge: a plain attribute, or one item of a CompositeData attribute (rebuilt later)."""
    plain = [s for s in family.samples if not s.labels and s.name == family.name]
    if len(plain) != 1:
        return []  # a table's rows (labelled samples) are not mapped back
    value = _number(plain[0].value)
    attribute, items = _split_jvm(rest, key)
    if not items:
        return [_record(attribute, value, family.help)]
    composite: Value = value
    for item in reversed(items):
        composite = Composite(((item, composite),))
    return [Attribute(sys.intern(attribute), "javax.management.openmbean.CompositeData", composite, family.help)]


def _split_jvm(rest: str, key: _Key) -> tuple[str, list[str]]:
    """``HeapMemoryUsage_used`` as (attribute, items), guided by the requested attribute names."""
    if key.stem is not None:
        return key.stem, []
    for attribute in key.bean.attributes or ():
        head = sanitize(attribute)
        if rest == head:
            return attribute, []
        if rest.startswith(head + "_"):
            return attribute, rest[len(head) + 1 :].split("_")
    first, *items = rest.split("_")
    return first, items


def _merge_composites(a: Composite, b: Composite) -> Composite:
    items: dict[str, Value] = dict(a.items)
    for item, value in b.items:
        old = items.get(item)
        if old is None:
            items[item] = value
        elif isinstance(old, Composite) and isinstance(value, Composite):
            items[item] = _merge_composites(old, value)
    return Composite(tuple(sorted(items.items())))


def wanted_beans(object_names: Sequence[str], attributes: Mapping[str, Sequence[str]]) -> list[Wanted]:
    """The requested beans, each with its listed attributes (None when the request has no entry for it)."""
    return [Wanted.of(name, attributes.get(name)) for name in object_names]


def guess_object_name(metric: str) -> str | None:
    """A bean name for a metric of a bean nobody listed, best effort: ``<domain>_<key>_<value>..._<attribute>``
    with the domain up to the first ``name`` or ``type`` key, keys lower-case and values one word each
    (``trino_memory_type_ClusterMemoryPool_name_general_FreeBytes`` -> ``trino.memory:type=ClusterMemoryPool,
    name=general``); a raw JMX name by its ``_NAME_`` / ``_TYPE_`` / ``_ATTRIBUTE_`` markers. None when it has no
    such shape. A value or domain that had an underscore or a space comes back wrong: list the bean instead."""
    if metric.startswith("JMX_"):
        head, marker, _ = metric[4:].partition("_ATTRIBUTE_")
        if not marker:
            return None
        head, _, type_ = head.partition("_TYPE_")
        domain, _, name = head.partition("_NAME_")
        pairs = [f"name={name}"] if name else []
        pairs += [f"type={type_}"] if type_ else []
        return f"{domain.replace('_', '.')}:{','.join(pairs)}" if pairs and domain else None
    tokens = metric.split("_")
    start = next((i for i, token in enumerate(tokens) if i and token in ("name", "type")), None)
    if start is None:
        return None
    pairs = []
    at = start
    while at + 2 < len(tokens) and tokens[at][:1].islower() and tokens[at + 1]:
        pairs.append(f"{tokens[at]}={tokens[at + 1]}")
        at += 2
    if not pairs or at >= len(tokens):
        return None
    return f"{'.'.join(tokens[:start])}:{','.join(pairs)}"
