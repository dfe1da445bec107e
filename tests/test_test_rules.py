"""`test-rules`: the shipped packs' tests pass; failures print a readable diff and exit 1; malformed files exit 2
naming the file, line and key path (one row per error in a table)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from exporter.cli import main
from exporter.commands.exitcodes import ExitCode

ROOT = Path(__file__).resolve().parents[1]
RULE_TESTS = sorted((ROOT / "rules" / "tests").glob("*.test.yml"))
PACKS = sorted((ROOT / "rules").glob("*.yml"))

# A small bean set and rules that exercise names, labels, valueFactor and counters.
INLINE = """\
config:
  lowercaseOutputName: true
  rules:
    - pattern: 'app<type=Pool, name=(\\w+)><>FreeBytes:'
      name: app_pool_free_bytes
      labels: {pool: $1}
    - pattern: 'app<type=Pool, name=(\\w+)><>WaitMillis:'
      name: app_pool_wait_seconds
      valueFactor: 0.001
      labels: {pool: $1}
    - pattern: 'app<name=Queries><>(\\w+)Count:'
      name: app_queries_$1_total
      type: COUNTER
input:
  - objectName: app:type=Pool,name=general
    attributes:
      - {name: FreeBytes, type: long, value: 1024}
      - {name: WaitMillis, type: double, value: 123.0}
  - objectName: app:type=Pool,name=reserved
    attributes:
      - {name: FreeBytes, type: long, value: 0}
  - objectName: app:name=Queries
    attributes:
      - {name: FailedCount, type: long, value: 7}
      - {name: Unit, type: java.lang.String, value: SECONDS}
"""


def write(tmp_path: Path, body: str, name: str = "test.yml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body))
    return path


def run(capsys: pytest.CaptureFixture[str], *files: Path) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["test-rules", *map(str, files)])
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------------------------------------------------
# The shipped packs


def test_every_shipped_pack_has_a_test_file() -> None:
    tested = {line.split(":", 1)[1].strip() for path in RULE_TESTS for line in path.read_text().splitlines()
              if line.startswith("config:")}
    assert {f"../{pack.name}" for pack in PACKS} <= tested


@pytest.mark.parametrize("test_file", RULE_TESTS, ids=lambda p: p.name)
def test_the_shipped_pack_tests_pass(test_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, test_file)
    assert (code, err) == (ExitCode.OK, ""), out
    assert "FAIL" not in out
    assert out.splitlines()[-1].startswith("PASSED: ")


# ---------------------------------------------------------------------------------------------------------------
# Passing and failing


def test_a_passing_file_prints_one_line_per_test(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, INLINE + """\
tests:
  - name: pools
    expect:
      - {series: 'app_pool_free_bytes{pool="general"}', value: 1024}
      - {name: app_pool_free_bytes, labels: {pool: reserved}, value: 0, type: untyped}
      - {series: 'app_pool_wait_seconds{pool="general"}', value: 0.123}   # 0.12300000000000001 in binary
    absent:
      - name: app_pool_wait_seconds
        labels: {pool: reserved}
  - name: counters
    exhaustive: true
    expect:
      - {series: 'app_pool_free_bytes{pool="general"}', value: 1024}
      - {series: 'app_pool_free_bytes{pool="reserved"}', value: 0}
      - {series: 'app_pool_wait_seconds{pool="general"}', value: 0.123}
      - {name: app_queries_failed_total, value: 7, type: counter}
""")
    code, out, err = run(capsys, path)
    assert (code, err) == (ExitCode.OK, ""), out
    assert out == (
        f'ok   {path}:27 tests[0] "pools" (3 expected, 1 absent)\n'
        f'ok   {path}:35 tests[1] "counters" (4 expected, 0 absent, exhaustive)\n'
        "PASSED: 2 passed, 0 failed\n"
    )


def test_a_failing_test_shows_each_difference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, INLINE + """\
tests:
  - name: all the ways to fail
    expect:
      - {series: 'app_pool_free_bytes{pool="general"}', value: 1000}
      - {series: 'app_pool_free_bytes{pool="system"}', value: 1}
      - {name: app_pool_free, value: 1}
      - {name: app_queries_failed_total, value: 7, type: gauge}
    absent:
      - name: app_pool_wait_seconds
  - name: exhaustive
    exhaustive: true
    expect:
      - {series: 'app_pool_free_bytes{pool="general"}', value: 1024}
      - {series: 'app_pool_free_bytes{pool="reserved"}', value: 0}
      - {name: app_queries_failed_total, value: 7}
