"""Golden expositions: every rule pack in rules/ over every dump in examples/dumps/, as ``scrape`` prints them.

Not a test module: tests/test_golden.py compares against the files, and ``python -m tests.helpers.golden_files``
(run from the repository root) writes them again. tests/golden/README.md says what is normalised.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

from exporter import cli
from exporter.commands import options

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
DUMPS = ROOT / "examples" / "dumps"
GOLDEN = Path(__file__).resolve().parents[1] / "golden"
EXIT_CODES = GOLDEN / "exit-codes.txt"
REGENERATE = "python -m tests.helpers.golden_files"

# (pattern, replacement) for each line that differs between runs or releases; each must match exactly once.
NORMALISE = (
    (re.compile(r"^(jmx_scrape_duration_seconds) \S+$", re.M), r"\1 NaN"),
    (re.compile(r'^(jmx_exporter_build_info\{.*\bversion=")[^"]*"', re.M), r'\1VERSION"'),
)
# The loggers cli.main sets levels on; restored after each render.
LOGGERS = ("", "urllib3")


def dumps() -> list[Path]:
    """The shipped dumps: saved /v1/jmx/mbean answers (*.json) and saved /metrics answers (*.openmetrics)."""
    return sorted([*DUMPS.glob("*.json"), *DUMPS.glob("*.openmetrics")])


def pairs() -> list[tuple[Path, Path]]:
    """Every (pack, dump): each *.yml directly in rules/ with each dump in examples/dumps/."""
    return [(pack, dump) for pack in sorted(RULES.glob("*.yml")) for dump in dumps()]


def golden_path(pack: Path, dump: Path) -> Path:
    """The golden file of one pair: ``<pack>--<dump>.prom`` (``<dump>-openmetrics`` for a saved /metrics)."""
    stem = dump.stem if dump.suffix == ".json" else f"{dump.stem}-{dump.suffix.lstrip('.')}"
    return GOLDEN / f"{pack.stem}--{stem}.prom"


def normalise(text: str) -> str:
    """Put fixed placeholders in the lines that change from run to run or release to release."""
    for pattern, replacement in NORMALISE:
        text, count = pattern.subn(replacement, text)
        if count != 1:
            raise ValueError(f"{pattern.pattern!r} matched {count} lines of the exposition, not 1")
    return text


@contextlib.contextmanager
def _isolated() -> Iterator[None]:
    """Keep PJE_* variables away from the options, and undo the CLI's logging set-up afterwards."""
    loggers = [logging.getLogger(name) for name in LOGGERS]
    levels = [logger.level for logger in loggers]
    handlers = logging.getLogger().handlers[:]
    environ = {k: v for k, v in os.environ.items() if not k.startswith(options.ENV_PREFIX)}
    try:
        with mock.patch.dict(os.environ, environ, clear=True):
            yield
    finally:
        logging.getLogger().handlers[:] = handlers
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def render(pack: Path, dump: Path) -> tuple[int, str]:
    """Exit code and normalised stdout of ``scrape --config PACK --target DUMP``, run in-process."""
    out = io.StringIO()
    with _isolated(), contextlib.redirect_stdout(out):
        code = cli.main(["scrape", "--config", str(pack), "--target", str(dump)])
    return code, normalise(out.getvalue())


def compare(expected: str, actual: str, name: str = "golden", limit: int = 40) -> str:
    """A unified diff cut after its first ``limit`` changed lines, or "" when the texts are equal."""
    if expected == actual:
        return ""
    diff = list(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), name, "rendered", n=1))
    changed = 0
    for index, line in enumerate(diff[2:], start=2):
        changed += line.startswith(("+", "-"))
        if changed > limit:
            return "".join(diff[:index]) + "... more lines differ\n"
    return "".join(diff)


def read_golden(path: Path) -> str:
    """A golden file's text, line endings untouched."""
    return path.read_bytes().decode("utf-8")


def read_exit_codes() -> dict[str, int]:
    """The recorded exit code of each pair, by golden file name."""
    rows = (line.split() for line in EXIT_CODES.read_text().splitlines() if line.strip())
    return {name: int(code) for name, code in rows}


def main() -> None:
    """Write every golden file and exit-codes.txt, and remove golden files of pairs that are gone."""
    GOLDEN.mkdir(exist_ok=True)
    codes = []
    for pack, dump in pairs():
        path = golden_path(pack, dump)
        code, text = render(pack, dump)
        path.write_bytes(text.encode("utf-8"))
        codes.append(f"{path.name} {code}\n")
    wanted = {golden_path(pack, dump) for pack, dump in pairs()}
    for stale in set(GOLDEN.glob("*.prom")) - wanted:
        stale.unlink()
    EXIT_CODES.write_text("".join(codes))


if __name__ == "__main__":
    main()
