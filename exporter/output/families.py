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

``build_layout`` does the same and also says where each family sample came from (its index in the input), so a
scrape whose samples have the same identities as the last one's can reuse the grouping and only swap the values.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from exporter.config.model import MetricType
from exporter.rules.engine import Sample, SampleView

AnySample = Sample | SampleView

OBJECTNAME_LABEL = "_objectname"


@dataclass(frozen=True, slots=True)
class Family:
    """One metric family: ``name`` without ``_total``; ``type`` renders as gauge, counter or untyped."""

    name: str
    type: MetricType
    help: str
    samples: tuple[AnySample, ...]


@dataclass(frozen=True, slots=True)
class Layout:
    """Families plus, for every family sample in exposition order, the index of the input sample it shows.

    ``stable`` is False when true duplicates had to be ordered by their match strings and values: the grouping
    then depends on more than the samples' names, labels, types, help texts and origins.
    """

    families: list[Family]
    order: array[int]  # not a list: one int object per series would be kept between scrapes
    stable: bool


def build_families(samples: Iterable[Sample]) -> list[Family]:
    """Group, de-duplicate and sort samples into families."""
    return build_layout(list(samples)).families


def build_layout(samples: Sequence[AnySample], reserved: frozenset[str] = frozenset()) -> Layout:
    """``build_families`` that also records which input sample each output sample is.

    Samples named like a ``reserved`` family (the exporter's own metrics) are left out: two families of one name
    would make Prometheus reject the whole scrape.
    """
    groups: dict[str, list[int]] = {}
    for index, sample in enumerate(samples):
        if sample.name in reserved:
            continue
        group = groups.get(sample.name)
        if group is None:
            groups[sample.name] = [index]
        else:
            group.append(index)
    families: list[Family] = []
    order: list[int] = []
    stable = True
    for name in sorted(groups):
        family, indices, family_stable = _family(name, samples, groups[name])
        families.append(family)
        order.extend(indices)
        stable = stable and family_stable
    return Layout(families, array("l", order), stable)


def _family(name: str, samples: Sequence[AnySample], indices: list[int]) -> tuple[Family, list[int], bool]:
    first = samples[indices[0]]
    if len(indices) == 1:
        return Family(name, first.type, first.help, (first,)), indices, True
    members = [samples[i] for i in indices]
    kind = first.type if all(s.type is first.type for s in members) else MetricType.UNTYPED
    if len({s.labels for s in members}) == len(members):
        indices = sorted(indices, key=lambda i: samples[i].labels)
        return Family(name, kind, samples[indices[0]].help, tuple(samples[i] for i in indices)), indices, True
    tagged = sorted(((_with_objectname(samples[i]), i) for i in indices), key=_tagged_order)
    unique = [tagged[0]]
    stable = True
    for pair in tagged[1:]:
        if pair[0].labels != unique[-1][0].labels:
            unique.append(pair)
        else:
            stable = False
    kept = tuple(sample for sample, _ in unique)
    return Family(name, kind, kept[0].help, kept), [i for _, i in unique], stable


def _tagged_order(pair: tuple[AnySample, int]) -> tuple[tuple[tuple[str, str], ...], str, str, str, str]:
    return _labels_and_origin(pair[0])


def _labels_and_origin(sample: AnySample) -> tuple[tuple[tuple[str, str], ...], str, str, str, str]:
    # The tail only orders true duplicates (same labels and origin), so the one kept does not depend on input order.
    return sample.labels, sample.origin, sample.match, sample.type.value, repr(sample.value)


def _with_objectname(sample: AnySample) -> Sample:
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
