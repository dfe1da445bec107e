"""Metric and label name rules of jmx_exporter 1.x (``toSafeName``, ``toSnakeAndLowerCase``) and of client_java 1.x
(``PrometheusNaming.sanitizeMetricName``, which drops reserved suffixes such as ``_total``)."""

from __future__ import annotations

import re

_SAFE = re.compile(r"[A-Za-z:_][A-Za-z0-9:_]*")
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9:]+")  # unsafe characters and underscores collapse into one "_"
_RESERVED_SUFFIXES = ("_total", "_created", "_bucket", "_info")


def safe_name(name: str) -> str:
    """Replace every character outside ``[a-zA-Z0-9:_]`` by ``_``, merge runs of ``_``, prefix a leading digit."""
    if _SAFE.fullmatch(name) and "__" not in name:
        return name
    collapsed = _UNSAFE_RUN.sub("_", name)
    # The prefix does not take part in merging: jmx_exporter turns "٣x" into "__x".
    return "_" + collapsed if name and name[0].isdecimal() else collapsed


def safe_label_name(name: str) -> str:
    """A label name: ``safe_name``, with ``:`` (legal only in metric names) escaped to ``_`` as client_java does.

    The escape comes first so that runs of ``_`` still collapse: ``_:`` must not become ``__``, a prefix Prometheus
    reserves for itself.
    """
    return safe_name(name.replace(":", "_"))


def snake_case(name: str) -> str:
    """``attrNameSnakeCase``: ``_`` before an upper-case letter that follows neither an upper-case letter nor ``_``,
    then lower case (``HeapMemoryUsage`` -> ``heap_memory_usage``, ``HTTPServer`` -> ``httpserver``)."""
    if not name:
        return name
    out = [name[0].lower()]
    previous_upper_or_underscore = name[0].isupper() or name[0] == "_"
    for ch in name[1:]:
        upper = ch.isupper()
        if upper and not previous_upper_or_underscore:
            out.append("_")
        out.append(ch.lower())
        previous_upper_or_underscore = upper or ch == "_"
    return "".join(out)


def strip_reserved_suffixes(name: str) -> str:
    """client_java 1.x's metric name sanitising: drop ``_total``, ``_created``, ``_bucket``, ``_info`` (repeatedly);
    a name that is only such a suffix keeps it without the underscore (``_total`` -> ``total``)."""
    if not name.endswith(_RESERVED_SUFFIXES):
        return name
    modified = True
    while modified:
        modified = False
        for suffix in _RESERVED_SUFFIXES:
            if name == suffix:
                return suffix[1:]
            if name.endswith(suffix):
                name = name[: -len(suffix)]
                modified = True
    return name
