"""`capture`: save what a target exposes as a ``/v1/jmx/mbean`` JSON dump, to develop rules offline."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

from exporter.commands import options
from exporter.commands.exitcodes import ExitCode
from exporter.errors import UsageError
from exporter.sources.base import SourceError
from exporter.tooling.dumpwriter import write_dump
from exporter.tooling.reading import read_once
from exporter.tooling.redaction import Redacted, redact_bean
from exporter.tooling.selection import BeanSelection

HELP = "save the target's MBeans as a /v1/jmx/mbean JSON dump (for explain, test-rules and --target FILE)"
DESCRIPTION = (
    "Read every MBean of the target (a coordinator URL, a JMX URL, or another dump) once and write it in airlift's "
    "/v1/jmx/mbean JSON format, which --target FILE reads back exactly. Values that may hold secrets (the JVM's "
    "system properties, input arguments and class paths, and text attributes named like passwords, tokens or keys) "
    "are left out unless --include-secrets is given. --config is only needed for the config's hostPort/jmxUrl or "
    "JMX credentials."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_config_argument(parser, required=False)
    options.add_target_arguments(parser)
    parser.add_argument("-o", "--output", metavar="FILE", default="-",
                        help="file to write (default: standard output)")
    parser.add_argument("--bean", action="append", metavar="PATTERN",
                        help="keep only MBeans matching this ObjectName pattern, e.g. 'trino.memory:*'; repeatable")
    parser.add_argument("--include-secrets", action="store_true",
                        help="keep the values that are left out by default because they may hold secrets")


def run(args: argparse.Namespace) -> int:
    selection = BeanSelection.parse(args.bean)
    config = None
    if args.config:
        from exporter.config.loader import load_config

        config = load_config(args.config)
    try:
        snapshot = read_once(options.source_settings(args), config, selection.request(), args.scrape_timeout)
    except SourceError as exc:
        print(f"presto-jmx-exporter: capture failed: {exc}", file=sys.stderr)
        return ExitCode.FAILED
    beans = [bean for bean in snapshot.beans if selection.selects(bean)]
    left_out: list[Redacted] = []
    if not args.include_secrets:
        kept = (redact_bean(bean, left_out) for bean in beans)
        beans = [bean for bean in kept if bean is not None]
    text = write_dump(beans)
    _write(args.output, text)
    attributes = sum(len(bean.attributes) for bean in beans)
    where = "standard output" if args.output == "-" else args.output
    print(f"captured {len(beans)} MBeans, {attributes} attributes to {where}", file=sys.stderr)
    if left_out:
        print(f"left out {len(left_out)} values that may hold secrets ({_summary(left_out)}); "
              "--include-secrets keeps them", file=sys.stderr)
    return ExitCode.OK


def _summary(left_out: list[Redacted], shown: int = 4) -> str:
    names = Counter(f"{item.object_name} {item.what}" for item in left_out)
    listed = ", ".join(list(names)[:shown])
    return listed + (f" and {len(names) - shown} more" if len(names) > shown else "")


def _write(output: str, text: str) -> None:
    if output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    path = Path(output)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"--output {output}: no such directory: {directory}")
    # Write then rename, so an interrupted capture never leaves half a dump where a good one was.
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes it private; a dump is an ordinary file to share
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise UsageError(f"--output {output}: cannot write: {exc.strerror}") from None
