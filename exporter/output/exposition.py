"""Render metric families as Prometheus text (0.0.4) or OpenMetrics 1.0.

Rendering is done once per scrape and shared by every client that asked for the same format; it is plain string
building because prometheus_client's registry machinery costs more than the rest of a scrape on a big coordinator.

``Prerendered`` keeps everything but the values (HELP/TYPE lines, names, label sets) as text, so a scrape whose
families are laid out as the last one's only formats its numbers.

An ``info`` family (only the exporter's own ``jmx_exporter_build_info``) is written as client_java 1.x writes an Info
metric: in the text format a gauge named as the family, in OpenMetrics an ``info`` family named without ``_info``
whose samples keep it; in both, each sample's value is a bare ``1``.

``render_read_families`` writes families another server exposed (the pass-through mode) with their own names.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import orjson

from exporter.records.metrics import MetricFamily

TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"


class SampleLike(Protocol):
    labels: tuple[tuple[str, str], ...]
    value: float


class FamilyHead(Protocol):
    """What a family's HELP and TYPE lines need: ``type`` renders as gauge, counter, untyped or info."""

    @property
    def name(self) -> str: ...

    @property
    def help(self) -> str: ...

    @property
    def type(self) -> object: ...


class FamilyLike(FamilyHead, Protocol):
    """What the renderer needs of a family."""

    @property
    def samples(self) -> Sequence[SampleLike]: ...


@dataclass(frozen=True, slots=True)
class SimpleSample:
    labels: tuple[tuple[str, str], ...]
    value: float


@dataclass(frozen=True, slots=True)
class SimpleFamily:
    """A family built by hand (the exporter's own metrics), in the shape the renderer reads.

    An ``info`` family's name ends with ``_info`` and its samples' values are not written: an info sample is 1.
    """

    name: str
    type: str
    help: str
    samples: tuple[SimpleSample, ...]


def wants_openmetrics(accept: str | None) -> bool:
    """Whether an Accept header asks for OpenMetrics (Prometheus sends it first when it prefers it)."""
    return bool(accept) and "application/openmetrics-text" in accept  # type: ignore[operator]


def type_name(family: FamilyHead) -> str:
    raw = getattr(family.type, "value", family.type)
    return str(raw).lower()


def _escape_label(value: str) -> str:
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return value


# Line breaks other than \n are legal in HELP, but parsers built on str.splitlines() (prometheus_client's) split
# the line there; MBean descriptions are free text, so they become spaces.
_OTHER_LINE_BREAKS = str.maketrans({c: " " for c in "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"})


def _escape_help(text: str, openmetrics: bool) -> str:
    text = text.translate(_OTHER_LINE_BREAKS).replace("\\", "\\\\").replace("\n", "\\n")
    return text.replace('"', '\\"') if openmetrics else text


