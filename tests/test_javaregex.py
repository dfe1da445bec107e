"""Our Java regex / replacement / number emulation against a real JVM (java.util.regex, java.lang.Double).

Each test sends one batch to a child JVM (tests/helpers/java_oracle.py) and compares answer by answer.
"""

from __future__ import annotations

import math
import random
import struct

import pytest

from exporter.config.javaregex import JavaRegexError, ReplacementError, compile_java, compile_replacement, translate
from exporter.records.javanum import double_to_string, float_to_string, parse_double
from tests.helpers.java_oracle import ask_java, java_available

jvm = pytest.mark.skipif(not java_available(), reason="needs JPype and a Java runtime")

WRAP = "^.*(?:{}).*$"

# (pattern as written in a rule, inputs, replacement)
CORPUS: list[tuple[str, list[str], str | None]] = [
    (r"kafka.server<type=(.+), name=(.+)PerSec\w*><>Count", [
        "kafka.server<type=BrokerTopicMetrics, name=MessagesInPerSec><>Count: 123",
        "kafka.server<type=BrokerTopicMetrics, name=MessagesInPerSecond><>Count: 1",
        "kafka.serverXtype", ""], "kafka_server_$1_$2"),
    (r"(\d+)", ["abc 123", "x", "9"], "[$1]"),
    (r"(?:(x)|(\d+))", ["abc 123", "zz x"], "[$1][$2][$12][$21]"),
    (r"(?<dom>\w+)\.(?<rest>\w+)", ["trino.memory<x>", "a.b"], "${dom}-${rest}-$0"),
    (r"<>(\w++)Queries", ["q<>RunningQueries: 1"], "$1"),
    (r"<>(?>(\w+))Queries", ["q<>RunningQueries: 1"], "$1"),
    (r"<>(\w+?)(Queries|Count)", ["q<>RunningQueries: 1", "q<>XCount: 2"], "$1|$2"),
    (r"\p{javaLowerCase}+\p{javaUpperCase}", ["abcD", "ABC", "éaÉ"], "$0"),
    (r"\p{Lower}\p{Upper}\p{Alpha}\p{Digit}\p{Alnum}\p{Punct}", ["aBc1x!", "éÉé1x!"], None),
    (r"\p{IsLatin}+\p{InGreek}\p{L}\p{IsLu}\pL\p{IsAlphabetic}", ["ab\u03b1cDeF", "ab1"], None),
    (r"\P{javaDefined}|\p{javaWhitespace}\p{javaLetterOrDigit}", [" a", "\u00a0a", "\u0378"], None),
    (r"\Qa.b(c)\E+x", ["a.b(c))x", "a.b(c)x", "aXb(c)x"], "$0"),
    (r"(?i)queryMANAGER><>(running)", ["QueryManager><>RunningQueries", "querymanager><>RUNNING"], "$1"),
    (r"a(?i)b|C", ["aB", "c", "C", "Ab"], None),
    (r"(?:a(?i)b)c", ["aBc", "aBC"], None),
    (r"(?i:ab)c", ["ABc", "ABC"], None),
    (r"(?x) a b # comment", ["ab", "a b"], None),
    ("(?x) a b # comment\n", ["ab", "a b"], None),
    (r"(?x)[a b]+", ["ab", "a b", " "], None),
    (r"a.b", ["a\nb", "a\rb", "a\u2028b", "a-b"], None),
    (r"(?s)a.b", ["a\nb", "a\rb"], None),
    (r"(?d)a.b", ["a\rb", "a\nb"], None),
    (r"x$", ["ax", "ax\n", "ax\r\n"], None),
    (r"^a", ["ab", "ba"], None),
    (r"(?m)^b", ["a\nb", "ab"], None),
    (r"a\z", ["a", "a\n"], None),
    (r"a\Z", ["a", "a\n", "a\r\n"], None),
    (r"\h+\v", [" \t\n", "  x"], None),
    (r"a\Rb", ["a\r\nb", "a\nb", "a\n\nb"], None),
    (r"\w+\b\W\B\d\D\s\S", ["ab-x1a b", "é-x1a b"], None),
    (r"[a-z&&[^aeiou]]+", ["bcd", "bad"], None),
    (r"[a-d[m-p]]+", ["abmp", "abx"], None),
    (r"[^\d\s]+", ["ab", "a1"], None),
    (r"[a-c-e]+", ["a-e", "d"], None),
    (r"[]a]+", ["]a", "b"], None),
    (r"[\Q]-[\E]+", ["]-[", "a"], None),
    (r"\x41\x{1F600}\u00e9\0101\cA\t", ["A\U0001F600éA\x01\t"], None),
    (r"(a)\1", ["aa", "ab"], None),
    (r"(a)\2|b", ["a", "b"], None),
    (r"(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\10", ["abcdefghijj", "abcdefghija0"], "$10-$11"),
    (r"(?<n>x)\k<n>", ["xx", "xy"], None),
    (r"a{2}{3}", ["aaaaaa", "aaaa"], None),
    (r"^a{2}{3}$", ["aa", "aaaaaa"], None),
    (r"a*{2}b", ["aab", "b"], None),
    (r"(?=a)*b", ["b"], None),
    (r"x{2,}y{1,2}+", ["xxyy", "xy"], None),
    (r"a|b)(c", ["ac", "bc", "b)(c"], None),
    (r"\$\.\*\+\?\(\)\[\]\{\}\|\\\^", ["$.*+?()[]{}|\\^"], None),
    (r"<>\p{javaUpperCase}(\p{javaLowerCase}+)Size", ["a<>PoolSize: 4"], "size_$1"),
    (r"(x)?y", ["y", "xy"], "[$1]"),
    (r"(?<a>x)|(?<b>y)", ["x", "y"], "[${a}][${b}]"),
    (r"(a)", ["a"], r"\$1\\$1\x"),
    (r"(\w+)", ["héllo wörld"], "$1"),
    (r"é+", ["ééé"], None),
    (r"[\p{L}&&[^a]]+", ["bc", "ba"], None),
    (r"\p{Punct}\p{Graph}\p{Print}\p{Blank}\p{Cntrl}\p{XDigit}\p{Space}\p{ASCII}", ["!## \x01f\tA", "¡## \x01f\tA"],
     None),
    (r"(?U)\w+\d", ["é٣"], None),
    (r"\p{gc=Lu}\p{sc=Greek}\p{blk=Basic Latin}\p{general_category=Nd}", ["A\u03b1A1", "a\u03b1A1"], None),
    (r"\N{LATIN SMALL LETTER A}", ["a", "b"], None),
]

