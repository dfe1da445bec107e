"""The fetch planner and the value-blindness analysis it and the rule memo rely on (no JVM, no network)."""

from __future__ import annotations

import itertools

import pytest
import yaml

from exporter.records.mbeans import MBean, Tabular
from exporter.rules.engine import RuleEngine
from exporter.rules.valueblind import literal_tail, match_blind, value_blind, value_tail
from exporter.scrape.planner import MAX_NAMED_BEANS, RETRY_MISSING, Planner
from tests.helpers.rulecase import attr, bean, composite, config

INTERVAL = 60.0


class Clock:
    """A clock the test moves by hand (the planner takes it as a constructor argument)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def planner(text: str, clock: Clock | None = None) -> Planner:
    cfg = config(text)
    return Planner(cfg, RuleEngine(cfg), INTERVAL, clock or Clock())


LISTED = """
includeObjectNames: ["a:name=One", "a:name=Two", "b:name=Absent"]
rules:
  - pattern: 'a<name=(\\w+)><>Count:'
    name: a_$1
"""
ONE = bean("a:name=One", Count=1)
TWO = bean("a:name=Two", Count=2)


def test_listed_names_carry_the_attributes_the_config_lets_through() -> None:
    plan = planner(LISTED + """
includeObjectNameAttributes:
  "a:name=One": [Count, Total]
  "a:name=Two": [Count]
excludeObjectNameAttributes:
  "a:name=One": [Total]
""")
    first = plan.plan()
    # b:name=Absent is not in includeObjectNameAttributes: it exports no attribute, so none is asked for.
    assert first.request.attributes == (("a:name=One", ("Count",)), ("a:name=Two", ("Count",)), ("b:name=Absent", ()))
    assert planner(LISTED).plan().request.attributes == ()  # no attribute list: every attribute counts


def test_a_missing_listed_name_is_asked_for_again_after_a_back_off_that_doubles() -> None:
    clock = Clock()
    plan = planner(LISTED, clock)
    first = plan.plan()
    assert first.discovery and first.request.object_names == ("a:name=One", "a:name=Two", "b:name=Absent")
    asked_at = []
    plan.learn(first, [ONE, TWO])
    for _ in range(int(INTERVAL * 2)):  # a scrape every second
        assert plan.missing == ("b:name=Absent",)
        clock.now += 1
        request = plan.plan()
        if "b:name=Absent" in (request.request.object_names or ()):
            asked_at.append(clock.now - 1000)
        plan.learn(request, [ONE, TWO])
    # at the next scrape, 10 s later, then 20 s later, the gaps growing up to the discovery interval
    assert asked_at[:3] == [1, 1 + RETRY_MISSING, 1 + 3 * RETRY_MISSING]
    gaps = [b - a for a, b in itertools.pairwise(asked_at)]
    assert all(0 < gap <= INTERVAL for gap in gaps) and len(asked_at) <= 7


def test_a_listed_bean_matches_whatever_key_order_the_server_echoes() -> None:
    plan = planner(LISTED)
    first = plan.plan()
    plan.learn(first, [bean("a:name=One", Count=1), TWO, bean("b:name=Absent", Count=0)])
    assert plan.missing == ()


def test_a_bean_missing_for_two_scrapes_is_asked_for_until_it_is_back() -> None:
    """A bean that answers 404 while the server restarts is exported again soon after it is back."""
    clock = Clock()
    plan = planner(LISTED, clock)
    plan.learn(plan.plan(), [ONE, TWO])
    for _ in range(2):  # Two is gone for two scrapes
        clock.now += 15
        request = plan.plan()
        assert "a:name=Two" in (request.request.object_names or ())
        plan.learn(request, [ONE])
    assert "a:name=Two" in plan.missing
    back = None
    for _ in range(10):
        clock.now += 15
        request = plan.plan()
        plan.learn(request, [ONE, TWO])
        if "a:name=Two" not in plan.missing:
            back = clock.now
            break
    assert back is not None and back - 1000 <= 2 * 15 + 2 * RETRY_MISSING + 15


def test_when_every_listed_bean_is_missing_every_scrape_asks_for_all_of_them() -> None:
    plan = planner(LISTED)
    first = plan.plan()
    plan.learn(first, [])
    second = plan.plan()
    assert second.discovery and len(second.request.object_names or ()) == 3


DISCOVERED = """
rules:
  - pattern: 'trino\\.memory<type=ClusterMemoryPool, name=(\\w+)><>FreeDistributedBytes:'
    name: pool_free_$1
  - pattern: 'trino\\.execution<name=QueryManager><>RunningQueries:'
    name: running
"""
# As many files written for the javaagent have it: unanchored patterns that capture the attribute and its value.
VERBATIM = """
rules:
  - pattern: 'trino.execution<name=(.+)><>(.+): (.*)'
    name: trino_execution_$1_$2
  - pattern: 'trino.memory<type=(.+), name=(.+)><>(.+): (.*)'
    name: trino_memory_$1_$3
    labels: {pool: $2}
