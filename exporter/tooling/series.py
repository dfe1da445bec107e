"""Exposition series as a user reads them on ``/metrics``: ``name{label="value"} value``.

Families keep a counter's name without ``_total``; a series carries the name as exposed. ``parse_selector`` reads
the ``name{a="b"}`` form users copy from ``/metrics`` (label values in double quotes, ``\\"``, ``\\\\`` and ``\\n``
escaped as in the exposition format).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from exporter.config.model import MetricType
from exporter.output.exposition import go_float
from exporter.output.families import Family
from exporter.rules.engine import Sample

Labels = tuple[tuple[str, str], ...]

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*\"")
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}


@dataclass(frozen=True, slots=True)
class Series:
    """One exposed series and the sample it came from (the sample tells the rule's match string and the bean)."""

    name: str
    labels: Labels
    value: float
    type: MetricType
    sample: Sample

    @property
    def key(self) -> tuple[str, Labels]:
        return self.name, self.labels


def exposed_name(family_name: str, kind: MetricType) -> str:
    """The name on ``/metrics`` (text format): a counter's gets ``_total``."""
    if kind is MetricType.COUNTER and not family_name.endswith("_total"):
        return family_name + "_total"
    return family_name


def series_of(families: Iterable[Family]) -> list[Series]:
    """Every series of these families, in exposition order."""
    return [
        Series(exposed_name(family.name, family.type), sample.labels, sample.value, family.type, sample)
        for family in families
        for sample in family.samples
    ]


def format_labels(labels: Labels) -> str:
    if not labels:
        return ""
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for _, value in labels)
    return "{" + ",".join(f'{name}="{value}"' for (name, _), value in zip(labels, escaped, strict=True)) + "}"


def format_value(value: float) -> str:
    return go_float(value)


def format_series(name: str, labels: Labels, value: float | None = None) -> str:
    text = name + format_labels(labels)
    return text if value is None else f"{text} {format_value(value)}"


def same_value(expected: float, actual: float) -> bool:
    """Equal, NaN equal to NaN, or within a relative 1e-9 (``valueFactor: 0.001`` gives 0.12300000000000001)."""
    if math.isnan(expected) or math.isnan(actual):
        return math.isnan(expected) and math.isnan(actual)
    return expected == actual or math.isclose(expected, actual, rel_tol=1e-9, abs_tol=0.0)


class SelectorError(ValueError):
    """The text is not ``name`` or ``name{label="value", ...}``."""


def parse_selector(text: str) -> tuple[str, Labels]:
    """``name{a="b",c="d"}`` -> (name, sorted labels); raise SelectorError saying what is wrong."""
    text = text.strip()
    found = _NAME.match(text)
    if found is None:
        raise SelectorError(f"{text!r} does not start with a metric name")
    name, rest = found.group(), text[found.end():].strip()
    if not rest:
        return name, ()
    if not rest.startswith("{") or not rest.endswith("}"):
        raise SelectorError(f"expected '{{' after the name and '}}' at the end in {text!r}")
    body, labels, i = rest[1:-1], {}, 0
    while i < len(body) and body[i:].strip():
        label = _LABEL_NAME.match(body, i)
        if label is None:
            raise SelectorError(f"expected label=\"value\" at {body[i:]!r} in {text!r}")
        i, value = _quoted(body, label.end(), text)
        if label.group(1) in labels:
            raise SelectorError(f"label {label.group(1)!r} appears twice in {text!r}")
        labels[label.group(1)] = value
        rest_of_body = body[i:].lstrip()
        if rest_of_body and not rest_of_body.startswith(","):
            raise SelectorError(f"expected ',' between labels at {rest_of_body!r} in {text!r}")
        i = len(body) - len(rest_of_body) + (1 if rest_of_body else 0)
    return name, tuple(sorted(labels.items()))


def _quoted(body: str, i: int, text: str) -> tuple[int, str]:
    """Read a label value after its opening quote; return the index after the closing quote and the value."""
    out: list[str] = []
    while i < len(body):
        ch = body[i]
        if ch == '"':
            return i + 1, "".join(out)
        if ch == "\\":
            escaped = _ESCAPES.get(body[i + 1: i + 2])
            if escaped is None:
                raise SelectorError(f"unknown escape {body[i:i + 2]!r} in {text!r}")
            out.append(escaped)
            i += 2
            continue
        out.append(ch)
        i += 1
    raise SelectorError(f"unterminated label value in {text!r}")
