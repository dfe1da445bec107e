"""Parse airlift's ``/v1/jmx/mbean`` JSON into MBean records.

airlift writes one object per MBean (``objectName``, ``className``, ``attributes`` ...) and one object per attribute
(``name``, ``type``, ``readable``, ``value``). Java types decide how a JSON value is read: doubles arrive as numbers
or as the strings ``"NaN"``/``"Infinity"``/``"-Infinity"``; CompositeData as an object; TabularData as an array of
row objects; ``java.util.Map`` as an object (not exported, as jmx_exporter does not export maps); a null value or an
unserialisable one has no ``value`` field.

TabularData over REST loses its index columns; the rule engine then guesses them (see ``exporter/rules/engine.py``).
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

import orjson

from exporter.records.mbeans import (
    DOUBLE_TYPES,
    MAX_NESTING,
    TOO_DEEP,
    Attribute,
    Composite,
    MBean,
    Tabular,
    Unsupported,
    Value,
)
from exporter.records.objectname import ObjectNameError, parse_object_name
from exporter.sources.base import SourceError

_SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_INTEGER_TYPES = frozenset(
    {"long", "int", "short", "byte", "java.lang.Long", "java.lang.Integer", "java.lang.Short", "java.lang.Byte"}
)
_COMPOSITE_TYPES = frozenset(
    {"javax.management.openmbean.CompositeData", "javax.management.openmbean.CompositeDataSupport"}
)
_TABULAR_TYPES = frozenset({"javax.management.openmbean.TabularData", "javax.management.openmbean.TabularDataSupport"})
# Types whose JSON is a string but whose Java value is neither a String nor an enum: jmx_exporter skips them.
_NOT_EXPORTED_STRING_TYPES = frozenset({"javax.management.ObjectName", "java.lang.Class", "java.net.URI"})
_DATE_TYPES = frozenset({"java.util.Date"})


def loads(body: bytes, what: str) -> Any:
    """Decode a JSON body, turning decoder errors into a SourceError that says where it broke."""
    if not body or body.isspace():  # isspace scans without copying a big body
        raise SourceError(f"{what}: empty body")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise SourceError(f"{what}: malformed JSON ({exc})") from None


def parse_bean_list(document: Any, what: str) -> tuple[list[MBean], list[str]]:
    """Read a decoded ``/v1/jmx/mbean`` list; beans that cannot be read are skipped and reported as problems."""
    if not isinstance(document, list):
        raise SourceError(f"{what}: expected a JSON array of MBeans, got {_json_kind(document)}")
    return _parse_items(document, what)


def read_bean_list(body: bytes, what: str) -> tuple[list[MBean], list[str]]:
    """``parse_bean_list(loads(body, what), what)``, decoding the array one bean at a time where it can.

    The decoder builds a tree of the whole text before the Python objects, several times the size of the text: for
    the whole list of a coordinator that tree, not the records, is what a scrape's memory peaks at. Each bean's text
    is found by the ``},{"objectName":`` between two beans (in valid JSON that sequence, with its unescaped quotes,
    cannot lie inside a string) and decoded alone, then dropped once it is a record. Where the text does not split
    that way into values that decode (the same sequence inside a nested value, or text that is not JSON), the whole
    body is decoded as before, with its errors."""
    start, end = body.find(b"["), body.rfind(b"]")
    if start < 0 or end < start or body[:start].strip() or body[end + 1 :].strip():
        return parse_bean_list(loads(body, what), what)
    try:
        return _parse_items(_each_bean(memoryview(body), start + 1, end), what)
    except orjson.JSONDecodeError:
        return parse_bean_list(loads(body, what), what)


_BETWEEN_BEANS = re.compile(rb'}\s*,\s*(?={\s*"objectName"\s*:)')


def _each_bean(body: memoryview, start: int, end: int) -> Iterator[Any]:
    for match in _BETWEEN_BEANS.finditer(body, start, end):
        yield orjson.loads(body[start : match.start() + 1])
        start = match.end()
    if body[start:end].tobytes().strip():
        yield orjson.loads(body[start:end])


def _parse_items(items: Iterable[Any], what: str) -> tuple[list[MBean], list[str]]:
    beans: list[MBean] = []
    problems: list[str] = []
    count = 0
    for index, item in enumerate(items):
        count += 1
        try:
            beans.append(parse_bean(item))
        except SourceError as exc:
            problems.append(f"{what}[{index}]: {exc}")
    if count and not beans:
        raise SourceError(f"{what}: none of the {count} entries is an MBean ({problems[0]})")
    return beans, problems


def parse_bean(item: Any) -> MBean:
    """Read one decoded MBean object."""
    if not isinstance(item, dict):
        raise SourceError(f"expected an MBean object, got {_json_kind(item)}")
    name = item.get("objectName")
    if not isinstance(name, str):
        raise SourceError("MBean without a string 'objectName'")
    try:
        domain, properties = parse_object_name(name)
    except ObjectNameError as exc:
        raise SourceError(f"bad objectName: {exc}") from None
    raw_attributes = item.get("attributes")
    if raw_attributes is None:
        raw_attributes = []
    if not isinstance(raw_attributes, list):
        raise SourceError(f"{name}: 'attributes' is {_json_kind(raw_attributes)}, not an array")
    return MBean(name, domain, properties, tuple(parse_attributes(raw_attributes)))


def parse_attributes(raw: Iterable[Any]) -> Iterable[Attribute]:
    """The records of a bean's decoded attribute objects; entries that are not objects or have no name are skipped.

    Names, types and descriptions are interned: they recur across beans of one kind and across scrapes, and the rule
    memo keeps them for as long as the exporter runs (one copy each instead of one per record).
    """
    intern = sys.intern
    for entry in raw:
        if not isinstance(entry, dict):
            continue
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            continue
        java_type = entry.get("type")
        java_type = intern(java_type) if isinstance(java_type, str) else ""
        description = entry.get("description")
        value = attribute_value(entry, java_type)
        yield Attribute(intern(name), java_type, value, intern(description) if isinstance(description, str) else "")


def attribute_value(entry: dict[str, Any], java_type: str) -> Value:
    """The record value of one decoded attribute object whose (string) Java type is ``java_type``."""
    if "value" in entry:
        return convert_value(entry["value"], java_type)
    if entry.get("readable") is False:
        return Unsupported("no value in the JSON (the server could not serialise it, or capture left it out)")
    return None


def convert_value(raw: Any, java_type: str) -> Value:
    """Turn one JSON value into a record value, guided by its declared Java type."""
    if raw is None:
        return None
    if java_type in DOUBLE_TYPES:
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            return float(raw)
        if isinstance(raw, str) and raw in _SPECIAL_DOUBLES:
            return _SPECIAL_DOUBLES[raw]
        return Unsupported(f"{java_type} value is not a number: {raw!r}")
    if java_type in _INTEGER_TYPES:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        return Unsupported(f"{java_type} value is not an integer: {raw!r}")
    if java_type in _DATE_TYPES:
        return _date_seconds(raw)
    if java_type in _COMPOSITE_TYPES:
        return _composite(raw) if isinstance(raw, dict) else Unsupported(f"CompositeData is {_json_kind(raw)}")
    if java_type in _TABULAR_TYPES:
        if isinstance(raw, list):
            return Tabular((), tuple(_composite(row) for row in raw if isinstance(row, dict)))
        return Unsupported(f"TabularData is {_json_kind(raw)}")
    if java_type in _NOT_EXPORTED_STRING_TYPES:
        return Unsupported(f"{java_type} is not exported")
    return _untyped(raw, java_type)


def _date_seconds(raw: Any) -> Value:
    """jmx_exporter exports a Date as seconds since the epoch; airlift writes it as ISO-8601 text (or millis)."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return raw / 1000.0
    if isinstance(raw, str):
        text = raw[:-1] + "+00:00" if raw.endswith("Z") else raw
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return Unsupported(f"java.util.Date value is not ISO-8601: {raw!r}")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.timestamp()
    return Unsupported(f"java.util.Date is {_json_kind(raw)}")


def _untyped(raw: Any, java_type: str) -> Value:
    """A value whose Java type does not tell how to read it: go by its JSON kind."""
    if isinstance(raw, (bool, int, float, str)):
        return raw
    if isinstance(raw, list):
        return Unsupported(f"arrays are not exported ({java_type or 'array'})")
    if isinstance(raw, dict):
        return Unsupported(f"{java_type or 'an object'} is not exported")
    return Unsupported(f"{java_type} is not exported")


def _composite(raw: dict[str, Any], depth: int = 1) -> Composite:
    """CompositeData items carry no types over REST: numbers stay numbers and NaN/Infinity strings become doubles.
    ``depth`` is this composite's level; items below :data:`~exporter.records.mbeans.MAX_NESTING` become
    ``TOO_DEEP``."""
    items: list[tuple[str, Value]] = []
    for key in sorted(raw):
        value = raw[key]
        if isinstance(value, str) and value in _SPECIAL_DOUBLES:
            items.append((key, _SPECIAL_DOUBLES[value]))
        elif isinstance(value, dict):
            items.append((key, _composite(value, depth + 1) if depth < MAX_NESTING else TOO_DEEP))
        elif isinstance(value, list):
            rows = [row for row in value if isinstance(row, dict)]
            if rows and depth >= MAX_NESTING:
                items.append((key, TOO_DEEP))
            elif rows or not value:
                items.append((key, Tabular((), tuple(_composite(row, depth + 1) for row in rows))))
            else:
                items.append((key, Unsupported("arrays are not exported")))
        else:
            items.append((key, value))
    return Composite(tuple(items))


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"