"""
POOL = bean("trino.memory:type=ClusterMemoryPool,name=general", FreeDistributedBytes=5, Other=1)
QUERIES = bean("trino.execution:name=QueryManager", RunningQueries=2, QueuedQueries=0)
UNRELATED = [
    bean(f"io.airlift.http.client:type=HttpClient,name=C{i}", **{f"Stat{j}": j for j in range(20)}) for i in range(50)
]


def test_discovery_reads_the_whole_list_then_asks_only_for_beans_the_rules_use() -> None:
    clock = Clock()
    plan = planner(DISCOVERED, clock)
    first = plan.plan()
    assert first.discovery and first.request.object_names is None
    plan.learn(first, [POOL, QUERIES, *UNRELATED])
    steady = plan.plan()
    assert not steady.discovery
    assert steady.request.object_names == (POOL.object_name, QUERIES.object_name)
    clock.now += INTERVAL
    assert plan.plan().request.object_names is None


def test_include_patterns_go_with_the_whole_list_request() -> None:
    plan = planner("includeObjectNames: ['trino.memory:*']\nrules:\n  - pattern: 'Bytes:'\n")
    assert plan.plan().request.patterns == ("trino.memory:*",)


def test_many_needed_beans_are_read_as_one_list() -> None:
    plan = planner("lowercaseOutputName: false\n")  # no rules: everything is exported
    beans = [bean(f"x:type=T,name=N{i}", V=i) for i in range(MAX_NAMED_BEANS + 1)]
    first = plan.plan()
    plan.learn(first, beans)
    assert plan.named is None
    steady = plan.plan()
    assert not steady.discovery and steady.request.object_names is None


def test_a_few_needed_beans_holding_most_attributes_are_read_as_one_list() -> None:
    plan = planner(DISCOVERED)
    first = plan.plan()
    plan.learn(first, [POOL, QUERIES, UNRELATED[0]])
    assert plan.named is None


# -- which beans may export ----------------------------------------------------------------------------------------


def engine(text: str) -> RuleEngine:
    return RuleEngine(config(text))


@pytest.mark.parametrize(
    ("text", "item", "expected"),
    [
        (DISCOVERED, POOL, True),
        (DISCOVERED, UNRELATED[0], False),
        # a null numeric attribute may become a number the rule exports
        (DISCOVERED, bean("trino.execution:name=QueryManager", attr("RunningQueries", None, "int")), True),
        # strings never export without a 'value' template
        (DISCOVERED, bean("trino.execution:name=QueryManager", RunningQueries="x"), False),
        # ... but text of another type (an Object attribute) may be a number next time
        (DISCOVERED, bean("trino.execution:name=QueryManager", attr("RunningQueries", "x", "java.lang.Object")), True),
        # a value-dependent rule: every selected bean counts
        ("rules:\n  - pattern: 'RunningQueries: 1$'\n    name: busy\n", UNRELATED[0], True),
        ("rules:\n  - pattern: 'Count: 1'\n    name: one\n", UNRELATED[0], True),
        ("rules:\n  - pattern: 'a<>(.+): (\\d+)'\n    name: digits\n", UNRELATED[0], True),
        # a value template: a string may export
        ("rules:\n  - pattern: 'a<type=(.+)><>(.+): (.*)'\n    name: s\n    value: '1'\n", bean("a:type=T", S="x"),
         True),
        # whether a pattern ending in a literal past the separator, or in a tail that eats the value, matches does not
        # depend on the value: a verbatim jmx_exporter file narrows to the beans it can export
        ("rules:\n  - pattern: 'State: '\n    name: s\n", bean("a:type=T", State="UP"), False),
        (VERBATIM, QUERIES, True),
        (VERBATIM, POOL, True),
        (VERBATIM, UNRELATED[0], False),
        (VERBATIM, bean("trino.execution:name=QueryManager", State="RUNNING"), False),
        ("rules:\n  - pattern: 'Count:'\n    name: c\n", bean("a:type=T", State="UP"), False),
        # CompositeData: its items are probed as numbers (they are those of its type); TabularData may grow rows
        ("rules:\n  - pattern: 'Count:'\n    name: c\n", bean("a:type=T", attr("Usage", composite(used=1))), False),
        ("rules:\n  - pattern: '<Usage>used:'\n    name: c\n", bean("a:type=T", attr("Usage", composite(used=None))),
         True),
        ("rules:\n  - pattern: '<Info>n:'\n    name: c\n", bean("a:type=T", attr("Info", composite(n="x"))), True),
        ("rules:\n  - pattern: 'Count:'\n    name: c\n", bean("a:type=T", attr("Rows", Tabular((), ()))), True),
        ("rules:\n  - pattern: 'Count:'\n    name: c\n",
         bean("a:type=T", attr("Gc", composite(after=Tabular((), ())))), True),
        ("rules:\n  - pattern: 'Count:'\n    name: c\n",
         bean("java.lang:type=Runtime", attr("SystemProperties", Tabular((), ()))), False),  # never exported
        # excluded beans never count
        ("excludeObjectNames: ['trino.memory:*']\nrules:\n  - pattern: 'Bytes:'\n", POOL, False),
        ("rules:\n  - pattern: 'Bytes:'\n", MBean("trino.memory:type=X", "trino.memory", (("type", "X"),), ()), False),
    ],
)
def test_may_export(text: str, item: MBean, expected: bool) -> None:
    assert engine(text).may_export(item) is expected


# -- value-blind patterns ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "tail"),
    [
        ("trino.memory<name=ClusterMemoryManager><>(.+):", ":"),
        ("java.lang<type=Memory><HeapMemoryUsage>used", "lang<type=Memory><HeapMemoryUsage>used"),
        ("kafka<type=(.+)><>Count", "><>Count"),
        ("x\\Q:)\\E", "x:)"),
        ("foo\\:", "foo:"),
        ("a(?<n>b):", ":"),
        ("a|b:", None),
        ("foo:(?=1)", None),
        ("(?i)foo:", None),
        ("a(?<=b):", None),
        ("a(?>b):", None),
        ("a:+", None),
        ("a:*+", None),
        ("a:{2}", None),
        ("foo[:]", None),
        ("abc\\u003a", None),
        ("abc\\x3a", None),
        ("(a:)", None),
    ],
)
def test_literal_tail(pattern: str, tail: str | None) -> None:
    assert literal_tail(pattern) == tail


@pytest.mark.parametrize(
    ("pattern", "blind"),
    [
        (None, True),
        (".*", True),
        ("<>Count:", True),
        ("<>Value", True),
        ("x<>true", True),  # "x<" cannot occur inside a number's text
        ("RunningQueries: 1", False),  # the tail holds a space: it can reach into the value
        ("<>t", True),
        ("Count", True),  # "t" occurs in "true", but "Count" never inside a value
        ("e", False),
        ("NaN", False),
        ("1.0E", False),
        ("(.*)", False),
    ],
)
def test_value_blind(pattern: str | None, blind: bool) -> None:
    assert value_blind(pattern) is blind


MATCH_BLIND = [
    ("trino.execution<name=(.+)><>(.+): (.*)", True),
    ("(.*)<(.*)><(.*)>(.*): (.*)", True),
    ("<>(.+): .*", True),
    ("State: ", True),  # its last character comes before any value
    ("Count: U", True),  # never matches a number: it would end inside the value with a letter no value holds
    ("x\\\\.*", True),  # an escaped backslash, then the tail
    ("<>Count", True),  # value-blind
    ("x\\.*", False),  # an escaped dot, repeated: not a tail that eats the value
    ("Count: 1", False),
    ("Count: (\\d+)", False),  # reads the value's digits
    ("<>(.+)e.*", False),  # "e" ends "true" and "false"
    ("a(?=.*5)b: (.*)", False),  # a lookahead may read the value
    ("a|b: (.*)", False),
    ("(.+)", False),
]


@pytest.mark.parametrize(("pattern", "blind"), MATCH_BLIND)
def test_match_blind(pattern: str, blind: bool) -> None:
    assert match_blind(pattern) is blind


VALUES = [0, 1, -1, 5, 12345678901, 0.5, 1.5e-7, -2.5e300, float("nan"), float("inf"), float("-inf"), True, False]
SUBJECTS = [
    ("trino.execution:name=QueryManager", "RunningQueries"),
    ("a:type=T", "Count"),
    ("a:type=T", "State"),
    ("x:name=y", "Value"),
]


@pytest.mark.parametrize("pattern", [pattern for pattern, blind in MATCH_BLIND if blind])
def test_a_match_blind_pattern_exports_for_every_value_or_for_none(pattern: str) -> None:
    rules = config(f"rules:\n  - pattern: '{pattern}'\n    name: m\n")
    for object_name, attribute in SUBJECTS:
        exported = {len(RuleEngine(rules).collect([bean(object_name, **{attribute: value})])) for value in VALUES}
        assert len(exported) == 1, (pattern, object_name, attribute)


@pytest.mark.parametrize(
    ("pattern", "tail", "groups"),
    [
        ("trino.execution<name=(.+)><>(.+): (.*)", "(.*)", 3),
        ("<>(?<attr>.+): .*", ".*", 1),
        ("State: ", "", 0),
        ("<>Count", None, 0),  # value-blind already: no tail needed
        ("Count: (\\d+)", None, 1),
        ("a\\(b\\)[(]\\Q(\\E(?:c)(d)", None, 1),  # escaped, in a class or quoted: not groups
    ],
)
def test_value_tail_and_capture_groups(pattern: str, tail: str | None, groups: int) -> None:
    assert value_tail(pattern) == tail
    (rule,) = config(yaml.safe_dump({"rules": [{"pattern": pattern}]})).rules  # Java's count, from the loader
    assert rule.groups == groups