# Patterns Java rejects; we must reject them too.
JAVA_REJECTS = [
    "{", "a{,3}", "a{x}", "(?#c)a", "a**", "\\ya", "\\E", "[a-\\d]", "(?<a_b>x)", "(?<a>x)(?<a>y)", "\\k<zz>",
    "[^]", "[]", "x{3,2}", "\\p{Latin}", "\\p{isalphabetic}", "a\\", "\\c", "\\0", "\\08", "(a", "a)", "a{2}*",
    "\\x4", "\\u12", "\\p{Nope}", "[b-a]", "*a", "(?z)a", "\\N{NO SUCH NAME}",
]
# Patterns Java accepts (checked below) that we translate.
JAVA_ACCEPTS = [
    "a}", "[]a]", "x{2}+", "(?)a", "\\b", "(?u)a", "(?U)a", "[&&a]", "[a&&]", "\\p{IsLu}", "(?<=a+)b", "\\v",
    "\\h", "[\\Q]\\E]", "[\\d-z]", "[a-]", "(?=a)*", "\\x{1F600}",
]


@jvm
def test_matching_groups_and_replacement_agree_with_java() -> None:
    requests = [{"kind": "regex", "pattern": WRAP.format(p), "inputs": inputs, "replacement": r}
                for p, inputs, r in CORPUS]
    answers = ask_java(requests)
    for (pattern, inputs, replacement), answer in zip(CORPUS, answers, strict=True):
        if "error" in answer:  # e.g. a comment in (?x) mode that swallows the closing ")" of the wrapper
            with pytest.raises(JavaRegexError):
                compile_java(WRAP.format(pattern))
            continue
        compiled = compile_java(WRAP.format(pattern))
        template = (
            compile_replacement(replacement, compiled.group_count, compiled.group_names) if replacement else None
        )
        for text, expected in zip(inputs, answer["results"], strict=True):
            m = compiled.regex.fullmatch(text)
            context = (pattern, text, compiled.translated)
            assert (m is not None) == expected["matches"], context
            if m is None:
                continue
            assert list(m.groups()) == expected["groups"], context
            if template is not None:
                assert template.expand(m) == expected["replaced"], context


