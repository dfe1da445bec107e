"""ObjectName parsing and pattern matching with javax.management.ObjectName's semantics."""

from __future__ import annotations

import pytest

from exporter.records.objectname import ObjectNameError, ObjectNamePattern, canonical_key, parse_object_name

POOL = ("trino.memory", (("type", "ClusterMemoryPool"), ("name", "general")))


@pytest.mark.parametrize(
    ("text", "domain", "properties"),
    [
        ("trino.memory:type=ClusterMemoryPool,name=general", *POOL),
        ("a:name=x", "a", (("name", "x"),)),
        ('a:name="x,y=z:",type=T', "a", (("name", '"x,y=z:"'), ("type", "T"))),
        ('a:name="say \\"hi\\""', "a", (("name", '"say \\"hi\\""'),)),
        (":type=Empty", "", (("type", "Empty"),)),
        ("a:name=,type=T", "a", (("name", ""), ("type", "T"))),  # an empty value, as Java's ObjectName allows
    ],
)
def test_parse_keeps_registration_order_and_quotes(text: str, domain: str, properties: tuple) -> None:
    assert parse_object_name(text) == (domain, properties)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no-colon", "has no ':'"),
        ("a:", "has no key properties"),
        ("a:name", "without '='"),
        ("a:name=x,", "an empty key property"),
        ("a:name=x,name=y", "key 'name' appears twice"),
        ('a:name="open', "unterminated quoted value"),
        ("a:*", "only allowed in a pattern"),
        ("a*:name=x", "only allowed in a pattern"),
        ("a:name=x*", "only allowed in a pattern"),
    ],
)
def test_parse_rejects_invalid_names(text: str, message: str) -> None:
    with pytest.raises(ObjectNameError, match=message):
        parse_object_name(text)


@pytest.mark.parametrize(
    ("pattern", "matches", "is_pattern"),
    [
        ("trino.memory:type=ClusterMemoryPool,name=general", True, False),
        ("trino.memory:name=general,type=ClusterMemoryPool", True, False),  # key order does not matter
        ("trino.memory:type=ClusterMemoryPool", False, False),  # a missing key without ',*' does not match
        ("trino.memory:type=ClusterMemoryPool,*", True, True),
        ("trino.*:type=ClusterMemoryPool,*", True, True),
        ("trino.memor?:*", True, True),
        ("*:*", True, True),
        ("trino.memory:type=ClusterMemoryPool,name=gen*", True, True),
        ("trino.memory:type=ClusterMemoryPool,name=res*", False, True),
        ("presto.memory:*", False, True),
        ("trino.memory:type=MemoryPool,*", False, True),
    ],
)
def test_pattern_matching(pattern: str, matches: bool, is_pattern: bool) -> None:
    compiled = ObjectNamePattern.parse(pattern)
    assert compiled.matches(*POOL) is matches
    assert compiled.is_pattern is is_pattern


def test_quoted_values_match_with_their_quotes() -> None:
    assert ObjectNamePattern.parse('a:name="x,y"').matches("a", (("name", '"x,y"'),))
    assert not ObjectNamePattern.parse("a:name=xy").matches("a", (("name", '"xy"'),))
    assert ObjectNamePattern.parse('a:name="x*"').matches("a", (("name", '"xyz"'),))


def test_canonical_key_ignores_key_order() -> None:
    assert canonical_key("a", (("x", "1"), ("y", "2"))) == canonical_key("a", (("y", "2"), ("x", "1")))
