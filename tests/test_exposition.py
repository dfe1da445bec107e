"""The exposition renderer: text 0.0.4 and OpenMetrics, checked by promtool and by prometheus_client's parsers."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text
from prometheus_client.utils import floatToGoString

from exporter.output.exposition import (
    Prerendered,
    SimpleFamily,
    SimpleSample,
    _format_value,
    format_values,
    go_float,
    render_openmetrics,
    render_text,
    wants_openmetrics,
)
from tests.helpers.promtool import lint_metrics, needs_promtool

FAMILIES = [
    SimpleFamily(
        "presto_clustermemorypool_FreeDistributedBytes",
        "gauge",
        'Free bytes "general" pool\\path\nsecond line',
        (
            SimpleSample((("pool", "general"),), 1.5e12),
            SimpleSample((("pool", 'quote"back\\slash\nnewline'),), -3.0),
        ),
    ),
    SimpleFamily("presto_queries_started", "counter", "Started queries", (SimpleSample((), 42),)),
    SimpleFamily("odd_values", "untyped", "NaN and infinities", (
        SimpleSample((("v", "nan"),), math.nan),
        SimpleSample((("v", "inf"),), math.inf),
        SimpleSample((("v", "-inf"),), -math.inf),
    )),
]


def test_text_format_lines() -> None:
    text = render_text(FAMILIES)
    assert text.splitlines() == [
        "# HELP presto_clustermemorypool_FreeDistributedBytes Free bytes \"general\" pool\\\\path\\nsecond line",
        "# TYPE presto_clustermemorypool_FreeDistributedBytes gauge",
        'presto_clustermemorypool_FreeDistributedBytes{pool="general"} 1.5e+12',
        'presto_clustermemorypool_FreeDistributedBytes{pool="quote\\"back\\\\slash\\nnewline"} -3.0',
        "# HELP presto_queries_started_total Started queries",
        "# TYPE presto_queries_started_total counter",
        "presto_queries_started_total 42.0",
        "# HELP odd_values NaN and infinities",
        "# TYPE odd_values untyped",
        'odd_values{v="nan"} NaN',
        'odd_values{v="inf"} +Inf',
        'odd_values{v="-inf"} -Inf',
    ]


def test_text_format_round_trips_through_prometheus_client() -> None:
    parsed = {f.name: f for f in parse_text(render_text(FAMILIES))}
    pool = parsed["presto_clustermemorypool_FreeDistributedBytes"]
    assert pool.type == "gauge"
    assert [(s.labels["pool"], s.value) for s in pool.samples] == [
        ("general", 1.5e12), ('quote"back\\slash\nnewline', -3.0)
    ]
    assert parsed["presto_queries_started"].type == "counter"
    assert parsed["presto_queries_started"].samples[0].name == "presto_queries_started_total"


def test_openmetrics_round_trips_through_the_strict_parser() -> None:
    text = render_openmetrics(FAMILIES)
    assert text.endswith("# EOF\n")
    assert "# TYPE presto_queries_started counter" in text
    assert "presto_queries_started_total 42.0" in text
    assert "# TYPE odd_values unknown" in text
    parsed = {f.name: f for f in parse_openmetrics(text)}
    assert parsed["presto_queries_started"].samples[0].value == 42


@needs_promtool
def test_promtool_accepts_the_text_format() -> None:
    # jmx_exporter-compatible names keep the attribute's camelCase, which promtool's linter dislikes; that is all
    assert lint_metrics(render_text(FAMILIES)) == [
        "presto_clustermemorypool_FreeDistributedBytes metric names should be written in 'snake_case' not "
        "'camelCase'"
    ]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5", True),
        ("text/plain;version=0.0.4", False),
        (None, False),
    ],
)
def test_content_negotiation(accept: str | None, expected: bool) -> None:
    assert wants_openmetrics(accept) is expected


def test_help_with_unicode_line_breaks_stays_one_line() -> None:
    family = SimpleFamily("x", "gauge", "a\x85b\u2028c\rd", (SimpleSample((), 1.0),))
    text = render_text([family])
    assert text.splitlines()[0] == "# HELP x a b c d"
    assert [f.name for f in parse_text(text)] == ["x"]


BUILD = SimpleFamily("app_build_info", "info", "App build", (SimpleSample((("name", "app"), ("version", "1.2")), 1.0),))


def test_an_info_family_is_a_gauge_in_the_text_format() -> None:
    # As client_java 1.x writes an Info metric: a gauge under the _info name, valued 1 without a decimal point.
    text = render_text([BUILD])
    assert text.splitlines() == [
        "# HELP app_build_info App build",
        "# TYPE app_build_info gauge",
        'app_build_info{name="app",version="1.2"} 1',
    ]
    assert render_text([SimpleFamily("app_build", "info", "App build", BUILD.samples)]) == text
    [family] = parse_text(text)
    assert (family.name, family.type, [(s.labels, s.value) for s in family.samples]) == (
        "app_build_info", "gauge", [({"name": "app", "version": "1.2"}, 1.0)]
    )


def test_an_info_family_is_an_info_metric_in_openmetrics() -> None:
    text = render_openmetrics([BUILD])
    assert text.splitlines() == [
        "# TYPE app_build info",
        "# HELP app_build App build",
        'app_build_info{name="app",version="1.2"} 1',
        "# EOF",
    ]
    [family] = parse_openmetrics(text)
    assert (family.name, family.type, [(s.name, s.labels, s.value) for s in family.samples]) == (
        "app_build", "info", [("app_build_info", {"name": "app", "version": "1.2"}, 1.0)]
    )


@needs_promtool
def test_promtool_accepts_an_info_family() -> None:
    assert lint_metrics(render_text([BUILD])) == []


@pytest.mark.parametrize("openmetrics", [False, True], ids=["text", "openmetrics"])
@pytest.mark.parametrize("leave_out", [(), (0,), (1,), (2,), (5,), (0, 1), (2, 3, 4, 5), (0, 1, 2, 3, 4, 5)])
def test_prerendered_is_the_renderer_with_new_values_and_samples_left_out(
    openmetrics: bool, leave_out: tuple[int, ...]
) -> None:
    values = [7.0, -1.0, 2e6, 0.25, math.nan, 3]
    flat = [sample for family in FAMILIES for sample in family.samples]
    assert len(flat) == len(values)
    kept = iter([(i, SimpleSample(s.labels, v)) for i, (s, v) in enumerate(zip(flat, values, strict=True))])
    expected_families = []
    for family in FAMILIES:
        samples = [next(kept) for _ in family.samples]
        chosen = tuple(sample for index, sample in samples if index not in leave_out)
        expected_families.append(SimpleFamily(family.name, family.type, family.help, chosen))
    render = render_openmetrics if openmetrics else render_text
    expected = render(expected_families).removesuffix("# EOF\n")
    assert Prerendered(FAMILIES, openmetrics).render(values, frozenset(leave_out)) == expected.encode()
    tail = b"# the self metrics\n"
    assert Prerendered(FAMILIES, openmetrics).render(values, frozenset(leave_out), tail) == expected.encode() + tail
    assert Prerendered([], openmetrics).render([], (), tail) == tail


@given(st.floats() | st.integers(min_value=-(2**70), max_value=2**70).map(float))
def test_go_float_is_prometheus_clients_formatting(value: float) -> None:
    assert go_float(value) == floatToGoString(value)


@pytest.mark.parametrize("value", [1e6, 1234567.0, 1.5e6, 999999.0, 1e15, 1234567890123.0, 1e16, 2.5e22, 0.0, -0.0,
                                   -1e7, 5e-324, 1e-7, math.inf, -math.inf, math.nan])
def test_go_float_on_the_edges(value: float) -> None:
    assert go_float(value) == floatToGoString(value)


def test_the_exporter_does_not_load_prometheus_client() -> None:
    import subprocess
    import sys

    code = "import sys, exporter.commands.serve, exporter.commands.scrape; print('prometheus_client' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


_IN_ORJSONS_RANGE = st.floats(min_value=1e-4, max_value=1e6, exclude_max=True) | st.floats(
    min_value=-1e6, max_value=-1e-4, exclude_min=True
)


@given(st.lists(_IN_ORJSONS_RANGE | st.floats() | st.integers(min_value=-(2**70), max_value=2**70) | st.booleans()))
def test_format_values_writes_each_value_as_the_renderer_does(values: list[float]) -> None:
    assert format_values(values) == [_format_value(value).encode() for value in values]


@pytest.mark.parametrize("value", [1e-4, -1e-4, 9.999999999999999e-05, 1e-4 + 1e-20, 999999.9999999999, 1e6, 0.0,
                                   -0.0, 1.0, 2**53 - 1, 2**53, 2**64, math.nan, math.inf, 5e-324, 0.1 + 0.2])
def test_format_values_on_the_edges(value: float) -> None:
    assert format_values([value, 0.5]) == [_format_value(value).encode(), b"0.5"]
