"""Turn attribute values read over JMX into the source-neutral record values of :mod:`exporter.records.mbeans`.

The result must equal what the REST parser (:mod:`exporter.sources.airlift`) makes of the same value, except where
JMX knows more: TabularData keeps its real index columns. Rules, mirroring jmx_exporter and airlift's JSON:

- integral numbers -> ``int``; Double -> ``float``; Float -> the ``float`` of its decimal form (``0.1f`` -> 0.1,
  as airlift writes it) rather than its widened binary value;
- Boolean -> ``bool``; String -> ``str``; enums -> ``toString()``; Date -> seconds since the epoch (``float``);
- CompositeData -> :class:`Composite` (items sorted by key; null items left out, as airlift's JSON leaves them out);
- TabularData -> :class:`Tabular` with the type's index names; Optional -> its content or None;
- arrays, maps, collections, Character and other objects -> :class:`Unsupported`.

Call only on a thread attached to the running JVM.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from exporter.records.mbeans import MAX_NESTING, TOO_DEEP, Composite, Tabular, Unsupported, Value
from exporter.sources.jmx.java import java

# The converter for each Java class met so far: what a value becomes depends on its class alone.
_BY_CLASS: dict[type, Callable[[Any], Value]] = {}


def convert(value: Any) -> Value:
    """Convert one Java value (as JPype hands it over) to a record value."""
    if value is None:
        return None
    converter = _BY_CLASS.get(type(value))
    if converter is None:
        converter = _BY_CLASS[type(value)] = _converter_for(value)
    return converter(value)


def _converter_for(value: Any) -> Callable[[Any], Value]:
    j = java()
    if isinstance(value, (j.Long, j.Integer, j.Short, j.Byte)):
        return int
    if isinstance(value, j.Double):
        return float
    if isinstance(value, j.Boolean):
        return bool
    if isinstance(value, j.Float):
        return _java_text_float  # Java's shortest decimal form; "NaN"/"Infinity" parse too
    if isinstance(value, j.Number):
        return _number
    if isinstance(value, j.String):
        return str
    if isinstance(value, j.CompositeData):
        return composite
    if isinstance(value, j.TabularData):
        return tabular
    if isinstance(value, j.Date):
        return _seconds
    if isinstance(value, j.Enum):
        return _text
    if isinstance(value, j.Optional):
        return _content
    unsupported = Unsupported(f"arrays are not exported ({value.getClass().getName()})" if isinstance(value, j.JArray)
                              else f"{value.getClass().getName()} is not exported")  # fmt: skip
    return lambda _value: unsupported


def _java_text_float(value: Any) -> float:
    return float(str(value.toString()))


def _seconds(value: Any) -> float:
    return int(value.getTime()) / 1000.0


def _text(value: Any) -> str:
    return str(value.toString())


def _content(value: Any) -> Value:
    return convert(value.orElse(None))


def _number(value: Any) -> Value:
    j = java()
    if isinstance(value, j.BigDecimal):
        return float(str(value.toString()))
    if isinstance(value, j.BigInteger):
        return int(str(value.toString()))
    # AtomicLong, LongAdder, DoubleAdder...: integral unless the double value says otherwise.
    as_double = float(value.doubleValue())
    as_long = int(value.longValue())
    return as_long if as_double == as_long else as_double


def composite(value: Any, depth: int = 1) -> Composite:
    """CompositeData -> Composite, items sorted by key, null items dropped. ``depth`` is this composite's level:
    composite and table items below :data:`~exporter.records.mbeans.MAX_NESTING` become ``TOO_DEEP``."""
    j = java()
    keys = sorted(str(key) for key in value.getCompositeType().keySet())
    items = value.getAll(j.StringArray(keys)) if keys else []
    pairs = []
    for key, item in zip(keys, items, strict=True):
        if item is None:
            continue
        if isinstance(item, j.CompositeData):
            pairs.append((key, composite(item, depth + 1) if depth < MAX_NESTING else TOO_DEEP))
        elif isinstance(item, j.TabularData):
            pairs.append((key, tabular(item, depth + 1) if depth < MAX_NESTING else TOO_DEEP))
        else:
            pairs.append((key, convert(item)))
    return Composite(tuple(pairs))


def tabular(value: Any, depth: int = 1) -> Tabular:
    """TabularData -> Tabular with the real index columns; rows (at ``depth``) in the table's iteration order."""
    index_names = tuple(str(name) for name in value.getTabularType().getIndexNames())
    rows = tuple(composite(row, depth) for row in value.values().toArray())
    return Tabular(index_names, rows)


# What Long/Integer/Short/Byte.toString(), Double/Float.toString() and Boolean.toString() write, or a null.
_NUMBER = r"(-?[0-9]+(?:\.[0-9]+(?:E-?[0-9]+)?)?|NaN|-?Infinity|null)"
_BOOLEAN = r"(true|false|null)"
_NON_JSON = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


@functools.lru_cache(maxsize=4096)
def _list_pattern(plain: tuple[tuple[str, bool], ...]) -> re.Pattern[str]:
    # Shared by the beans of one kind, which have the same attribute list.
    items = ", ".join(f"{re.escape(name)} = {_BOOLEAN if boolean else _NUMBER}" for name, boolean in plain)
    return re.compile(rf"\[{items}\]")


class PlainList:
    """Attributes declared as numbers or booleans (``plain``: each name, in request order, with whether it is a
    boolean), and the pattern of their ``AttributeList.toString()``; built when a bean's request is arranged."""

    __slots__ = ("names", "pattern")

    def __init__(self, plain: tuple[tuple[str, bool], ...]) -> None:
        self.names = tuple(name for name, _ in plain)
        self.pattern = _list_pattern(plain) if plain else None

    def __len__(self) -> int:
        return len(self.names)


def plain_values(text: str, plain: PlainList) -> dict[str, Value] | None:
    """Read the ``toString()`` of an AttributeList of ``plain``'s attributes: ``[Name = 12, Other = 1.5E3, ...]``.

    One call for the whole list instead of two per attribute. None unless the text is exactly those attributes in
    that order, each with a value such a type writes, so a list the server shortened (a getter threw) or a value of
    another class is read the ordinary way. A value is typed by its text, as the Java class behind it wrote it
    (``5`` an int, ``5.0`` a float), which is what :func:`convert` makes of the value itself."""
    match = plain.pattern.fullmatch(text) if plain.pattern is not None else None
    if match is None:
        return None
    texts = match.groups()
    joined = ",".join(texts)
    if "N" in joined or "I" in joined:  # NaN or Infinity, which JSON has no words for
        values: Sequence[Value] = [_NON_JSON[item] if item in _NON_JSON else orjson.loads(item) for item in texts]
    else:
        # What the pattern admits is JSON in these forms, and reads as Python reads each value's text.
        values = orjson.loads(f"[{joined}]")
    return dict(zip(plain.names, values, strict=True))
