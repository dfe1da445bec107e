"""Source-neutral MBean records.

Every source (REST, dump file, JMX) turns what it reads into these records; the rule engine and the tooling read
only these. Nothing here knows about Prometheus or about where the data came from.

Values are normalised to a small closed set:

- ``int`` / ``float`` for Java numbers (``float`` may be NaN or an infinity),
- ``bool``, ``str`` (strings and enum names),
- :class:`Composite` for CompositeData (items sorted by key, as ``CompositeType.keySet()`` iterates),
- :class:`Tabular` for TabularData,
- :class:`Unsupported` for what jmx_exporter does not export (arrays, maps, unknown objects, unreadable values),
- ``None`` for a null value.

The records are treated as immutable and hash by value, but they are not ``frozen`` dataclasses: a frozen
dataclass sets each field through ``object.__setattr__``, which makes building one record per attribute of a big
coordinator markedly slower. Nothing assigns to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

Value = Union[int, float, bool, str, "Composite", "Tabular", "Unsupported", None]

DOUBLE_TYPES = frozenset({"double", "float", "java.lang.Double", "java.lang.Float"})

# How many CompositeData levels one attribute value may hold (a table's rows count as one level more than the item
# holding the table). Real MBeans nest a few; every walk over a value (conversion, rules, hashing, dumps) recurses,
# so a pathological answer nested a thousand deep would otherwise exhaust the stack and lose the whole scrape.
MAX_NESTING = 64


@dataclass(slots=True, unsafe_hash=True)
class Composite:
    """CompositeData: named items, sorted by name."""

    items: tuple[tuple[str, Value], ...]


@dataclass(slots=True, unsafe_hash=True)
class Tabular:
    """TabularData: rows of composite items; ``index_names`` is empty when the source cannot know them (REST)."""

    index_names: tuple[str, ...]
    rows: tuple[Composite, ...]


@dataclass(slots=True, unsafe_hash=True)
class Unsupported:
    """A value jmx_exporter would not export; ``reason`` says why (for `explain`)."""

    reason: str


@dataclass(slots=True, unsafe_hash=True)
class Attribute:
    """One MBean attribute as read from the source."""

    name: str
    java_type: str
    value: Value
    description: str = ""


@dataclass(slots=True, unsafe_hash=True)
class MBean:
    """One MBean.

    ``object_name`` is the name as registered (``ObjectName.toString()``), key properties in registration order;
    ``properties`` holds the same pairs, values raw (quoted values keep their quotes).
    """

    object_name: str
    domain: str
    properties: tuple[tuple[str, str], ...]
    attributes: tuple[Attribute, ...]


TOO_DEEP = Unsupported(f"CompositeData nested more than {MAX_NESTING} levels deep is not exported")
