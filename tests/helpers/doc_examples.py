"""The worked example of docs/developing-rules.md, run against the shipped Trino sample.

Not a test module: tests/test_docs.py compares what each console block shows with what its commands print, and
``python -m tests.helpers.doc_examples`` (run from the repository root) writes the outputs into the doc again.

The example's files are its fenced YAML blocks whose first line names them (``# my-rules.yml``); a later block of
the same name replaces the file from there on, and the file is written as shown, that first line included, so the
line numbers in the outputs are those of a reader's copy. A console block runs its ``$`` lines in order in one
scratch directory: ``presto-jmx-exporter ARGS`` (the CLI in a child process, stderr after stdout as a terminal
shows them; a ``--target`` URL and its ``--user`` become the shipped sample, which holds that coordinator's beans),
``echo $?`` and ``sed -i 's/OLD/NEW/' FILE`` (a plain-text replacement).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "developing-rules.md"
SAMPLE = ROOT / "examples" / "dumps" / "trino-coordinator.json"
EXAMPLE_START = "## A worked example"
EXAMPLE_END = "\n## capture\n"
REGENERATE = "python -m tests.helpers.doc_examples"
_FENCE = re.compile(r"^```(\w*)$")
_CAPTION = re.compile(r"^# ([\w.-]+\.ya?ml)$")
_SED = re.compile(r"^sed -i 's/([^/]*)/([^/]*)/' (\S+)$")


@dataclass(frozen=True)
class Block:
    """A fenced block: the language after the fence, its lines, and where the lines are (0-based, in the text)."""

    language: str
    lines: tuple[str, ...]
    first: int


@dataclass(frozen=True)
class Ran:
    """A console block and the lines it should hold: its commands as written, each followed by what it printed."""

    block: Block
    lines: tuple[str, ...]


def blocks(text: str) -> list[Block]:
    """Every fenced block of ``text``, in order."""
    found: list[Block] = []
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if match is None:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i] == "```")
        found.append(Block(match.group(1), tuple(lines[index + 1:end]), index + 1))
        index = end + 1
    return found


def commands(block: Block) -> list[tuple[list[str], str]]:
    """A console block's commands: (the lines it is written on, the command with continuations joined)."""
    found: list[tuple[list[str], str]] = []
    lines = list(block.lines)
    index = 0
    while index < len(lines):
        if not lines[index].startswith("$ "):
            index += 1
            continue
        written = [lines[index]]
        while written[-1].endswith("\\") and index + 1 < len(lines):
            index += 1
            written.append(lines[index])
        joined = " ".join(part.rstrip("\\").strip() for part in written)[2:]
        found.append((written, joined))
        index += 1
    return found


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PJE_")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def _exporter_arguments(command: str) -> list[str]:
    args = shlex.split(command)[1:]
    out: list[str] = []
    index = 0
    while index < len(args):
        if args[index] == "--target" and re.match(r"https?://", args[index + 1]):
            out += ["--target", str(SAMPLE)]
            index += 2
        elif args[index] == "--user":
            index += 2
        else:
            out.append(args[index])
            index += 1
    return out


def _run(command: str, workdir: Path, last_code: int) -> tuple[int, list[str]]:
    if command == "echo $?":
        return last_code, [str(last_code)]
    sed = _SED.match(command)
    if sed is not None:
        path = workdir / sed.group(3)
        text = path.read_text(encoding="utf-8")
        if sed.group(1) not in text:
            raise AssertionError(f"{command}: '{sed.group(1)}' is not in {sed.group(3)}")
        path.write_text(text.replace(sed.group(1), sed.group(2)), encoding="utf-8")
        return 0, []
    if not command.startswith("presto-jmx-exporter "):
        raise AssertionError(f"the example runs only presto-jmx-exporter, echo $? and sed -i: {command}")
    done = subprocess.run(
        [sys.executable, "-m", "exporter", *_exporter_arguments(command)],
        cwd=workdir, env=_environment(), capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    return done.returncode, (done.stdout + done.stderr).splitlines()


def run_example(text: str, workdir: Path) -> list[Ran]:
    """Run the worked example of ``text`` (the whole doc) in ``workdir``: each console block with its real output."""
    section = text[text.index(EXAMPLE_START):text.index(EXAMPLE_END)]
    offset = text[:text.index(EXAMPLE_START)].count("\n")
    results: list[Ran] = []
    code = 0
    for block in blocks(section):
        block = Block(block.language, block.lines, block.first + offset)
        caption = _CAPTION.match(block.lines[0]) if block.lines and block.language == "yaml" else None
        if caption is not None:
            (workdir / caption.group(1)).write_text("\n".join(block.lines) + "\n", encoding="utf-8")
        if block.language != "console":
            continue
        lines: list[str] = []
        for written, command in commands(block):
            code, output = _run(command, workdir, code)
            lines += [*written, *output]
        results.append(Ran(block, tuple(lines)))
    return results


def rewrite(text: str, results: list[Ran]) -> str:
    """``text`` with each console block's lines replaced by what its commands printed."""
    lines = text.split("\n")
    for ran in reversed(results):
        lines[ran.block.first:ran.block.first + len(ran.block.lines)] = list(ran.lines)
    return "\n".join(lines)


def main() -> None:
    """Write the commands' real outputs into the worked example of docs/developing-rules.md."""
    text = DOC.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as workdir:
        results = run_example(text, Path(workdir))
    DOC.write_text(rewrite(text, results), encoding="utf-8")


if __name__ == "__main__":
    main()
