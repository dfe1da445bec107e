"""Which MBeans a request selects and what their attributes are, cached until the bean set changes.

Beans are selected on the server: ``queryNames`` once per include pattern or literal name (or once for
everything). The selection and each bean's MBeanInfo are kept across scrapes and refreshed only when registration
notifications say the bean set changed (or, when the server refuses the listener, when ``getMBeanCount`` moves),
so a steady-state scrape costs one ``getAttributes`` call per bean and nothing else.

Call only on a thread attached to the running JVM.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from exporter.records.mbeans import Unsupported, Value
from exporter.records.objectname import ObjectNameError, Properties, parse_object_name
from exporter.sources.base import BeanRequest
from exporter.sources.jmx.connect import Connection, ValueUnreadable
from exporter.sources.jmx.errors import Kind, classify
from exporter.sources.jmx.java import java
from exporter.sources.jmx.values import PlainList


@dataclass(frozen=True, slots=True)
class AttributeLayout:
    name: str
    java_type: str
    description: str
    readable: bool


# Declared types whose values' toString() is a plain number or boolean: read in bulk (see read.py).
PLAIN_TYPES = frozenset({
    "long", "int", "short", "byte", "double", "float", "java.lang.Long", "java.lang.Integer", "java.lang.Short",
    "java.lang.Byte", "java.lang.Double", "java.lang.Float",
})  # fmt: skip
BOOLEAN_TYPES = frozenset({"boolean", "java.lang.Boolean"})
# Declared types whose values no rule exports once one is seen to be of a class the exporter leaves out (a map of
# percentiles, an array): such an attribute is not read again (see BeanLayout.learn). Not skipped unseen, because a
# JDK class implements java.util.Map and TabularData both.
CONTAINER_TYPES = frozenset({"java.util.Map", "java.util.List", "java.util.Set", "java.util.Collection"})


def _container(java_type: str) -> bool:
    return java_type in CONTAINER_TYPES or java_type.startswith("[")


@dataclass(slots=True)
class BeanLayout:
    """One selected bean: its registered name, MBeanInfo digest, and the attribute names sent to getAttributes.

    ``request`` lists the attributes declared as numbers or booleans first: ``plain`` names them, in that order,
    with the pattern their part of the answer is read by. ``unreadable`` maps attributes whose values cannot be
    deserialised here (their class is not on this JVM's class path) to the reason; they are left out of ``request``
    so the bulk read keeps working. ``not_read`` maps attributes declared as a map, collection or array whose first
    value was of a class no rule exports to that value; they are left out of ``request`` too, and keep that value.
    """

    object_name: str
    domain: str
    properties: Properties
    jname: Any
    attributes: tuple[AttributeLayout, ...]
    request: Any = None
    plain: PlainList = field(default_factory=lambda: PlainList(()))
    unreadable: dict[str, str] = field(default_factory=dict)
    not_read: dict[str, Unsupported] = field(default_factory=dict)
    containers: tuple[str, ...] = ()  # declared as a map, collection or array, and not yet seen

    def __post_init__(self) -> None:
        if self.request is None:
            self.containers = tuple(a.name for a in self.attributes if a.readable and _container(a.java_type))
            self._arrange()

    def readable_names(self) -> list[str]:
        return [a.name for a in self._to_read()]

    def mark_unreadable(self, reasons: dict[str, str]) -> None:
        self.unreadable.update(reasons)
        self._arrange()

    def learn(self, values: dict[str, Value]) -> None:
        """After a read: the containers whose value ``values`` holds are seen; those of a class no rule exports
        are not read again."""
        if not self.containers:
            return
        unseen = []
        seen_unsupported = False
        for name in self.containers:
            value = values.get(name)
            if isinstance(value, Unsupported):
                self.not_read[name] = value
                seen_unsupported = True
            elif value is None:
                unseen.append(name)  # a null (or a getter that threw) says nothing of the class
        self.containers = tuple(unseen)
        if seen_unsupported:
            self._arrange()

    def _to_read(self) -> list[AttributeLayout]:
        return [a for a in self.attributes
                if a.readable and a.name not in self.unreadable and a.name not in self.not_read]  # fmt: skip

    def _arrange(self) -> None:
        readable = self._to_read()
        plain = [a for a in readable if a.java_type in PLAIN_TYPES or a.java_type in BOOLEAN_TYPES]
        rest = [a.name for a in readable if not (a.java_type in PLAIN_TYPES or a.java_type in BOOLEAN_TYPES)]
        self.plain = PlainList(tuple((a.name, a.java_type in BOOLEAN_TYPES) for a in plain))
        self.request = java().StringArray([*self.plain.names, *rest])


class BeanCatalog:
    """The cached selection for the last request on one connection."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._layouts: dict[str, BeanLayout] = {}
        self._key: tuple[object, ...] | None = None
        self._selected: list[BeanLayout] = []
        self._problems: tuple[str, ...] = ()
        self._count: int | None = None
        self._stale = True
        self.rebuilds = 0

    def forget(self, layout: BeanLayout) -> None:
        """A bean vanished between the query and the read: query again next time."""
        self._layouts.pop(layout.object_name, None)
        self._stale = True

    def select(self, request: BeanRequest) -> tuple[list[BeanLayout], tuple[str, ...]]:
        """The layouts of the beans the request selects, in name order, and problems found while describing them."""
        key = (request.object_names, request.patterns)
        everything, changed = self._connection.changes.take()
        if not self._connection.watching:
            count = int(self._connection.call(lambda m: m.getMBeanCount()))
            if count != self._count:
                self._count = count
                self._stale = True
        if everything:
            self._layouts.clear()
        for name in changed:
            self._layouts.pop(name, None)
        if key == self._key and not (self._stale or everything or changed):
            return self._selected, ()
        problems: list[str] = []
        selected: list[BeanLayout] = []
        for name, jname in self._query(request, problems):
            layout = self._layouts.get(name)
            if layout is None:
                layout = self._describe(name, jname, problems)
                if layout is None:
                    continue
                self._layouts[name] = layout
            selected.append(layout)
        selected.sort(key=lambda layout: layout.object_name)
        self._selected, self._key, self._stale = selected, key, False
        self.rebuilds += 1
        return selected, tuple(problems)

    def _query(self, request: BeanRequest, problems: list[str]) -> list[tuple[str, Any]]:
        j = java()
        if request.object_names is not None:
            texts: list[str | None] = list(request.object_names)
        elif request.patterns:
            texts = list(request.patterns)
        else:
            texts = [None]
        found: dict[str, tuple[str, Any]] = {}
        for text in texts:
            try:
                pattern = None if text is None else j.ObjectName(text)
            except j.MalformedObjectNameException as exc:
                problems.append(f"{text!r} is not an ObjectName the JMX server accepts: {exc.getMessage()}")
                continue
            names = self._connection.call(lambda m, p=pattern: m.queryNames(p, None))
            for jname in names.toArray():
                canonical = str(jname.getCanonicalName())
                if canonical not in found:
                    found[canonical] = (str(jname.toString()), jname)
        return list(found.values())

    def _describe(self, name: str, jname: Any, problems: list[str]) -> BeanLayout | None:
        j = java()
        try:
            domain, properties = parse_object_name(name)
        except ObjectNameError as exc:
            problems.append(f"{name}: {exc}")
            return None
        try:
            info = self._connection.call(lambda m: m.getMBeanInfo(jname))
        except ValueUnreadable as exc:
            problems.append(f"{name}: cannot read its MBeanInfo: {exc}")
            return None
        except j.Throwable as exc:
            failure = classify(exc, self._connection.target)
            if failure.kind is not Kind.GONE:
                problems.append(f"{name}: cannot read its MBeanInfo: {failure.message}")
            return None
        attributes = tuple(
            AttributeLayout(
                str(info_attr.getName()),
                _text(info_attr.getType()),
                _text(info_attr.getDescription()),
                bool(info_attr.isReadable()),
            )
            for info_attr in info.getAttributes()
        )
        return BeanLayout(name, domain, properties, jname, attributes)


def _text(value: Any) -> str:
    return "" if value is None else str(value)
