"""The README documents every option of the CLI, with its environment variable."""

from __future__ import annotations

import argparse
import re
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
