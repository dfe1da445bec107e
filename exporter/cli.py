"""The ``presto-jmx-exporter`` command: a parser, a dispatch table of subcommands, and exit codes."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from exporter import __version__
from exporter.commands import logsetup, options
from exporter.commands.exitcodes import ExitCode
from exporter.errors import UsageError

# Subcommand name -> module with HELP, DESCRIPTION, add_arguments(parser) and run(args) -> int.
COMMANDS = {
    "serve": "exporter.commands.serve",
    "scrape": "exporter.commands.scrape",
    "healthcheck": "exporter.commands.healthcheck",
    "hash-password": "exporter.commands.hash_password",
    "capture": "exporter.commands.capture",
    "explain": "exporter.commands.explain",
    "test-rules": "exporter.commands.test_rules",
}

PROG = "presto-jmx-exporter"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Presto and Trino MBeans as Prometheus metrics, with jmx_exporter-compatible rule files. "
        "Every option can also be set by the environment variable shown in its help.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        sub = subparsers.add_parser(name, help=module.HELP, description=module.DESCRIPTION)
        module.add_arguments(sub)
        options.add(sub, "--log-level", "log level", default="INFO", choices=logsetup.LEVELS, type=str.upper)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()  # reads the PJE_* variables
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    args = parser.parse_args(argv)
    logsetup.configure(args.log_level)
    from exporter.config.model import ConfigError  # imported late so --help stays fast

    try:
        return int(args.run(args))
    except (UsageError, ConfigError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except KeyboardInterrupt:
        return ExitCode.FAILED


if __name__ == "__main__":
    sys.exit(main())
