"""The airlift /v1/jmx/mbean JSON parser: every value shape the notes describe, and bad bodies."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import orjson
import pytest

from exporter.records.mbeans import MAX_NESTING, TOO_DEEP, Composite, Tabular, Unsupported
from exporter.sources import airlift
from exporter.sources.base import SourceError


def bean(attributes: list[dict], name: str = "trino.memory:type=ClusterMemoryPool,name=general") -> dict:
    return {"objectName": name, "className": "x.Y", "attributes": attributes, "operations": []}


def value_of(attribute: dict):
    [parsed] = airlift.parse_bean(bean([attribute])).attributes
    return parsed.value


@pytest.mark.parametrize(
    ("attribute", "expected"),
    [
        ({"name": "A", "type": "long", "value": 345}, 345),
        ({"name": "A", "type": "int", "value": 7}, 7),
        ({"name": "A", "type": "double", "value": 0.5}, 0.5),
        ({"name": "A", "type": "double", "value": 100}, 100.0),  # a double that JSON printed without a fraction
        ({"name": "A", "type": "double", "value": "Infinity"}, math.inf),
        ({"name": "A", "type": "double", "value": "-Infinity"}, -math.inf),
        ({"name": "A", "type": "boolean", "value": True}, True),
        ({"name": "A", "type": "java.lang.String", "value": "general"}, "general"),
        ({"name": "A", "type": "java.util.concurrent.TimeUnit", "value": "MILLISECONDS"}, "MILLISECONDS"),
        ({"name": "A", "type": "java.util.Date", "value": 1573285945111}, 1573285945.111),
        ({"name": "A", "type": "java.util.Date", "value": "2019-11-09T07:52:25.111+00:00"}, 1573285945.111),
        ({"name": "A", "type": "java.util.Date", "value": "2019-11-09T08:52:25.111+01:00"}, 1573285945.111),
        ({"name": "A", "type": "java.util.Date", "value": "2019-11-09T07:52:25.111Z"}, 1573285945.111),
        ({"name": "A", "type": "long", "readable": True}, None),  # null value: field omitted
    ],
)
def test_scalar_values_follow_the_java_type(attribute: dict, expected: object) -> None:
    value = value_of(attribute)
    assert value == expected
    assert type(value) is type(expected)


def test_nan_string_is_a_double_nan() -> None:
    value = value_of({"name": "P50", "type": "double", "value": "NaN"})
    assert isinstance(value, float) and math.isnan(value)


@pytest.mark.parametrize(
    ("attribute", "reason"),
    [
        ({"name": "A", "type": "java.util.Map", "value": {"0.5": 1.0}}, "java.util.Map is not exported"),
        ({"name": "A", "type": "[Ljava.lang.String;", "value": ["a"]}, "arrays are not exported"),
        ({"name": "A", "type": "javax.management.ObjectName", "value": "a:b=c"}, "ObjectName is not exported"),
        ({"name": "A", "type": "java.lang.Object", "readable": False, "writable": False}, "could not serialise it"),
        ({"name": "A", "type": "double", "value": "oops"}, "not a number"),
    ],
)
def test_values_jmx_exporter_skips_are_unsupported_with_a_reason(attribute: dict, reason: str) -> None:
    value = value_of(attribute)
    assert isinstance(value, Unsupported)
    assert reason in value.reason


def test_composite_items_are_sorted_and_nan_strings_become_doubles() -> None:
    value = value_of(
        {
            "name": "HeapMemoryUsage",
            "type": "javax.management.openmbean.CompositeData",
            "value": {"used": 10, "max": 20, "committed": "NaN", "init": 1},
        }
    )
    assert isinstance(value, Composite)
    assert [k for k, _ in value.items] == ["committed", "init", "max", "used"]
    assert math.isnan(value.items[0][1])


def test_tabular_rows_have_no_index_names_over_rest() -> None:
    value = value_of(
        {
            "name": "Table",
            "type": "javax.management.openmbean.TabularData",
            "value": [{"key": "a", "value": 1}, {"key": "b", "value": 2}],
        }
    )
    assert value == Tabular((), (Composite((("key", "a"), ("value", 1))), Composite((("key", "b"), ("value", 2)))))


def _nested(levels: int, through_tables: bool) -> dict:
    """A CompositeData value ``levels`` levels deep: each level holds ``n`` and the next one (in a one-row table
    when ``through_tables``); the innermost holds only ``n``."""
    value: dict = {"n": levels}
    for level in range(levels - 1, 0, -1):
        value = {"n": level, "next": [value] if through_tables else value}
    return value


def _levels(value: object) -> tuple[int, object]:
    """How many Composite levels the value holds, and what stands where the next level would be."""
    count = 0
    while isinstance(value, Composite):
        count += 1
        items = dict(value.items)
        assert items["n"] == count
        value = items.get("next")
        if isinstance(value, Tabular):
            value = value.rows[0]
    return count, value


@pytest.mark.parametrize("through_tables", [False, True], ids=["composites", "tables"])
def test_composite_nesting_is_kept_to_the_limit_and_no_deeper(through_tables: bool) -> None:
    composite = "javax.management.openmbean.CompositeData"
    kept = value_of({"name": "X", "type": composite, "value": _nested(MAX_NESTING, through_tables)})
    assert _levels(kept) == (MAX_NESTING, None)
    cut = value_of({"name": "X", "type": composite, "value": _nested(MAX_NESTING + 1, through_tables)})
    assert _levels(cut) == (MAX_NESTING, TOO_DEEP)


def test_a_value_nested_a_thousand_deep_costs_only_its_deep_part() -> None:
    deep = b'{"n":1,"next":' * 999 + b'{"n":1}' + b"}" * 999  # orjson decodes up to 1,024 levels
    body = (
        b'[{"objectName":"a:type=Deep","attributes":[{"name":"X","type":"javax.management.openmbean.CompositeData",'
        b'"value":' + deep + b'},{"name":"Y","type":"int","value":5}]},{"objectName":"a:type=Plain","attributes":'
        b'[{"name":"Z","type":"long","value":7}]}]'
    )
    beans, problems = airlift.parse_bean_list(orjson.loads(body), "dump")
    assert problems == []
    assert [(bean.object_name, [a.name for a in bean.attributes]) for bean in beans] == [
        ("a:type=Deep", ["X", "Y"]), ("a:type=Plain", ["Z"])
    ]
    hash(beans[0])  # records hash by value: the bounded depth keeps that walk finite too


def test_bean_keeps_registration_order_and_quoted_values() -> None:
    parsed = airlift.parse_bean(bean([], name='a.b:type=Pool,name="x,y"'))
    assert parsed.domain == "a.b"
    assert parsed.properties == (("type", "Pool"), ("name", '"x,y"'))


def test_unparsable_beans_are_skipped_and_reported() -> None:
    document = [bean([]), {"objectName": "no colon"}, "not an object", bean([], name="x:a=b")]
    beans, problems = airlift.parse_bean_list(document, "dump.json")
    assert [b.object_name for b in beans] == ["trino.memory:type=ClusterMemoryPool,name=general", "x:a=b"]
    assert len(problems) == 2
    assert problems[0].startswith("dump.json[1]: bad objectName")
    assert problems[1] == "dump.json[2]: expected an MBean object, got a string"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "x: empty body"),
        (b"  \n", "x: empty body"),
        (b"<html>", "x: malformed JSON"),
        (b'[{"objectName": "a:b=c"', "x: malformed JSON"),
    ],
)
def test_bad_bodies_raise_source_error(body: bytes, message: str) -> None:
    with pytest.raises(SourceError, match="^" + message):
        airlift.loads(body, "x")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"objectName": "a:b=c"}, "x: expected a JSON array of MBeans, got an object"),
        ([1, 2], "x: none of the 2 entries is an MBean"),
    ],
)
def test_wrong_shapes_raise_source_error(document: object, message: str) -> None:
    with pytest.raises(SourceError, match="^" + message):
        airlift.parse_bean_list(orjson.loads(orjson.dumps(document)), "x")


# --- the whole list decoded one bean at a time ---------------------------------------------------------------------
_DUMPS = sorted((Path(__file__).resolve().parent.parent / "examples" / "dumps").glob("*.json"))
_SPLIT_CASES = [
    b"[]", b" [ ] ", b"{}", b"[1, 2]", b"", b"nope", b'[{"objectName":"a:b=c"},', b"[{}]",
    b'[{"objectName":"a:b=c","attributes":[]} , {"objectName":"a:b=d"}]',
    b'[{"objectName":"a:b=c"}\n,\n{\n"objectName" : "a:b=d"}]',
    # The sequence between two beans inside a nested value (a table of rows with an objectName column) ...
    b'[{"objectName":"a:b=c","attributes":[{"name":"T","value":[{"objectName":"q"},{"objectName":"r"}]}]},'
    b'{"objectName":"a:b=d","attributes":[{"name":"x","value":1}]}]',
    # ... and inside a string, where its quotes are escaped.
    b'[{"objectName":"a:b=c","attributes":[{"name":"s","value":"},{\\"objectName\\":\\"x\\"}"}]}]',
    b'[{"objectName":"a:b=c","attributes":[{"name":"s","value":"\\\\"},{"name":"n","value":2}]}]',
    b'[{"objectName":"a:b=c"},{"objectName":"bad name"},{"objectName":"a:b=e"}]',
    b'[{"objectName":"a:b=c"},{"objectName":"a:b=d"}] trailing',
]


def _read(read: Any, body: bytes) -> Any:
    try:
        return read(body)
    except SourceError as exc:
        return ("error", str(exc))


@pytest.mark.parametrize("body", [path.read_bytes() for path in _DUMPS] + _SPLIT_CASES)
def test_the_list_read_bean_by_bean_is_the_list_decoded_at_once(body: bytes) -> None:
    at_once = _read(lambda b: airlift.parse_bean_list(airlift.loads(b, "list"), "list"), body)
    assert _read(lambda b: airlift.read_bean_list(b, "list"), body) == at_once


@pytest.mark.parametrize("path", _DUMPS, ids=lambda path: path.name)
def test_a_real_list_splits_into_its_beans_without_the_fallback(path: Path) -> None:
    body = path.read_bytes()
    pieces = list(airlift._each_bean(memoryview(body), body.find(b"[") + 1, body.rfind(b"]")))
    assert pieces == orjson.loads(body)
