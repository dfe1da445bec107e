"""The README documents every option of the CLI, with its environment variable; the worked example of
docs/developing-rules.md and the README's excerpts of it show what the commands really print."""

from __future__ import annotations

import argparse
import functools
import re
import tempfile
from pathlib import Path

import pytest

from exporter.cli import build_parser
from tests.helpers.doc_examples import DOC, REGENERATE, Block, Ran, commands, run_example

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_serve_and_scrape_option_is_in_the_readme_table() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    missing = []
    for name in ("serve", "scrape"):
        for action in commands[name]._actions:
            option = next((o for o in action.option_strings if o.startswith("--")), None)
            if option in (None, "--help", "--openmetrics"):
                continue
            variable = "PJE_" + option[2:].replace("-", "_").upper()
            if f"| `{option}` | `{variable}` |" not in README:
                missing.append(option)
    assert missing == []


def test_the_readme_starts_with_the_two_commands() -> None:
    blocks = README.split("```sh\n")[1:3]
    assert "pip install" in blocks[0] and "presto-jmx-exporter scrape" in blocks[0]
    assert "pip install" in blocks[1] and "pytest" in blocks[1]


def test_the_running_section_says_how_to_put_the_command_on_path() -> None:
    running = README.split("## Running it", 1)[1].split("```sh", 1)[0]
    assert ". .venv/bin/activate" in running and ".venv/bin/presto-jmx-exporter" in running


def test_the_help_says_that_proxies_come_from_the_environment(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "HTTP_PROXY / HTTPS_PROXY" in text and "NO_PROXY" in text


@functools.cache
def worked_example() -> tuple[Ran, ...]:
    with tempfile.TemporaryDirectory() as workdir:
        return tuple(run_example(DOC.read_text(encoding="utf-8"), Path(workdir)))


def test_the_worked_example_shows_what_its_commands_print() -> None:
    results = worked_example()
    assert [len(commands(ran.block)) for ran in results] == [1, 1, 1, 2, 2]  # capture, explain twice, test twice
    for ran in results:
        first = ran.block.first + 1
        assert list(ran.block.lines) == list(ran.lines), (
            f"docs/developing-rules.md, the console block at line {first} shows other output than its commands print "
            f"now; `{REGENERATE}` writes it again"
        )


def test_the_worked_example_counts_line_numbers_from_the_files_first_line() -> None:
    """The config's first rule is on line 7 of the file as shown, caption comment included."""
    shown = "\n".join(line for ran in worked_example() for line in ran.lines)
    assert "[never-matches] rules[0] (line 7) " in shown and "rules[0] (line 7): trino.memory<" in shown
    assert "captured 26 MBeans, " in shown and "trino.fixture" not in shown


def _readme_blocks() -> list[Block]:
    section = README[README.index("## Developing rules"):README.index("\n## Deploying")]
    found = []
    for match in re.finditer(r"^( *)```text\n(.*?)^ *```$", section, re.S | re.M):
        indent = len(match.group(1))
        lines = tuple(line[indent:] for line in match.group(2).rstrip("\n").split("\n"))
        found.append(Block("text", lines, 0))
    return found


def _shown_matches(shown: str, printed: str) -> bool:
    """A README line shows a printed line, or one shortened with '...'."""
    return re.fullmatch(".*".join(re.escape(part) for part in shown.split("...")), printed) is not None


def test_the_readme_excerpts_of_the_worked_example_are_what_the_commands_print() -> None:
    printed: dict[str, list[str]] = {}
    for ran in worked_example():
        lines = list(ran.lines)
        for written, command in commands(ran.block):
            start = lines.index(written[0]) + len(written)
            end = next((i for i in range(start, len(lines)) if lines[i].startswith("$ ")), len(lines))
            printed.setdefault(command, lines[start:end])
    blocks = _readme_blocks()
    assert len(blocks) == 3
    for block in blocks:
        for written, command in commands(block):
            assert command in printed, f"README: `{command}` is not a command of the worked example"
            output = printed[command]
            position, missing = 0, []
            # Each README line, in order, is one of the printed lines (the README leaves some out).
            for line in (line for line in block.lines if line not in written):
                found = next((i for i in range(position, len(output)) if _shown_matches(line, output[i])), None)
                if found is None:
                    missing.append(line)
                else:
                    position = found + 1
            assert missing == [], f"README lines that `{command}` does not print (in this order): {missing}"


# ---------------------------------------------------------------- docs/deploying.md, the walk from zero

ROOT = Path(__file__).resolve().parent.parent
DEPLOYING = (ROOT / "docs" / "deploying.md").read_text(encoding="utf-8")


def sh_block(marker: str) -> list[str]:
    """The commands of the one ```sh block of docs/deploying.md that holds ``marker``, comments dropped."""
    (block,) = [b for b in re.findall(r"```sh\n(.*?)```", DEPLOYING, flags=re.S) if marker in b]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_the_readme_links_the_walk_through() -> None:
    deploying = README.split("## Deploying", 1)[1].split("\n## ", 1)[0]
    assert "(docs/deploying.md)" in deploying


def test_the_published_build_is_the_build_ci_runs() -> None:
    """Step 1's docker lines are the tested podman lines (tests/test_image.py) but for engine, base and registry."""
    published = sh_block("docker push")
    local = sh_block("container/local-base")
    docker = [line.replace("docker build", "build").replace("$REGISTRY/", "") for line in published
              if line.startswith("docker build")]  # fmt: skip
    podman = [re.sub(r"^podman build --format=docker --build-arg BASE_IMAGE=\S+", "build", line) for line in local
              if line.startswith("podman build")]  # fmt: skip
    assert docker == podman and len(docker) == 2
    tags = [line.split(" -t ", 1)[1].split()[0] for line in published if line.startswith("docker build")]
    assert [line.removeprefix("docker push ") for line in published if line.startswith("docker push")] == tags
    # The published base is python:3.12-slim; the wheelhouse's default Python is its version.
    assert "container/wheelhouse" in published
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^ARG BASE_IMAGE=docker\.io/library/python:3\.12-slim@sha256:[0-9a-f]{64}$", dockerfile, re.M)
    assert 'python_version="${1:-3.12}"' in (ROOT / "container" / "wheelhouse").read_text(encoding="utf-8")


def test_every_chart_is_pinned() -> None:
    installs = [line for line in DEPLOYING.splitlines() if line.startswith("helm install")]
    assert {line.split()[3] for line in installs} >= {
        "prometheus-community/kube-prometheus-stack", "prometheus-community/prometheus-adapter", "kedacore/keda"}
    for line in installs:
        assert re.search(r" --version \d+\.\d+\.\d+( |$)", line), line


def test_the_walk_checks_the_metrics_apis() -> None:
    assert 'kubectl get --raw "/apis/custom.metrics.k8s.io/v1beta1/namespaces/presto/services/' in DEPLOYING
    assert 'kubectl get --raw "/apis/external.metrics.k8s.io/v1beta1/namespaces/presto/' in DEPLOYING
    assert "get hpa --watch" in DEPLOYING


def test_every_path_the_docs_name_exists() -> None:
    paths = set(re.findall(r"(?<![\w/.-])((?:examples|container|rules|tests|docs)/[\w./-]*[\w/])", DEPLOYING))
    assert len(paths) > 15
    missing = sorted(p for p in paths if not (ROOT / p).exists() and p != "container/wheels/")
    assert missing == []
