"""Group samples into metric families the way jmx_exporter 1.x does (``MatchedRuleToMetricSnapshotsConverter``).

- Samples with the same name form one family. ``Family.name`` is that name *without* ``_total``: a COUNTER
  family is rendered as ``<name>_total`` (OpenMetrics: family ``<name>``, samples ``<name>_total``).
- If two samples of a family have the same labels, *every* sample of that family gets an ``_objectname`` label
  (the matched string up to its last ``:``, e.g. ``java.lang<type=Memory><HeapMemoryUsage>used``), as 1.x does.
  Should two samples still be identical after that, only the first (in label, then match-string order) is kept:
  the result never holds two identical series and building it never fails.
- A name produced with different types becomes UNTYPED (1.x: "unknown"), whatever the order.
- HELP is taken from the first sample in label order, so it does not depend on the order beans arrived in.

Families are returned sorted by name and samples sorted by labels, so the output is deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from exporter.config import MetricType
from exporter.rules import Sample

OBJECTNAME_LABEL = "_objectname"


@dataclass(frozen=True, slots=True)
class Family:
    """One metric family: ``name`` without ``_total``; ``type`` renders as gauge, counter or untyped."""

    name: str
    type: MetricType
    help: str
    samples: tuple[Sample, ...]


def build_families(samples: Iterable[Sample]) -> list[Family]:
    """Group, de-duplicate and sort samples into families."""
    groups: dict[str, list[Sample]] = {}
    for sample in samples:
        group = groups.get(sample.name)
        if group is None:
            groups[sample.name] = [sample]
        else:
            group.append(sample)
    return [_family(name, groups[name]) for name in sorted(groups)]


def _family(name: str, members: list[Sample]) -> Family:
    first = members[0]
    if len(members) == 1:
        return Family(name, first.type, first.help, (first,))
    kind = first.type if all(s.type is first.type for s in members) else MetricType.UNTYPED
    if len({s.labels for s in members}) == len(members):
        members.sort(key=_labels_of)
        return Family(name, kind, members[0].help, tuple(members))
    members = sorted((_with_objectname(s) for s in members), key=_labels_and_origin)
    unique = [members[0]]
    for sample in members[1:]:
        if sample.labels != unique[-1].labels:
            unique.append(sample)
    return Family(name, kind, unique[0].help, tuple(unique))


def _labels_of(sample: Sample) -> tuple[tuple[str, str], ...]:
    return sample.labels


def _labels_and_origin(sample: Sample) -> tuple[tuple[tuple[str, str], ...], str, str, str, str]:
    # The tail only orders true duplicates (same labels and origin), so the one kept does not depend on input order.
    return sample.labels, sample.origin, sample.match, sample.type.value, repr(sample.value)


def _with_objectname(sample: Sample) -> Sample:
    labels = dict(sample.labels)
    labels.setdefault(OBJECTNAME_LABEL, sample.origin)
    return Sample(
        sample.name,
        tuple(sorted(labels.items())),
        sample.value,
        sample.type,
        sample.help,
        sample.object_name,
        sample.match,
    )