def _labels(labels: tuple[tuple[str, str], ...]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{name}="{_escape_label(value)}"' for name, value in labels) + "}"


def go_float(value: float) -> str:
    """A sample value as Prometheus clients write it (prometheus_client's ``floatToGoString``): ``+Inf``, ``-Inf``
    and ``NaN``; positive numbers whose integer part has 7 to 16 digits in exponent form (``1.5e+06``); else
    Python's shortest round-trip ``repr``.

    Our own copy of that behaviour: importing ``prometheus_client`` for this one function would load its whole
    registry and exposition machinery, and its resident memory, at start-up."""
    value = float(value)
    if value != value:
        return "NaN"
    if value == _INF:
        return "+Inf"
    if value == -_INF:
        return "-Inf"
    text = repr(value)
    point = text.find(".")
    if value > 0 and point > 6:
        digits = text[0] + "." + text[1:point] + text[point + 1 :]
        return f"{digits.rstrip('0').rstrip('.')}e+{point - 1:02d}"
    return text


def _format_value(value: float) -> str:
    if value.__class__ is float:
        # go_float only differs from repr() for infinities, NaN and positive values of 1e6 and more.
        if -_INF < value < 1e6:
            return repr(value)
        return go_float(value)
    if value.__class__ is int:
        return f"{value}.0" if -(2**53) < value < 2**53 else go_float(value)
    return go_float(value)


_INF = float("inf")


def _text_name(family: FamilyHead) -> tuple[str, str]:
    kind = type_name(family)
    name = family.name
    if kind == "counter" and not name.endswith("_total"):
        name += "_total"
    elif kind == "info":
        kind = "gauge"  # the text format has no info type
        if not name.endswith("_info"):
            name += "_info"
    return name, kind


def _text_header(family: FamilyHead) -> tuple[str, str]:
    name, kind = _text_name(family)
    return f"# HELP {name} {_escape_help(family.help, False)}\n# TYPE {name} {kind}\n", name


def _openmetrics_header(family: FamilyHead) -> tuple[str, str]:
    kind = type_name(family)
    name = family.name
    sample_name = name
    if kind == "counter":
        name = name.removesuffix("_total")
        sample_name = name + "_total"
    elif kind == "untyped":
        kind = "unknown"
    elif kind == "info":
        name = name.removesuffix("_info")
        sample_name = name + "_info"
    return f"# TYPE {name} {kind}\n# HELP {name} {_escape_help(family.help, True)}\n", sample_name


def render_text(families: Iterable[FamilyLike]) -> str:
    """Prometheus text format 0.0.4; counters are exposed with ``_total``, as jmx_exporter 1.x does."""
    return _render(families, _text_header)


def render_openmetrics(families: Iterable[FamilyLike]) -> str:
    """OpenMetrics 1.0: counter families are named without ``_total`` and their samples with it; untyped is unknown."""
    return _render(families, _openmetrics_header) + "# EOF\n"


def _render(families: Iterable[FamilyLike], header: Callable[[FamilyHead], tuple[str, str]]) -> str:
    out: list[str] = []
    for family in families:
        text, name = header(family)
        out.append(text)
        if type_name(family) == "info":
            out.extend([f"{name}{_labels(s.labels)} 1\n" for s in family.samples])
        else:
            out.extend([f"{name}{_labels(s.labels)} {_format_value(s.value)}\n" for s in family.samples])
    return "".join(out)


# The Prometheus text format's types for OpenMetrics' (and its own): the others are untyped there.
_TEXT_TYPES = {"gauge": "gauge", "counter": "counter", "summary": "summary", "histogram": "histogram"}
_CREATED = "_created"


def render_read_families(families: Iterable[MetricFamily], openmetrics: bool) -> str:
    """Families as a server exposed them (Trino's ``/metrics`` for the pass-through mode), their names, labels,
    types, HELP and values unchanged; OpenMetrics without its ``# EOF`` line, or the Prometheus text format.

    The samples keep their own names: a counter airlift writes without ``_total`` stays without it. OpenMetrics
    gets the family's own type (``untyped`` from a text answer is ``unknown``); the text format gets ``gauge``,
    ``counter``, ``summary`` and ``histogram`` as they are, every other type as ``untyped``, its TYPE and HELP
    lines named like the family's samples when they all have one name (a counter's ``..._total``), and no
    ``_created`` samples, which it has no place for. A family without help text gets no HELP line, as airlift
    writes it. Values are written as the rest of the exposition writes them (``2.0``, ``6.8719476736e+10``).
    """
    out: list[str] = []
    for family in families:
        samples = family.samples
        if openmetrics:
            kind = "unknown" if family.type == "untyped" else family.type
            head = family.name
            out.append(f"# TYPE {head} {kind}\n")
        else:
            kind = _TEXT_TYPES.get(family.type, "untyped")
            if kind != "gauge" and kind != "untyped":
                samples = [s for s in samples if s.name == family.name or not s.name.endswith(_CREATED)]
            names = {sample.name for sample in samples}
            head = next(iter(names)) if len(names) == 1 and kind not in ("summary", "histogram") else family.name
        help_line = f"# HELP {head} {_escape_help(family.help, openmetrics)}\n" if family.help else ""
        out.append(help_line if openmetrics else help_line + f"# TYPE {head} {kind}\n")
        out.extend([f"{s.name}{_labels(s.labels)} {_format_value(s.value)}\n" for s in samples])
    return "".join(out)


@dataclass(frozen=True, slots=True)
class FamilyShape:
    """A family without its values: what ``Prerendered`` needs, and all a layout has to keep between scrapes (the
    label tuples are the verdicts' own, so a shape costs one pointer per sample)."""

    name: str
    type: object
    help: str
    labels: tuple[tuple[tuple[str, str], ...], ...]

    @classmethod
    def of(cls, family: FamilyLike) -> FamilyShape:
        return cls(family.name, family.type, family.help, tuple(sample.labels for sample in family.samples))


class Prerendered:
    """Families with everything but their sample values rendered once; ``render`` fills in new values.

    ``render(values)`` takes one value per family sample, in exposition order, and returns, UTF-8 encoded, what
    ``render_text`` (or, with ``openmetrics``, ``render_openmetrics`` without its ``# EOF`` line) returns for the
    same families with those values. It is for the rules' families, whose types are gauge, counter or untyped: an
    info family's value would be written as the number given, not as ``1``.
    """

    def __init__(self, families: Iterable[FamilyLike | FamilyShape], openmetrics: bool = False) -> None:
        header = _openmetrics_header if openmetrics else _text_header
        heads: list[bytes] = []
        self._family_headers: dict[int, bytes] = {}  # sample index -> header of the family it opens
        newline = ""
        for family in families:
            shape = family if isinstance(family, FamilyShape) else FamilyShape.of(family)
            text, name = header(shape)
            if shape.labels:
                self._family_headers[len(heads)] = text.encode()
            for labels in shape.labels:
                # Each head carries the newline that ends the previous sample line.
                heads.append(f"{newline}{text}{name}{_labels(labels)} ".encode())
                text, newline = "", "\n"
        self._heads = heads

    def __len__(self) -> int:
        return len(self._heads)

    def render(self, values: Sequence[float], leave_out: Collection[int] = (), tail: bytes = b"") -> bytes:
        """The families with ``values``, then ``tail``; the samples at the indices in ``leave_out`` are omitted (not
        their HELP)."""
        if len(values) != len(self._heads):
            raise ValueError(f"{len(values)} values for {len(self._heads)} samples")
        if not values:
            return tail
        texts = format_values(values)
        if leave_out:
            return self._render_leaving_out(texts, leave_out, tail)
        # Heads and values interleaved by slice assignment, then one join: cheaper than zip and chain, and the
        # closing newline and ``tail`` are not added by copying the whole text again.
        count = len(texts)
        parts = [tail] * (2 * count + 1)
        parts[0 : 2 * count : 2] = self._heads
        parts[1 : 2 * count : 2] = texts
        parts[2 * count - 1] = texts[-1] + b"\n"
        return b"".join(parts)

    def _render_leaving_out(self, texts: list[bytes], leave_out: Collection[int], tail: bytes) -> bytes:
        out: list[bytes] = []
        for index, (head, text) in enumerate(zip(self._heads, texts, strict=True)):
            if index in leave_out:
                out.append(self._family_headers.get(index, b""))  # the family keeps its TYPE and HELP lines
            else:
                out += (head[1:] if index else head, text, b"\n")  # head[1:]: without the previous line's newline
        out.append(tail)
        return b"".join(out)


# Checked once: an orjson release that wrote these differently would make format_values use repr() throughout.
_ORJSON_WRITES_REPR = orjson.dumps([0.0001, 0.1, 123.456, 999999.5, -2.5, 0.0, -0.0, 1.0, 1e-4 + 1e-20]) == (
    b"[0.0001,0.1,123.456,999999.5,-2.5,0.0,-0.0,1.0,0.00010000000000000002]"
)


def format_values(values: Sequence[float]) -> list[bytes]:
    """Each value as the renderer writes it (``_format_value``), UTF-8 encoded.

    One ``orjson.dumps`` call formats the whole list much faster than ``repr`` one value at a time. For
    floats with 1e-4 <= |v| < 1e6, and zero, orjson writes the same shortest round-trip digits in the same form as
    ``repr`` (tests/test_exposition.py checks this); every other value (integers, which need their ``.0``, NaN,
    infinities, tiny and big numbers) is formatted one by one.
    """
    if not values or not _ORJSON_WRITES_REPR:
        return [_format_value(value).encode() for value in values]
    try:
        texts = orjson.dumps(values)[1:-1].split(b",")
    except (TypeError, orjson.JSONEncodeError):  # integers beyond 64 bits, or a type orjson does not know
        return [_format_value(value).encode() for value in values]
    # Chained comparisons rather than abs(), whose call would dominate this scan. NaN fails every comparison, so it
    # is odd too.
    odd = [
        i for i, value in enumerate(values)
        if value.__class__ is not float or not (1e-4 <= value < 1e6 or value == 0.0 or -1e6 < value <= -1e-4)
    ]  # fmt: skip
    for index in odd:
        value = values[index]
        texts[index] = b"NaN" if value != value else _format_value(value).encode()  # unread numbers are many NaNs
    return texts
