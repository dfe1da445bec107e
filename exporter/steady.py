"""Read a scrape's values straight from the coordinator's answer when only the values changed.

Most of a big scrape is bookkeeping that comes out the same every time: turning 19,000 decoded attributes into
records, and the rule engine finding each one's remembered verdict. With value-blind rules
(:attr:`exporter.rules.RuleEngine.steady_safe`) a bean's samples can only change when its attributes' names, Java
types, descriptions or value kinds do. So after a full scrape (of the whole list, or of the beans asked for by name
over REST), a :class:`SteadyPlan` notes, for every bean, that signature and which attribute each of its samples came
from (``Collected.origins``: the engine sets it for every top-level number whose verdict it remembers by name, whether
the rules ran for it in this scrape or an earlier one); the next scrape checks each decoded bean against its signature
and reads the numbers directly. Beans whose samples the engine must work out afresh each time (CompositeData,
TabularData, attribute filters, ``java.lang:type=Runtime``) still go through records and the engine, just those beans.
Anything unexpected (a bean added, gone, reordered, an attribute that changed kind) makes ``read`` return None and the
scrape takes the full path, which is the reference.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from exporter.javanum import to_double
from exporter.mbeans import Attribute, Composite, MBean, Tabular, Value
from exporter.rules import Collected, RuleEngine
from exporter.sources import airlift
from exporter.sources.base import Listing, SourceError
from exporter.sources.listing import NotSplittable

Signature = tuple[tuple[str, str, str, type], ...]


def _record_signature(attributes: Sequence[Attribute]) -> Signature:
    return tuple((a.name, a.java_type, a.description, a.value.__class__) for a in attributes)


def _read_entries(entries: Any) -> tuple[Signature, list[Value]] | None:
    """The signature and values of the records these attribute objects give; None if some entry would be skipped."""
    if entries.__class__ is not list:
        return None
    attributes = tuple(airlift.parse_attributes(entries))
    if len(attributes) != len(entries):
        return None
    return _record_signature(attributes), [attribute.value for attribute in attributes]


class _Absent:
    """The class of a missing ``value`` field."""


_ABSENT = _Absent()


_NAME, _TYPE = itemgetter("name"), itemgetter("type")
_DESCRIPTION, _VALUE = itemgetter("description"), itemgetter("value")


def _raw_view(entries: list[Any]) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """Names, types, descriptions and raw values of attribute objects; raises on an entry that is not one."""
    # map() with itemgetter runs in C, a fifth faster than comprehensions over 19,000 attributes. airlift writes all
    # four fields on nearly every attribute; a missing one (a null value) sends just that bean the slower way.
    try:
        return list(map(_NAME, entries)), list(map(_TYPE, entries)), list(map(_DESCRIPTION, entries)), \
            list(map(_VALUE, entries))
    except KeyError:
        return (
            [entry["name"] for entry in entries],
            [entry.get("type") for entry in entries],
            [entry.get("description") for entry in entries],
            [entry.get("value", _ABSENT) for entry in entries],
        )


class _Learned:
    """A bean's attribute objects as they were when they matched the plan: the same names, types, descriptions and
    raw value classes give records with the same signature, once the ``uncertain`` conversions are checked."""

    __slots__ = ("classes", "descriptions", "names", "types", "uncertain")

    def __init__(self, entries: list[Any], signature: Signature) -> None:
        _, types, descriptions, raws = _raw_view(entries)
        # The signature's strings where they are equal, so this answer's decoded strings are not kept as well.
        self.names = [name for name, _, _, _ in signature]
        self.types = [t for _, t, _, _ in signature] if all(t.__class__ is str for t in types) else types
        self.descriptions = (
            [d for _, _, d, _ in signature] if all(d.__class__ is str for d in descriptions) else descriptions
        )
        self.classes = [raw.__class__ for raw in raws]
        self.uncertain = [
            (index, java_type, cls)
            for index, ((_, java_type, _, cls), raw) in enumerate(zip(signature, raws, strict=True))
            if airlift.class_depends_on_value(raw.__class__, java_type)
        ]

    def values(self, entries: Any) -> list[Any] | None:
        """The raw values, if these attribute objects still fit; else None."""
        try:
            names, types, descriptions, raws = _raw_view(entries)
        except (TypeError, KeyError, AttributeError):
            return None
        if names != self.names or types != self.types or descriptions != self.descriptions:
            return None
        if list(map(type, raws)) != self.classes:
            return None
        for index, java_type, cls in self.uncertain:
            if airlift.convert_value(raws[index], java_type).__class__ is not cls:
                return None
        return raws


class _Bean:
    """One bean of the answer: read directly (``direct``) or through the engine."""

    __slots__ = (
        "direct", "learned", "object_name", "others", "plain_attributes", "plain_samples", "signature", "slots",
    )  # fmt: skip

    def __init__(self, object_name: str, signature: Signature | None, slots: list[tuple[int, int, str]]) -> None:
        self.object_name = object_name
        self.direct = signature is not None
        self.signature = signature  # until the first read replaces it with ``learned``
        # (sample index, attribute index, Java type) of the samples read directly, until the first read splits them
        self.slots = slots
        self.learned: _Learned | None = None
        # Once learned, the slots split in two: ``plain`` ones whose number is float(raw), as parallel arrays of
        # sample and attribute indices (17,000 tuples of two ints would be 1.3 MB kept between scrapes), the ``others``.
        self.plain_samples: Sequence[int] = ()
        self.plain_attributes: Sequence[int] = ()
        self.others: list[tuple[int, int, str]] = []

    def read_into(self, entries: Any, numbers: list[float], verdicts: Sequence[Any]) -> bool:
        """Write the slots' sample numbers into ``numbers``; False when the attributes no longer fit the plan."""
        learned = self.learned
        if learned is None:
            read = _read_entries(entries)
            if read is None or read[0] != self.signature:
                return False
            values = read[1]
            for sample_index, index, _ in self.slots:
                numbers[sample_index] = _number(verdicts[sample_index], values[index])
            self.learned = _Learned(entries, self.signature)
            self.signature = None
            self._split(self.learned, verdicts)
            return True
        raws = learned.values(entries)
        if raws is None:
            return False
        # orjson decodes integers beyond 64 bits as floats, so float() cannot overflow here.
        for sample_index, index in zip(self.plain_samples, self.plain_attributes, strict=True):
            numbers[sample_index] = float(raws[index])
        convert = airlift.convert_value
        for sample_index, index, java_type in self.others:
            numbers[sample_index] = _number(verdicts[sample_index], convert(raws[index], java_type))
        return True

    def _split(self, learned: _Learned, verdicts: Sequence[Any]) -> None:
        """Pick the slots whose number is ``float(raw)``: a plain int or float of a numeric Java type, and a verdict
        that neither fixes the value nor scales it. Their raw classes are checked on every read."""
        plain_samples, plain_attributes = array("l"), array("l")
        others: list[tuple[int, int, str]] = []
        for sample_index, index, java_type in self.slots:
            verdict = verdicts[sample_index]
            cls = learned.classes[index]
            if (cls is int or cls is float) and java_type in airlift.NUMBER_TYPES and verdict.fixed_value is None \
                    and verdict.value_factor == 1.0:
                plain_samples.append(sample_index)
                plain_attributes.append(index)
            else:
                others.append((sample_index, index, java_type))
        self.plain_samples, self.plain_attributes, self.others = plain_samples, plain_attributes, others
        self.slots = []  # split in two: not kept twice


