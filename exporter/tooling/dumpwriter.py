"""Write MBean records as airlift ``/v1/jmx/mbean`` JSON, the format DumpSource (and ``--target FILE``) reads.

What the records hold is written the way airlift writes it, so reading the file back gives equal records:

- numbers as JSON numbers, a double's NaN / +Inf / -Inf as the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``;
- ``java.util.Date`` (seconds since the epoch in a record) as ISO-8601 UTC text with milliseconds;
- CompositeData as an object of its items, TabularData as an array of row objects;
- a null value by leaving ``value`` out; an Unsupported value (arrays, maps, unreadable) as ``readable: false``
  without a value, as airlift writes a value it cannot serialise.

Limits of the format (airlift's, not ours): a TabularData's index columns are not marked (readers guess them, see
``exporter/rules/engine.py``), and the values behind Unsupported are gone. ``className``, ``operations`` and
``writable`` are not in the records; beans are written without the first two and with ``writable: false``.

The layout is one bean header per line and one attribute per line, beans sorted by ObjectName, so two captures
diff well.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from exporter.records.mbeans import Attribute, Composite, MBean, Tabular, Unsupported, Value

DATE_TYPES = frozenset({"java.util.Date"})


def _number(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _date(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    spec = "milliseconds" if moment.microsecond % 1000 == 0 else "microseconds"
    return moment.isoformat(timespec=spec)


def json_value(value: Value, java_type: str = "") -> Any:
    """A record value as airlift's JSON would hold it; Unsupported and None (no JSON form) must be handled first."""
    cls = value.__class__
    if cls is float:
        if java_type in DATE_TYPES:
            return _date(value)  # type: ignore[arg-type]
        return _number(value)  # type: ignore[arg-type]
    if cls is int and java_type in DATE_TYPES:
        return _date(float(value))  # type: ignore[arg-type]
    if cls is Composite:
        return _composite(value)  # type: ignore[arg-type]
    if cls is Tabular:
        return [_composite(row) for row in value.rows]  # type: ignore[union-attr]
    return value


def _composite(value: Composite) -> dict[str, Any]:
    # airlift writes the non-null items; an item with no JSON form (an array) is left out as well.
    return {
        key: json_value(item) for key, item in value.items if item is not None and item.__class__ is not Unsupported
    }


def attribute_json(attribute: Attribute) -> dict[str, Any]:
    """One attribute object, fields in airlift's order."""
    value = attribute.value
    unsupported = value.__class__ is Unsupported
    out: dict[str, Any] = {
        "name": attribute.name,
        "type": attribute.java_type,
        "description": attribute.description,
        "readable": not unsupported,
        "writable": False,
    }
    if value is not None and not unsupported:
        out["value"] = json_value(value, attribute.java_type)
    return out


def _dumps(obj: Any) -> str:
    # The stdlib encoder: it writes Java's BigInteger-sized ints, which orjson refuses.
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def write_dump(beans: Iterable[MBean]) -> str:
    """The JSON text of a ``/v1/jmx/mbean`` answer holding these beans, sorted by ObjectName."""
    ordered = sorted(beans, key=lambda bean: bean.object_name)
    lines = ["["]
    for i, bean in enumerate(ordered):
        lines.append(f'  {{"objectName":{_dumps(bean.object_name)},')
        lines.append('   "attributes":[')
        count = len(bean.attributes)
        for j, attribute in enumerate(bean.attributes):
            text = _dumps(attribute_json(attribute))
            lines.append(f"    {text}{',' if j < count - 1 else ''}")
        lines.append("   ]}" + ("," if i < len(ordered) - 1 else ""))
    lines.append("]")
    return "\n".join(lines) + "\n"
