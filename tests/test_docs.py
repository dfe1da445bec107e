"""The README documents every option of the CLI, with its environment variable."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from exporter.cli import build_parser

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