class SteadyPlan:
    """How the samples of one full scrape were made from its beans, so the next answer can be read directly."""

    def __init__(self, beans: list[_Bean], rows: Collected, engine_positions: list[int]) -> None:
        self._beans = beans
        self._verdicts = rows.verdicts
        self._engine_positions = engine_positions  # sample indices made by the engine, in order
        self._engine_verdicts = [rows.verdicts[i] for i in engine_positions]

    @property
    def through_engine(self) -> int:
        """How many beans each read sends through records and the engine."""
        return sum(1 for bean in self._beans if not bean.direct)

    @classmethod
    def build(cls, beans: Sequence[MBean], rows: Collected, partial: bool = True) -> SteadyPlan | None:
        """The plan for a full scrape of ``beans`` (all of a listing's beans, none skipped) that gave ``rows``.

        ``partial``: some beans may go through the engine while the others are read directly. Not with a rule cache:
        a full scrape keeps exactly the cache entries of the attributes it saw, and an engine run over some beans
        could not tell which entries of theirs to drop. There, every bean is read directly or none is, and a scrape
        that must take the full path every time finds that out before building anything.
        """
        if not partial and any(map(_opens, beans)):  # stops at the first such bean
            return None
        position: dict[int, tuple[int, int]] = {}
        for bean_index, bean in enumerate(beans):
            for attribute_index, attribute in enumerate(bean.attributes):
                position[id(attribute)] = (bean_index, attribute_index)
        direct: list[list[tuple[int, int, str]]] = [[] for _ in beans]
        by_engine: set[int] = set()
        owner = {bean.object_name: index for index, bean in enumerate(beans)}
        if len(owner) != len(beans):
            return None  # a name twice: samples could not be told apart by bean
        for sample_index, origin in enumerate(rows.origins):
            if origin is not None and id(origin) in position:
                bean_index, attribute_index = position[id(origin)]
                direct[bean_index].append((sample_index, attribute_index, origin.java_type))
            else:
                bean_index = owner.get(rows.extras[sample_index][0], -1)
                if bean_index < 0 or not partial:
                    return None
                by_engine.add(bean_index)
        plan_beans: list[_Bean] = []
        for index, bean in enumerate(beans):
            if index in by_engine or _opens(bean):
                plan_beans.append(_Bean(bean.object_name, None, []))
            else:
                plan_beans.append(_Bean(bean.object_name, _record_signature(bean.attributes), direct[index]))
        engine_positions = [i for i, extra in enumerate(rows.extras) if not plan_beans[owner[extra[0]]].direct]
        return cls(plan_beans, rows, engine_positions)

    def read(self, listing: Listing, engine: RuleEngine) -> list[float] | None:
        """This answer's sample values in the planned order, or None when it must take the full path."""
        numbers: list[float] = [0.0] * len(self._verdicts)
        verdicts = self._verdicts
        through_engine: list[MBean] = []
        beans = self._beans
        count = 0
        try:
            for item in listing.items():
                if count >= len(beans):
                    return None
                planned = beans[count]
                count += 1
                if item.get("objectName") != planned.object_name:
                    return None
                if not planned.direct:
                    through_engine.append(airlift.parse_bean(item))
                    continue
                entries = item.get("attributes")
                if entries is None:
                    entries = []
                if not planned.read_into(entries, numbers, verdicts):
                    return None
        except (NotSplittable, SourceError):
            return None
        if count != len(beans):
            return None
        if through_engine:
            rows = engine.collect(through_engine, some=True)
            if rows.verdicts != self._engine_verdicts:
                return None
            for position, number in zip(self._engine_positions, rows.numbers, strict=True):
                numbers[position] = number
        return numbers


def _opens(bean: MBean) -> bool:
    """Whether the bean has CompositeData or TabularData: its samples are made by the engine on every scrape."""
    return any(a.value.__class__ is Composite or a.value.__class__ is Tabular for a in bean.attributes)


def _number(matched: Any, value: Value) -> float:
    """What the engine's remembered-verdict path computes for a plain value."""
    if matched.fixed_value is not None:
        return matched.fixed_value * matched.value_factor  # type: ignore[no-any-return]
    if value.__class__ is bool:
        return 1.0 if value else 0.0
    return to_double(value) * matched.value_factor  # type: ignore[arg-type, no-any-return]
