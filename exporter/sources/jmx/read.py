"""Read one bean's attribute values with a single ``getAttributes`` call and build its MBean record.

A bulk read fails as a whole when one value cannot be deserialised on this side (an application class such as a
server-specific enum is not on the exporter's class path) or when a DynamicMBean refuses the bulk call. The bean is
then read attribute by attribute, as jmx_exporter does; attributes whose values cannot be deserialised are
remembered and left out of later bulk reads (they appear as ``Unsupported``), so the fallback costs one scrape.

Call only on a thread attached to the running JVM.
"""

from __future__ import annotations

from typing import Any

from exporter.records.mbeans import Attribute, MBean, Unsupported, Value
from exporter.sources.jmx.catalog import BeanLayout
from exporter.sources.jmx.connect import Connection, ConnectionLost, ValueUnreadable
from exporter.sources.jmx.errors import Kind, classify
from exporter.sources.jmx.java import java
from exporter.sources.jmx.values import convert, plain_values

_WRITE_ONLY = Unsupported("write-only attribute")


class BeanGone(Exception):
    """The bean was unregistered since it was selected."""


def read_bean(connection: Connection, layout: BeanLayout, problems: list[str]) -> MBean:
    """Read ``layout``'s bean; raise BeanGone, ConnectionLost; report newly unreadable attributes in ``problems``."""
    j = java()
    values: dict[str, Value] | None = None
    if len(layout.request) == 0:
        values = {}
    else:
        try:
            answer = connection.call(lambda m: m.getAttributes(layout.jname, layout.request))
            values = {} if answer is None else _answered(answer, layout)
        except ValueUnreadable:
            values = None
        except j.Throwable as exc:
            failure = classify(exc, connection.target)
            if failure.kind is Kind.GONE:
                raise BeanGone(layout.object_name) from None
            if failure.kind in (Kind.CONNECTION, Kind.AUTH):
                raise ConnectionLost(failure.message) from None
            values = None
    if values is None:
        values = _one_by_one(connection, layout, problems)
    layout.learn(values)
    return MBean(layout.object_name, layout.domain, layout.properties, _attributes(layout, values))


def _answered(answer: Any, layout: BeanLayout) -> dict[str, Value]:
    """The values of a getAttributes answer. Those declared as numbers or booleans (first in the request) are read
    from the text of that part of the list, in one call; the others one by one."""
    size = int(answer.size())
    count = len(layout.plain)
    if count and size >= count:
        values = plain_values(str(answer.subList(0, count).toString()), layout.plain)
        if values is not None:
            if size > count:
                values.update(_each(answer.subList(count, size)))
            return values
    return _each(answer)


def _each(attributes: Any) -> dict[str, Value]:
    """A server may put nulls and other objects in the list, which are passed over as jmx_exporter passes them."""
    # toArray(): one JNI call for the list, then plain array indexing (iterating the list costs two calls per
    # element).
    items = attributes.toArray()
    try:
        return {str(attribute.getName()): convert(attribute.getValue()) for attribute in items}
    except AttributeError:  # an element that is not an Attribute (rare: check each only then)
        attribute_class = java().Attribute
        return {str(a.getName()): convert(a.getValue()) for a in items if isinstance(a, attribute_class)}


def _one_by_one(connection: Connection, layout: BeanLayout, problems: list[str]) -> dict[str, Value]:
    j = java()
    values: dict[str, Value] = {}
    unreadable: dict[str, str] = {}
    for name in layout.readable_names():
        try:
            values[name] = convert(connection.call(lambda m, n=name: m.getAttribute(layout.jname, n)))
        except ValueUnreadable as exc:
            unreadable[name] = str(exc)
        except j.Throwable as exc:
            failure = classify(exc, connection.target)
            if failure.kind is Kind.GONE:
                raise BeanGone(layout.object_name) from None
            if failure.kind in (Kind.CONNECTION, Kind.AUTH):
                raise ConnectionLost(failure.message) from None
            # The getter threw: the attribute is left out, as getAttributes and airlift's JSON leave it out.
    if unreadable:
        layout.mark_unreadable(unreadable)
        for name, reason in sorted(unreadable.items()):
            problems.append(f"{layout.object_name} attribute {name}: {reason}")
    return values


def _attributes(layout: BeanLayout, values: dict[str, Value]) -> tuple[Attribute, ...]:
    """Attributes in MBeanInfo order; those whose getter threw are absent (as in airlift's JSON)."""
    out: list[Attribute] = []
    for info in layout.attributes:
        if not info.readable:
            value: Value = _WRITE_ONLY
        elif info.name in layout.unreadable:
            value = Unsupported(layout.unreadable[info.name])
        elif info.name in layout.not_read:
            value = layout.not_read[info.name]
        elif info.name in values:
            value = values[info.name]
        else:
            continue
        out.append(Attribute(info.name, info.java_type, value, info.description))
    return tuple(out)

