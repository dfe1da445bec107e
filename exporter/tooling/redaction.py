"""Which captured values may hold secrets, and are therefore left out of a dump unless asked for.

jmx_exporter never reads ``java.lang:type=Runtime``'s ``SystemProperties``, ``ClassPath``, ``BootClassPath`` and
``LibraryPath`` nor the ``jdk.management.jfr:type=FlightRecorder`` bean. A dump is a file that travels (attached to
an issue, committed next to rules), so `capture` leaves out a little more: the JVM's ``InputArguments`` (``-D``
flags carry passwords), and any text whose name says it is a password, secret, token, key or credential. Numbers
and booleans are never secrets, so a counter such as ``TokenRefreshFailures`` stays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from exporter.records.mbeans import Attribute, Composite, MBean, Tabular, Value

RUNTIME_BEAN = "java.lang:type=Runtime"
RUNTIME_SECRETS = frozenset({"systemproperties", "inputarguments", "classpath", "bootclasspath", "librarypath"})
SKIPPED_BEANS = frozenset({"jdk.management.jfr:type=FlightRecorder"})
SECRET_NAME = re.compile(r"passw|secret|token|credential|private.?key|api.?key|keystore|truststore|auth", re.I)


@dataclass(frozen=True, slots=True)
class Redacted:
    """Where a value was left out: ``what`` names the bean and attribute (and item or row when nested)."""

    object_name: str
    what: str


def _is_plain(value: Value) -> bool:
    return value is None or value.__class__ in (int, float, bool)


def redact_bean(bean: MBean, left_out: list[Redacted]) -> MBean | None:
    """The bean without values that may hold secrets (None when the whole bean goes); appends to ``left_out``."""
    if bean.object_name in SKIPPED_BEANS:
        left_out.append(Redacted(bean.object_name, "the whole bean"))
        return None
    runtime = bean.object_name == RUNTIME_BEAN
    kept: list[Attribute] = []
    for attribute in bean.attributes:
        if runtime and attribute.name.lower() in RUNTIME_SECRETS:
            left_out.append(Redacted(bean.object_name, attribute.name))
            continue
        if SECRET_NAME.search(attribute.name) and not _is_plain(attribute.value):
            left_out.append(Redacted(bean.object_name, attribute.name))
            continue
        value = _redact_value(attribute.value, f"{attribute.name}", bean.object_name, left_out)
        kept.append(attribute if value is attribute.value else
                    Attribute(attribute.name, attribute.java_type, value, attribute.description))
    if len(kept) == len(bean.attributes) and all(a is b for a, b in zip(kept, bean.attributes, strict=True)):
        return bean
    return MBean(bean.object_name, bean.domain, bean.properties, tuple(kept))


def _redact_value(value: Value, where: str, object_name: str, left_out: list[Redacted]) -> Value:
    """Composite items named like secrets go; Tabular rows with a cell naming a secret (Map-shaped tables) go."""
    if isinstance(value, Composite):
        items = []
        for key, item in value.items:
            if SECRET_NAME.search(key) and not _is_plain(item):
                left_out.append(Redacted(object_name, f"{where}.{key}"))
                continue
            items.append((key, _redact_value(item, f"{where}.{key}", object_name, left_out)))
        return value if len(items) == len(value.items) else Composite(tuple(items))
    if isinstance(value, Tabular):
        rows = []
        for row in value.rows:
            named = next((v for _, v in row.items if isinstance(v, str) and SECRET_NAME.search(v)), None)
            if named is not None:
                left_out.append(Redacted(object_name, f"{where}[{named}]"))
                continue
            rows.append(row)
        return value if len(rows) == len(value.rows) else Tabular(value.index_names, tuple(rows))
    return value