@jvm
def test_syntax_errors_agree_with_java() -> None:
    answers = ask_java([{"kind": "regex", "pattern": p, "inputs": []} for p in JAVA_REJECTS + JAVA_ACCEPTS])
    for pattern, answer in zip(JAVA_REJECTS + JAVA_ACCEPTS, answers, strict=True):
        java_rejects = "error" in answer
        assert java_rejects == (pattern in JAVA_REJECTS), (pattern, answer)
        if java_rejects:
            with pytest.raises(JavaRegexError):
                compile_java(pattern)
        else:
            compile_java(pattern)


def _random_subjects(rng: random.Random, count: int) -> list[str]:
    alphabet = "ab.<>=, :_-1209xyzABQ\"\\()[]{}|*+?$^\n\té"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(count)]


@jvm
def test_random_subjects_agree_with_java() -> None:
    rng = random.Random(20240607)
    patterns = [
        r"a<(\w+)=(\w+)>", r"(.)(.)?", r"([^,]+), ([^>]+)>", r"\Q<>\E(.*)", r"(\d+)\.?(\d*)", r"(?i)(ab|x)+",
        r"[\w&&[^_]]+", r"\s*(\S+)\s*", r"(a|b)*?(:)", r"[^\p{Alnum}]+", r"(\")([^\"]*)\"",
    ]
    subjects = _random_subjects(rng, 150)
    requests = [{"kind": "regex", "pattern": WRAP.format(p), "inputs": subjects, "replacement": "$1|$2"}
                for p in patterns]
    for pattern, answer in zip(patterns, ask_java(requests), strict=True):
        compiled = compile_java(WRAP.format(pattern))
        two = compiled.group_count >= 2
        template = compile_replacement("$1|$2" if two else "$0", compiled.group_count, compiled.group_names)
        for text, expected in zip(subjects, answer["results"], strict=True):
            m = compiled.regex.fullmatch(text)
            assert (m is not None) == expected["matches"], (pattern, text)
            if m is not None:
                assert list(m.groups()) == expected["groups"], (pattern, text)
                if two:
                    assert template.expand(m) == expected["replaced"], (pattern, text)


def _random_doubles(rng: random.Random, count: int) -> list[float]:
    values = [0.0, -0.0, 1.0, 0.1, 100.0, 1e7, 9999999.999999998, 1e-3, 0.00099, 1e23, 2e-323, 1.7976931348623157e308,
              5e-324, 123456789.0, 1234567.0, 1573285945.111, 0.5, 2.0**53, -1.5e-5, 4.35, 1e21, 1e-7]
    while len(values) < count:
        bits = rng.getrandbits(64)
        value = struct.unpack("<d", struct.pack("<Q", bits))[0]
        if math.isfinite(value):
            values.append(value)
        values.append(rng.uniform(-1e9, 1e9))
        values.append(round(rng.uniform(0, 1000), rng.randint(0, 6)))
    return values


