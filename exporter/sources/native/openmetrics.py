"""Read the OpenMetrics text Trino's ``/metrics`` answers (airlift's openmetrics module) into metric families.

Accepted as airlift writes it in every release Trino 480-483 ship: ``# TYPE`` and ``# HELP`` once per family or
before every metric, Java's number text (``2.0``, ``6.8719476736E10``, ``NaN``, ``Infinity``), counters without
``_total``; and as the OpenMetrics and Prometheus text formats have it (``+Inf``, ``_total``, ``# UNIT``,
timestamps, a missing ``# EOF``). Samples of a family that was not declared form a family of their own, of type
``unknown``.
"""

from __future__ import annotations

import re

from exporter.records.metrics import MetricFamily, MetricSample
from exporter.sources.base import SourceError

# Which sample names a family of each type has, besides its own name.
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "summary": ("_count", "_sum", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created", "_gcount", "_gsum"),
    "gaugehistogram": ("_bucket", "_gcount", "_gsum"),
    "info": ("_info",),
}
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}


def parse(text: str, what: str) -> list[MetricFamily]:
    """The families of an OpenMetrics or Prometheus text exposition, in the order they first appear.

    Raises SourceError naming ``what`` and the line when a line is neither a comment nor a sample (an HTML error
    page, JSON, a truncated line)."""
    families: dict[str, MetricFamily] = {}
    current: MetricFamily | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("TYPE", "HELP"):
                family = families.get(parts[2])
                if family is None:
                    family = families[parts[2]] = MetricFamily(parts[2])
                if parts[1] == "TYPE":
                    family.type = (parts[3] if len(parts) > 3 else "unknown").strip().lower()
                else:
                    family.help = _unescape(parts[3]) if len(parts) > 3 else ""
                current = family
            elif line.strip() == "# EOF":
                break
            continue
        sample = _sample(line)
        if sample is None:
            raise SourceError(f"{what}: line {number} is not OpenMetrics text: {line[:120]!r}")
        if current is None or not _belongs(sample.name, current):
            current = _owner(sample.name, families)
        current.samples.append(sample)
    return list(families.values())


def _belongs(name: str, family: MetricFamily) -> bool:
    if name == family.name:
        return True
    return name.startswith(family.name) and name[len(family.name):] in _SUFFIXES.get(family.type, ())


def _owner(name: str, families: dict[str, MetricFamily]) -> MetricFamily:
    """The declared family a sample line belongs to (``x_count`` to summary ``x``), else one named after it."""
    family = families.get(name)
    if family is not None:
        return family
    for suffixes in _SUFFIXES.values():
        for suffix in suffixes:
            if name.endswith(suffix):
                candidate = families.get(name[: -len(suffix)])
                if candidate is not None and _belongs(name, candidate):
                    return candidate
    family = families[name] = MetricFamily(name)
    return family


def _sample(line: str) -> MetricSample | None:
    match = _NAME.match(line)
    if match is None:
        return None
    name = match.group()
    at = match.end()
    labels: tuple[tuple[str, str], ...] = ()
    if at < len(line) and line[at] == "{":
        parsed = _labels(line, at + 1)
        if parsed is None:
            return None
        labels, at = parsed
    rest = line[at:].split()
    if not rest or len(rest) > 2 or line[at : at + 1] not in (" ", "\t"):
        return None
    try:
        value = float(rest[0])
    except ValueError:
        return None
    return MetricSample(name, labels, value)


def _labels(line: str, at: int) -> tuple[tuple[tuple[str, str], ...], int] | None:
    """The labels from just after ``{`` and where the text after ``}`` starts; None when they are malformed."""
    labels: list[tuple[str, str]] = []
    n = len(line)
    while True:
        while at < n and line[at] in " ,":
            at += 1
        if at < n and line[at] == "}":
            return tuple(labels), at + 1
        match = _LABEL_NAME.match(line, at)
        if match is None or line[match.end() : match.end() + 2] != '="':
            return None
        at = match.end() + 2
        value: list[str] = []
        while at < n and line[at] != '"':
            if line[at] == "\\" and at + 1 < n:
                value.append(_ESCAPES.get(line[at + 1], "\\" + line[at + 1]))
                at += 2
            else:
                value.append(line[at])
                at += 1
        if at >= n:
            return None
        labels.append((match.group(), "".join(value)))
        at += 1


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), text)
