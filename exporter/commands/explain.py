"""`explain`: show what the rules make of each attribute, then lint the rules against what the target has."""

from __future__ import annotations

import argparse
import sys

from exporter.commands import options
from exporter.commands.exitcodes import ExitCode
from exporter.config.loader import load_config
from exporter.errors import UsageError
from exporter.sources.base import BeanRequest, SourceError
from exporter.tooling.evaluation import evaluate
from exporter.tooling.explainreport import render_findings, render_outcomes
from exporter.tooling.lint import lint, unexpected
from exporter.tooling.reading import read_once
from exporter.tooling.selection import BeanSelection

HELP = "show, per attribute, the string rules see, the rule that matched and the result; then lint the rules"
DESCRIPTION = (
    "Read the target once (best a dump made with capture), run the config's rules exactly as a scrape does and "
    "print, for each attribute of the selected beans: the exact string the patterns are matched against, the rule "
    "that decided (index, file line and pattern) or that none did, and the resulting series or why the attribute "
    "was dropped. Ends with a lint over all beans: rules that can never match (ObjectName-style patterns, key "
    "properties in an order no bean has), rules that matched nothing or only drops, series that collided, and "
    "names that break Prometheus naming conventions. A rule may mark a finding it expects with a comment of its own, "
    "'# lint: expected KIND: why' (a multi-version pack naming beans of other versions): it is still shown, marked "
    "expected. Exit 0, or 1 with --strict when the lint finds something no such comment expects."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_config_argument(parser)
    options.add_target_arguments(parser)
    parser.add_argument("--bean", action="append", metavar="PATTERN",
                        help="show only MBeans matching this ObjectName pattern, e.g. 'trino.memory:*'; repeatable "
                        "(the lint always covers every bean)")
    parser.add_argument("--attribute", metavar="NAME",
                        help="show only this attribute; * and ? match any text and any one character")
    parser.add_argument("--no-lint", dest="lint", action="store_false", help="leave out the lint")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when the lint finds something the rule file does not mark as expected")


def run(args: argparse.Namespace) -> int:
    if not args.config:
        raise UsageError("--config is required (the rule file to explain)")
    selection = BeanSelection.parse(args.bean)
    config = load_config(args.config)
    try:
        # Every bean: collisions and the lint need them all.
        snapshot = read_once(options.source_settings(args), config, BeanRequest(), args.scrape_timeout)
    except SourceError as exc:
        print(f"presto-jmx-exporter: explain failed: {exc}", file=sys.stderr)
        return ExitCode.FAILED
    beans = snapshot.beans
    evaluation = evaluate(config, beans)
    lines, shown = render_outcomes(evaluation, beans, selection, args.attribute)
    if not shown and (selection.patterns or args.attribute):
        lines.append("no attribute of the target matches --bean/--attribute")
    out = sys.stdout
    out.write("\n".join(lines) + "\n" if lines else "")
    if not args.lint:
        return ExitCode.OK
    findings = lint(evaluation, beans)
    out.write("\n" + "\n".join(render_findings(config, findings)) + "\n")
    out.flush()
    return ExitCode.FAILED if args.strict and unexpected(findings) else ExitCode.OK