@jvm
def test_number_text_agrees_with_java() -> None:
    rng = random.Random(7)
    doubles = _random_doubles(rng, 1500)
    floats = [struct.unpack("<f", struct.pack("<f", v))[0] for v in doubles if abs(v) < 3e38]
    texts = ["1", " 5 ", "1e3", "1.", ".5", "-.5e-3", "+7", "1_000", "inf", "nan", "NaN", "-Infinity", "Infinity",
             "0x1p3", "0x1.8P-1d", "0x10", "1e", "e1", "", " ", "1.5f", "2D", "NaNd", "\u0661", "1e400", "--1",
             "0x.8p1", "1.0E-4", "12abc", "\t3\n"]
    answers = ask_java([
        {"kind": "version"},
        {"kind": "double_to_string", "values": doubles},
        {"kind": "float_to_string", "values": floats},
        {"kind": "parse_double", "texts": texts},
    ])
    if answers[0]["feature"] < 19:
        pytest.skip("Double.toString printed the shortest digits only from Java 19 on")
    assert [double_to_string(v) for v in doubles] == answers[1]["results"]
    assert [float_to_string(v) for v in floats] == answers[2]["results"]
    ours = [None if (p := parse_double(t)) is None else double_to_string(p) for t in texts]
    assert ours == answers[3]["results"]


# --- without a JVM -----------------------------------------------------------------------------------------------


def test_translation_of_common_rule_constructs() -> None:
    assert translate(r"a\.b")[0] == r"a\.b"
    assert translate(r"(?<name>\w+)")[0] == "(?P<name>[a-zA-Z0-9_]+)"
    assert translate(r"x.")[0] == "x[^\\n\\r\\x85\\u2028\\u2029]"
    assert translate(r"(a)(?:b)(?<c>d)")[1:] == (2, {"c": 2})


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("$", "illegal group reference: '$' at the end (write '\\$' for a dollar sign)"),
        ("x\\", "character to be escaped is missing (a trailing '\\')"),
        ("$x", "illegal group reference '$x' (write '\\$' for a dollar sign)"),
        ("$3", "no group 3 (the pattern has 2 capturing groups)"),
        ("${}", "named capturing group has 0 length name"),
        ("${a", "named capturing group '${a' is missing trailing '}'"),
        ("${1a}", "capturing group name {1a} starts with digit character"),
        ("${zz}", "no group with name {zz} (the pattern's named groups: n)"),
    ],
)
def test_replacement_errors(template: str, message: str) -> None:
    with pytest.raises(ReplacementError) as info:
        compile_replacement(template, 2, {"n": 1})
    assert str(info.value) == message


def test_replacement_constant() -> None:
    assert compile_replacement(r"a\$b", 0, {}).constant == "a$b"
    assert compile_replacement("a$0", 0, {}).constant is None


def test_required_literals_are_in_every_match() -> None:
    rng = random.Random(11)
    subjects = [*_random_subjects(rng, 400), "a<b=c>", "ab:cd", "x.y<z>", "AB<>Q", "a.b(c)x"]
    checked = 0
    for pattern, inputs, _ in CORPUS:
        try:
            compiled = compile_java(pattern)
        except JavaRegexError:
            continue
        for text in subjects + inputs:
            if compiled.regex.search(text):
                checked += 1
                assert all(lit in text for lit in compiled.required_literals), (pattern, text)
    assert checked > 50


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        (r"trino.memory<type=ClusterMemoryPool, name=(.*)><>(.+):", ("trino", "memory<type=ClusterMemoryPool, name=",
                                                                     "><>", ":")),
        (r"(?:presto|trino)\.execution<name=QueryManager><>(\w+)", (".execution<name=QueryManager><>",)),
        (r"a|b", ()),
        (r"ab*c{0,2}d+e{2}", ("a", "d", "e")),
        (r"(?i)ab(?-i)cd", ("cd",)),
        (r"\Qa.b\E?x", ("a.", "x")),
        (r"(?x) a b # c", ("ab",)),
    ],
)
def test_required_literals(pattern: str, literals: tuple[str, ...]) -> None:
    assert compile_java(pattern).required_literals == literals
