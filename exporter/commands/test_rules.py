"""`test-rules`: check rule files against saved MBeans, in the spirit of ``promtool test rules``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from exporter.commands.exitcodes import ExitCode
from exporter.config.yamlnodes import FileFormatError
from exporter.tooling.ruletest import run_case
from exporter.tooling.testfile import load_test_file
from exporter.tooling.testreport import render_result

HELP = "run rule test files: expected and absent series over saved or inline MBeans (exit 0 pass, 1 fail)"
DESCRIPTION = (
    "Each TESTFILE (YAML) names a rule config, an input (a /v1/jmx/mbean dump or inline MBeans) and tests listing "
    "series that must be produced (name, labels, value) and series that must not. The rules run exactly as in a "
    "scrape. Prints one line per test and a diff for each failing one; exits 0 when all pass, 1 when a test fails, "
    "2 when a test file is malformed (the message names the file, line and key). Format: docs/developing-rules.md."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("testfiles", nargs="+", metavar="TESTFILE", help="test file (YAML)")


def run(args: argparse.Namespace) -> int:
    code = ExitCode.OK
    passed = failed = 0
    for name in args.testfiles:
        try:
            test_file = load_test_file(Path(name))
        except FileFormatError as exc:
            print(f"presto-jmx-exporter: error: {exc}", file=sys.stderr)
            code = ExitCode.USAGE
            continue
        for case in test_file.cases:
            result = run_case(case)
            sys.stdout.write("\n".join(render_result(result, name)) + "\n")
            if result.passed:
                passed += 1
            else:
                failed += 1
                if code == ExitCode.OK:
                    code = ExitCode.FAILED
    status = "FAILED" if failed else ("ERROR" if code == ExitCode.USAGE else "PASSED")
    print(f"{status}: {passed} passed, {failed} failed", file=sys.stdout)
    return code
