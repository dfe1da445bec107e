"""Metric families as an exposition carries them: what Trino's ``/metrics`` holds once it is read.

The native source maps them back to MBean records for the rules; the pass-through mode hands them to the renderer
as they are. Like the MBean records they are plain slotted dataclasses that nothing changes once the parser has
built them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class MetricSample:
    """One sample line: its full name (``..._count``, ``..._total`` included), labels and value."""

    name: str
    labels: tuple[tuple[str, str], ...]
    value: float


@dataclass(slots=True)
class MetricFamily:
    """The samples of one metric family, with its declared type (OpenMetrics' words: ``gauge``, ``counter``,
    ``summary``, ``unknown`` ...; ``untyped`` from the Prometheus text format) and help text."""

    name: str
    type: str = "unknown"
    help: str = ""
    samples: list[MetricSample] = field(default_factory=list)