""")
    code, out, err = run(capsys, path)
    assert (code, err) == (ExitCode.FAILED, "")
    assert out == textwrap.dedent(f"""\
        FAIL {path}:27 tests[0] "all the ways to fail"
          ~ app_pool_free_bytes{{pool="general"}}: expected 1000.0, got 1024.0
              wrong value (expect[0], line 29)
              made by rules[0] (line 4) from app<type=Pool, name=general><>FreeBytes: 1024
          - app_pool_free_bytes{{pool="system"}} 1.0
              missing (expect[1], line 30); this name has other labels: app_pool_free_bytes{{pool="general"}} 1024.0, \
app_pool_free_bytes{{pool="reserved"}} 0.0
          - app_pool_free 1.0
              missing (expect[2], line 31); no series of this name, similar names: app_pool_free_bytes
          ~ app_queries_failed_total: expected type gauge, got counter
              wrong type (expect[3], line 32)
              made by rules[2] (line 11) from app<name=Queries><>FailedCount: 7
          + app_pool_wait_seconds{{pool="general"}} 0.123
              unexpected (absent[0], line 34)
              made by rules[1] (line 7) from app<type=Pool, name=general><>WaitMillis: 123.0
        FAIL {path}:35 tests[1] "exhaustive"
          + app_pool_wait_seconds{{pool="general"}} 0.123
              unexpected (not under expect; the test is exhaustive)
              made by rules[1] (line 7) from app<type=Pool, name=general><>WaitMillis: 123.0
        FAILED: 0 passed, 2 failed
        """)


def test_a_missing_series_points_at_beans_the_include_list_leaves_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, """\
        config:
          includeObjectNames: ["app:type=Pool,name=general"]
          rules: [{pattern: 'app<type=Pool, name=(\\w+)><>(\\w+):', name: app_$1_$2}]
        input:
          - {objectName: "app:type=Pool,name=large", attributes: [{name: Free, type: long, value: 1}]}
        tests:
          - name: t
            expect: [{name: app_large_Free, value: 1}]
        """)
    code, out, _ = run(capsys, path)
    assert code == ExitCode.FAILED
    assert ("missing (expect[0], line 8); no series of this name; 1 MBean(s) of the input are not selected by "
            "includeObjectNames/excludeObjectNames (app:type=Pool,name=large)") in out


def test_paths_are_relative_to_the_test_file_and_tests_may_override_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "rules: [{pattern: 'trino.memory<name=ClusterMemoryManager><>(\\w+):', name: m_$1}]\n",
          "rules/memory.yml")
    (tmp_path / "dumps").mkdir()
    (tmp_path / "dumps" / "trino.json").write_bytes((ROOT / "examples/dumps/trino-coordinator.json").read_bytes())
    path = write(tmp_path, """\
        config: ../rules/memory.yml
        input: ../dumps/trino.json
        tests:
          - name: from the dump
            expect: [{name: m_ClusterMemoryBytes, value: 68719476736}]
          - name: inline beans instead
            input: {objectName: "trino.memory:name=ClusterMemoryManager", attributes: [{name: X, value: 1}]}
            exhaustive: true
            expect: [{name: m_X, value: 1}]
          - name: another config
            config: {rules: [{pattern: 'ClusterMemoryBytes', name: bytes, valueFactor: 2}]}
            expect: [{name: bytes, value: 137438953472}]
        """, "tests/memory.test.yml")
    code, out, err = run(capsys, path)
    assert (code, err) == (ExitCode.OK, ""), out


def test_a_malformed_file_exits_2_but_the_other_files_still_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path, "tests: []\n", "bad.yml")
    good = write(tmp_path, INLINE + "tests:\n  - {name: t, expect: [{name: app_queries_failed_total, value: 7}]}\n",
                 "good.yml")
    code, out, err = run(capsys, bad, good)
    assert code == ExitCode.USAGE
    assert err == f"presto-jmx-exporter: error: {bad}:1: tests: the list of tests is empty\n"
    assert f'ok   {good}:27 tests[0] "t"' in out


# ---------------------------------------------------------------------------------------------------------------
# Malformed test files: one row per error, with the exact message


TEST = "tests:\n  - name: t\n    expect: [{name: x, value: 1}]\n"
CONFIG_AND_INPUT = "config: {rules: []}\ninput: []\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "the file is empty (it needs config, input and tests)"),
        ("tests: [\n", "2: invalid YAML: expected the node content, but found '<stream end>' (while parsing a "
         "flow node that starts on line 2)"),
        ("tests:\n  - name: 'x\n", "3: invalid YAML: found unexpected end of stream (while scanning a quoted "
         "scalar that starts on line 2)"),
        ("config: {}\ninput: \x07\n", "2: invalid YAML: special characters are not allowed (character #x0007)"),
        ("tests: " + "[" * 3000 + "]" * 3000 + "\n", "invalid YAML: collections nested too deeply to read"),
        ("- 1\n", "1: expected a mapping with config, input and tests, got a list"),
        (CONFIG_AND_INPUT, "1: no 'tests' list"),
        (CONFIG_AND_INPUT + "test: []\n", "3: test: unknown key 'test' (did you mean 'tests'?)"),
        (CONFIG_AND_INPUT + "tests: {}\n", "3: tests: expected a list of tests, got a mapping"),
        (CONFIG_AND_INPUT + "tests:\n  - expect: []\n", "4: tests[0]: a test needs a 'name'"),
        (CONFIG_AND_INPUT + "tests:\n  - name: t\n", "4: tests[0]: the test checks nothing: give 'expect', "
         "'absent' or 'exhaustive'"),
        (CONFIG_AND_INPUT + "tests:\n  - {name: t, exhaustive: yes}\n  - {name: t, exhaustive: yes}\n",
         "5: tests[1].name: another test is also named 't' (tests[0], line 4)"),
        (CONFIG_AND_INPUT + "tests:\n  - {name: t, exhaustive: 1}\n",
         "4: tests[0].exhaustive: expected true or false, got the number 1"),
        ("input: []\n" + TEST, "3: tests[0]: no config: give 'config' in the test or at the top of the file"),
        ("config: {}\n" + TEST, "3: tests[0]: no input: give 'input' in the test or at the top of the file"),
        ("config: nope.yml\n" + TEST, "1: config: no such file: nope.yml (paths are relative to the test file)"),
        ("config: 3\n" + TEST, "1: config: expected a rule file path or an inline configuration mapping, got the "
         "number 3"),
        ("config: bad.yml\n" + TEST, "1: config: the rule file is not valid: {dir}/bad.yml:2: rules[0]: unknown "
         "key 'patern' (did you mean 'pattern'?)"),
        ("config:\n  rules:\n    - name: x\n      pattern: '('\ninput: []\n" + TEST,
         "4: config.rules[0].pattern: invalid regular expression '(': Unclosed group"),
        ("input: []\n" + "tests:\n  - name: t\n    config:\n      lowercaseOutputNames: true\n"
         "    expect: [{name: x, value: 1}]\n",
         "5: tests[0].config.lowercaseOutputNames: unknown key 'lowercaseOutputNames' (did you mean "
         "'lowercaseOutputName'?)"),
        ("config: {}\ninput: [{name: x}]\n" + TEST,
         "2: input[0]: not an MBean in /v1/jmx/mbean form: MBean without a string 'objectName'"),
        ("config: {}\ninput: [{objectName: 'a:b'}]\n" + TEST,
         "2: input[0]: not an MBean in /v1/jmx/mbean form: bad objectName: 'a:b' has key property 'b' without '='"),
        ("config: {}\ninput: missing.json\n" + TEST,
         "2: input: no such file: missing.json (paths are relative to the test file)"),
        ("config: {}\ninput: notjson.json\n" + TEST, "2: input: {dir}/notjson.json: malformed JSON"),
        (CONFIG_AND_INPUT + "tests:\n  - name: t\n    expect: [{name: x}]\n",
         "5: tests[0].expect[0]: an expected series needs a 'value'"),
        (CONFIG_AND_INPUT + "tests:\n  - name: t\n    expect: [{name: x, valu: 1}]\n",
         "5: tests[0].expect[0].valu: unknown key 'valu' (did you mean 'value'?)"),
        (CONFIG_AND_INPUT + "tests:\n  - name: t\n    expect: [{name: x, value: abc}]\n",
         "5: tests[0].expect[0].value: expected a number (or NaN, +Inf, -Inf), got the string 'abc'"),
        (CONFIG_AND_INPUT + "tests:\n  - name: t\n    expect: [{value: 1}]\n",
         "5: tests[0].expect[0]: give either 'name' (with optional 'labels') or 'series', not both"),
        (CONFIG_AND_INPUT + "tests:\n  - name: t\n    expect: [{name: 'x{a=\"b\"}', value: 1}]\n",
         "5: tests[0].expect[0].name: labels go under 'labels' (or write the whole thing as 'series')"),
        (CONFIG_AND_INPUT + "tests:\n  - name: t\n    expect: [{series: 'x{a=b}', value: 1}]\n",
         "5: tests[0].expect[0].series: expected label=\"value\" at 'a=b' in 'x{a=b}'"),
        (CONFIG_AND_INPUT + "tests:\n  - name: t\n    expect: [{series: 'x{a=\"b\",a=\"c\"}', value: 1}]\n",
         "5: tests[0].expect[0].series: label 'a' appears twice in 'x{a=\"b\",a=\"c\"}'"),
        (CONFIG_AND_INPUT + "tests:\n  - name: t\n    expect: [{series: 'x', labels: {}, value: 1}]\n",
         "5: tests[0].expect[0].labels: 'series' already holds the labels; use 'name' with 'labels' instead"),
        (CONFIG_AND_INPUT + "tests:\n  - name: t\n    expect: [{name: x, labels: [a], value: 1}]\n",
         "5: tests[0].expect[0].labels: expected a mapping of label name to value, got a list"),
        (CONFIG_AND_INPUT + "tests:\n  - name: t\n    expect: [{name: x, value: 1, type: summary}]\n",
         "5: tests[0].expect[0].type: type must be gauge, counter or untyped, not 'summary'"),
        (CONFIG_AND_INPUT + "tests:\n  - name: t\n    absent: [{name: x, value: 1}]\n",
         "5: tests[0].absent[0].value: unknown key 'value' (known keys: name, series, labels)"),
        (CONFIG_AND_INPUT + "tests:\n  - name: t\n    absent: x\n",
         "5: tests[0].absent: expected a list of series, got the string 'x'"),
    ],
)
def test_malformed_test_files_name_the_file_line_and_key(
    body: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.yml").write_text("rules:\n  - patern: x\n")
    (tmp_path / "notjson.json").write_text("{nope")
    path = tmp_path / "case.yml"
    path.write_text(body)
    code, out, err = run(capsys, path)
    assert code == ExitCode.USAGE
    expected = message.replace("{dir}", str(tmp_path))
    where = f"{path}:{expected}" if expected[0].isdigit() else f"{path}: {expected}"  # "N: ..." starts with a line
    assert err.startswith(f"presto-jmx-exporter: error: {where}")
    assert err.count("\n") == 1
    assert out == "ERROR: 0 passed, 0 failed\n"


def test_the_documented_example_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = (ROOT / "docs" / "developing-rules.md").read_text()
    section = doc[doc.index("## test-rules"):]
    example = section[section.index("```yaml\n") + 8:section.index("```\n", section.index("```yaml\n"))]
    (tmp_path / "rules" / "tests").mkdir(parents=True)
    (tmp_path / "examples" / "dumps").mkdir(parents=True)
    (tmp_path / "rules" / "coordinator.yml").write_bytes((ROOT / "rules" / "coordinator.yml").read_bytes())
    (tmp_path / "examples" / "dumps" / "trino-coordinator.json").write_bytes(
        (ROOT / "examples" / "dumps" / "trino-coordinator.json").read_bytes())
    path = tmp_path / "rules" / "tests" / "example.test.yml"
    path.write_text(example)
    code, out, err = run(capsys, path)
    assert (code, err) == (ExitCode.OK, ""), out
    assert out.endswith("PASSED: 2 passed, 0 failed\n")
