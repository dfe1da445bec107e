"""Families (1.x grouping, _objectname de-duplication, type conflicts) and the naming helpers, with properties
checked by Hypothesis."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from exporter.config.model import MetricType
from exporter.output.families import OBJECTNAME_LABEL, build_families
from exporter.rules.engine import Sample
from exporter.rules.naming import safe_name, snake_case, strip_reserved_suffixes

LABEL_NAMES = st.sampled_from(["a", "b", "name", "type", OBJECTNAME_LABEL])
SAMPLES = st.builds(
    lambda name, labels, value, kind, bean: Sample(
        name, tuple(sorted(labels.items())), value, kind, f"help {name}", f"d:type={bean}", f"d<type={bean}><>{name}: 1"
    ),
    st.sampled_from(["m1", "m2", "m3"]),
    st.dictionaries(LABEL_NAMES, st.sampled_from(["x", "y"]), max_size=2),
    st.floats(allow_nan=False),
    st.sampled_from(list(MetricType)),
    st.sampled_from(["A", "B", "C", "D"]),
)


def _sample(name: str, labels: dict[str, str], bean: str, kind: MetricType = MetricType.GAUGE) -> Sample:
    return Sample(name, tuple(sorted(labels.items())), 1.0, kind, f"help {bean}", f"d:type={bean}",
                  f"d<type={bean}><>{name}: 1")


def test_collision_labels_every_member_of_that_family_only() -> None:
    families = build_families([
        _sample("m", {}, "A"), _sample("m", {}, "B"), _sample("m", {"k": "v"}, "C"), _sample("n", {}, "A"),
    ])
    assert [f.name for f in families] == ["m", "n"]
    m, n = families
    assert [dict(s.labels) for s in m.samples] == [
        {OBJECTNAME_LABEL: "d<type=A><>m"},
        {OBJECTNAME_LABEL: "d<type=B><>m"},
        {OBJECTNAME_LABEL: "d<type=C><>m", "k": "v"},
    ]
    assert n.samples[0].labels == ()


def test_family_type_help_and_order() -> None:
    same = build_families([_sample("c", {"i": "2"}, "B", MetricType.COUNTER),
                           _sample("c", {"i": "1"}, "A", MetricType.COUNTER)])
    assert (same[0].type, same[0].help, [dict(s.labels)["i"] for s in same[0].samples]) == (
        MetricType.COUNTER, "help A", ["1", "2"])
    mixed = build_families([_sample("c", {"i": "1"}, "A", MetricType.COUNTER), _sample("c", {"i": "2"}, "B")])
    assert mixed[0].type is MetricType.UNTYPED


@settings(max_examples=300, deadline=None)
@given(st.lists(SAMPLES, max_size=12), st.randoms())
def test_families_properties(samples: list[Sample], rnd: random.Random) -> None:
    families = build_families(samples)
    # Never two identical series, never an empty family, sorted and complete.
    series = [(f.name, s.labels) for f in families for s in f.samples]
    assert len(series) == len(set(series))
    assert [f.name for f in families] == sorted({s.name for s in samples})
    for family in families:
        assert family.samples and [s.labels for s in family.samples] == sorted(s.labels for s in family.samples)
        kinds = {s.type for s in samples if s.name == family.name}
        assert family.type is (kinds.pop() if len(kinds) == 1 else MetricType.UNTYPED)
        members = [s for s in samples if s.name == family.name]
        if len({s.labels for s in members}) == len(members):
            assert len(family.samples) == len(members)
    # The order samples arrive in does not matter.
    shuffled = list(samples)
    rnd.shuffle(shuffled)
    assert build_families(shuffled) == families


# --- naming -----------------------------------------------------------------------------------------------------


def _java_safe_name(name: str) -> str:
    """jmx_exporter's toSafeName, character by character (the reference for our regex version)."""
    out = ["_"] if name and name[0].isdecimal() else []
    previous_underscore = False
    for ch in name:
        legal = ch == ":" or ch == "_" or ("a" <= ch <= "z") or ("A" <= ch <= "Z") or ("0" <= ch <= "9")
        if not legal or ch == "_":
            if not previous_underscore:
                out.append("_")
                previous_underscore = True
        else:
            out.append(ch)
            previous_underscore = False
    return "".join(out)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from("aZ09_:.- é٣\"<>=,"), max_size=20))
def test_safe_name_matches_the_java_loop(name: str) -> None:
    assert safe_name(name) == _java_safe_name(name)


def _client_java_sanitize(name: str) -> str:
    suffixes = ("_total", "_created", "_bucket", "_info")
    changed = True
    while changed:
        changed = False
        for suffix in suffixes:
            if name == suffix:
                return suffix[1:]
            if name.endswith(suffix):
                name = name[: -len(suffix)]
                changed = True
    return name


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "_total", "_info", "_created", "_bucket", "_x", "total"]), min_size=1,
                max_size=5))
def test_strip_reserved_suffixes(parts: list[str]) -> None:
    name = "".join(parts)
    assert strip_reserved_suffixes(name) == _client_java_sanitize(name)


def test_examples() -> None:
    assert safe_name("java.lang_Memory_HeapMemoryUsage") == "java_lang_Memory_HeapMemoryUsage"
    assert safe_name("1st") == "_1st"
    assert safe_name("٣x") == "__x"
    assert strip_reserved_suffixes("a_info_total") == "a"
    assert strip_reserved_suffixes("_total") == "total"
    assert snake_case("HeapMemoryUsage") == "heap_memory_usage"
    assert snake_case("HTTPServerCount") == "httpserver_count"
    assert snake_case("Already_Snake") == "already_snake"
    assert snake_case("a1B") == "a1_b"


def test_label_names_never_get_the_reserved_double_underscore_prefix() -> None:
    from exporter.rules.naming import safe_label_name

    # found by the property tests: ':' escaped after collapsing gave '__', which Prometheus reserves
    assert [safe_label_name(n) for n in ("_:", "a::b", ":x", "a:_b")] == ["_", "a_b", "_x", "a_b"]
