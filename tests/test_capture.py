"""`capture`: dumps that read back exactly, from dump files, live REST and live JMX targets; secrets left out.

The round trips compare scrapes: ``scrape --target CAPTURE`` must print what ``scrape --target ORIGINAL`` printed
(for every shipped pack and a match-everything config), so nothing a rule can see is lost by the capture. JMX
captures and scrapes run in child processes: JPype never starts inside pytest.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from exporter.cli import main
from exporter.commands.exitcodes import ExitCode
from exporter.records.mbeans import Attribute, Composite, MBean, Tabular, Unsupported
from exporter.sources.base import BeanRequest
from exporter.sources.dump import DumpSource
from exporter.tooling.dumpwriter import write_dump
from exporter.tooling.redaction import Redacted, redact_bean
from tests.fixture.process import FixtureCoordinator
from tests.fixture.profiles import JVM_DOMAINS, PROFILES
from tests.helpers.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
DUMPS = ROOT / "examples" / "dumps"
PACKS = ("coordinator.yml", "presto.yml", "prestodb.yml", "trino.yml")
# The historic pack of each product (a live target answers an error for a pack none of whose beans it has).
PRODUCT_PACK = {"prestodb": "prestodb.yml", "prestosql": "presto.yml", "trino": "trino.yml"}
# Everything but the JVM's own beans, whose values move between two reads of a live target.
EVERYTHING = "excludeObjectNames: " + orjson.dumps(sorted(f"{d}:*" for d in JVM_DOMAINS)).decode() + "\n"
DURATION = re.compile(r"^jmx_scrape_duration_seconds .*\n", re.M)


def child_env() -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("PJE_")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def exporter_child(*args: str) -> subprocess.CompletedProcess[str]:
    """The exporter in a child process (JMX targets start a JVM there)."""
    return subprocess.run([sys.executable, "-m", "exporter", *args], capture_output=True, text=True, cwd=ROOT,
                          env=child_env(), timeout=180, stdin=subprocess.DEVNULL)


def scrape(config: Path, target: str, capsys: pytest.CaptureFixture[str]) -> str:
    """An in-process scrape (REST or dump target), without the duration line."""
    capsys.readouterr()
    code = main(["scrape", "--config", str(config), "--target", target])
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    return DURATION.sub("", out)


def capture(target: str, output: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    capsys.readouterr()
    assert main(["capture", "--target", target, "-o", str(output), *extra]) == ExitCode.OK
    return capsys.readouterr().err


def configs(tmp_path: Path, profile: str | None = None) -> list[Path]:
    """A match-everything config and the shipped packs (those for ``profile`` when given)."""
    everything = tmp_path / "everything.yml"
    everything.write_text(EVERYTHING)
    packs = PACKS if profile is None else ("coordinator.yml", PRODUCT_PACK[profile])
    return [everything, *(ROOT / "rules" / pack for pack in packs)]


def series_count(exposition: str) -> int:
    return sum(1 for line in exposition.splitlines() if line and not line.startswith("#"))


# ---------------------------------------------------------------------------------------------------------------
# Round trips


@pytest.mark.parametrize("profile", PROFILES)
def test_a_capture_of_a_dump_scrapes_like_the_dump(
    profile: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = DUMPS / f"{profile}-coordinator.json"
    captured = tmp_path / "capture.json"
    err = capture(str(original), captured, capsys)
    assert re.fullmatch(rf"captured \d+ MBeans, \d+ attributes to {re.escape(str(captured))}\n"
                        r"left out 4 values that may hold secrets \(java.lang:type=Runtime LibraryPath, .*\); "
                        r"--include-secrets keeps them\n", err)
    for config in configs(tmp_path):
        expected = scrape(config, str(original), capsys)
        assert scrape(config, str(captured), capsys) == expected, config.name
    assert series_count(scrape(configs(tmp_path)[0], str(captured), capsys)) > 500


@pytest.mark.jvm
@pytest.mark.parametrize("profile", PROFILES)
def test_a_capture_over_rest_scrapes_like_the_live_coordinator(
    profile: str, request: pytest.FixtureRequest, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    coordinator: FixtureCoordinator = request.getfixturevalue(f"{profile}_coordinator")
    captured = tmp_path / "capture.json"
    capture(coordinator.http_url, captured, capsys)
    for config in configs(tmp_path, profile):
        assert scrape(config, str(captured), capsys) == scrape(config, coordinator.http_url, capsys), config.name


@pytest.mark.jvm
@pytest.mark.parametrize("profile", PROFILES)
def test_a_capture_over_jmx_scrapes_like_the_live_coordinator(
    profile: str, request: pytest.FixtureRequest, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    coordinator: FixtureCoordinator = request.getfixturevalue(f"{profile}_coordinator")
    captured = tmp_path / "capture.json"
    config = configs(tmp_path)[0]
    done = exporter_child("capture", "--target", coordinator.jmx_url, "-o", str(captured))
    assert done.returncode == 0, done.stderr
    live = exporter_child("scrape", "--config", str(config), "--target", coordinator.jmx_url)
    assert live.returncode == 0, live.stderr
    from_capture = scrape(config, str(captured), capsys)
    assert from_capture == DURATION.sub("", live.stdout)
    # The comparison covers what JMX reads with types REST does not have: tables, composites, dates.
    assert re.search(r"_fixture_OpenTypes_PoolBytes_bytes\{", from_capture)
    assert re.search(r"_fixture_OpenTypes_HeapUsage_used ", from_capture)
    assert re.search(r"_fixture_OpenTypes_StartTime ", from_capture)


# ---------------------------------------------------------------------------------------------------------------
# What a dump holds


def test_records_come_back_equal_through_the_writer(tmp_path: Path) -> None:
    nan = float("nan")
    beans = [
        MBean("a.b:type=T,name=\"q,x\"", "a.b", (("type", "T"), ("name", '"q,x"')), (
            Attribute("Long", "long", 9223372036854775807),
            Attribute("Huge", "java.math.BigInteger", 2**70),
            Attribute("Double", "double", 2.0, "a description"),
            Attribute("Tiny", "double", 1e-300),
            Attribute("NaN", "double", nan),
            Attribute("Inf", "double", float("inf")),
            Attribute("MinusInf", "java.lang.Double", float("-inf")),
            Attribute("Flag", "boolean", True),
            Attribute("Text", "java.lang.String", "ünïcode \"quoted\""),
            Attribute("Null", "java.lang.String", None),
            Attribute("When", "java.util.Date", 1704164645.678),
            Attribute("Usage", "javax.management.openmbean.CompositeData",
                      Composite((("inner", Composite((("p50", 1.5), ("p99", nan)))), ("used", 7)))),
            Attribute("Table", "javax.management.openmbean.TabularData",
                      Tabular((), (Composite((("key", "a"), ("value", 1))), Composite((("key", "b"), ("value", 2)))))),
            Attribute("Tags", "[Ljava.lang.String;", Unsupported("arrays are not exported")),
        )),
        MBean("a.b:name=Empty", "a.b", (("name", "Empty"),), ()),
    ]
    path = tmp_path / "dump.json"
    path.write_text(write_dump(beans))
    snapshot = DumpSource(path).fetch(BeanRequest(), time.monotonic() + 10)
    assert snapshot.problems == ()
    assert [b.object_name for b in snapshot.beans] == ["a.b:name=Empty", 'a.b:type=T,name="q,x"']
    back = {a.name: a for a in snapshot.beans[1].attributes}
    for attribute in beans[0].attributes:
        read = back[attribute.name]
        assert (read.java_type, read.description) == (attribute.java_type, attribute.description)
        if isinstance(attribute.value, Unsupported):
            assert isinstance(read.value, Unsupported)
        elif isinstance(attribute.value, float) and math.isnan(attribute.value):
            assert math.isnan(read.value)  # type: ignore[arg-type]
        elif attribute.name == "Usage":
            assert repr(read.value) == repr(attribute.value)  # NaN inside: compare the text
        else:
            assert read.value == attribute.value, attribute.name
    text = path.read_text()
    assert '"value":"NaN"' in text and '"value":"-Infinity"' in text
    assert '"value":"2024-01-02T03:04:05.678+00:00"' in text
    assert '{"name":"Tags","type":"[Ljava.lang.String;","description":"","readable":false,"writable":false}' in text
    assert '{"name":"Null","type":"java.lang.String","description":"","readable":true,"writable":false}' in text


def test_the_bean_option_keeps_matching_beans_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    captured = tmp_path / "memory.json"
    err = capture(str(DUMPS / "trino-coordinator.json"), captured, capsys,
                  "--bean", "trino.memory:*", "--bean", "trino.execution:name=QueryManager")
    names = [bean["objectName"] for bean in orjson.loads(captured.read_bytes())]
    assert names == sorted(names)
    assert set(names) == {"trino.memory:name=ClusterMemoryManager", "trino.memory:type=ClusterMemoryPool,name=general",
                          "trino.memory:type=MemoryPool,name=general", "trino.execution:name=QueryManager"}
    assert err.startswith("captured 4 MBeans, ")


def test_capture_writes_to_standard_output_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["capture", "--target", str(DUMPS / "trino-coordinator.json"),
                 "--bean", "trino.memory:name=ClusterMemoryManager"]) == ExitCode.OK
    out, err = capsys.readouterr()
    assert [bean["objectName"] for bean in orjson.loads(out)] == ["trino.memory:name=ClusterMemoryManager"]
    assert err == "captured 1 MBeans, 7 attributes to standard output\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bean", "trino.memory"], "--bean 'trino.memory': not an ObjectName pattern"),
        (["-o", "/nonexistent/dir/x.json"], "--output /nonexistent/dir/x.json: no such directory: /nonexistent/dir"),
    ],
)
def test_bad_options_exit_2_naming_the_option(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["capture", "--target", str(DUMPS / "trino-coordinator.json"), *args]) == ExitCode.USAGE
    assert message in capsys.readouterr().err


def test_an_unreachable_target_exits_1_and_leaves_no_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    output = tmp_path / "capture.json"
    assert main(["capture", "--target", f"http://127.0.0.1:{port}", "-o", str(output)]) == ExitCode.FAILED
    err = capsys.readouterr().err
    assert err == (f"presto-jmx-exporter: capture failed: http://127.0.0.1:{port}/v1/jmx/mbean: cannot connect: "
                   "Connection refused\n")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------------------------
# Secrets


@pytest.mark.jvm
def test_jvm_arguments_and_system_properties_are_left_out_unless_asked(
    trino_coordinator: FixtureCoordinator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def runtime(path: Path) -> dict[str, dict[str, object]]:
        beans = {bean["objectName"]: bean for bean in orjson.loads(path.read_bytes())}
        return {a["name"]: a for a in beans["java.lang:type=Runtime"]["attributes"]}

    safe, full = tmp_path / "safe.json", tmp_path / "full.json"
    err = capture(trino_coordinator.http_url, safe, capsys)
    assert re.search(r"left out \d+ values that may hold secrets \(.*java.lang:type=Runtime ClassPath", err)
    assert err.endswith("; --include-secrets keeps them\n")
    kept = runtime(safe)
    for name in ("SystemProperties", "InputArguments", "ClassPath", "BootClassPath", "LibraryPath"):
        assert name not in kept
    assert kept["Uptime"]["type"] == "long"
    assert "/usr/lib/trino/lib/" not in safe.read_text()  # the class path, also a system property
    err = capture(trino_coordinator.http_url, full, capsys, "--include-secrets")
    assert "left out" not in err
    everything = runtime(full)
    assert "SystemProperties" in everything and "ClassPath" in everything
    assert "/usr/lib/trino/lib/" in full.read_text()
    assert everything["InputArguments"]["readable"] is False  # arrays are not in the records at all


def test_text_named_like_a_secret_goes_but_numbers_stay() -> None:
    bean = MBean("app:name=Auth", "app", (("name", "Auth"),), (
        Attribute("Password", "java.lang.String", "hunter2"),
        Attribute("TokenRefreshFailures", "long", 3),
        Attribute("Settings", "javax.management.openmbean.CompositeData",
                  Composite((("apiKey", "abc"), ("retries", 2), ("user", "presto")))),
        Attribute("Config", "javax.management.openmbean.TabularData", Tabular((), (
            Composite((("key", "db.password"), ("value", "s3cret"))),
            Composite((("key", "db.host"), ("value", "db1"))),
        ))),
    ))
    left_out: list[Redacted] = []
    redacted = redact_bean(bean, left_out)
    assert redacted is not None
    values = {a.name: a.value for a in redacted.attributes}
    assert values == {
        "TokenRefreshFailures": 3,
        "Settings": Composite((("retries", 2), ("user", "presto"))),
        "Config": Tabular((), (Composite((("key", "db.host"), ("value", "db1"))),)),
    }
    assert [item.what for item in left_out] == ["Password", "Settings.apiKey", "Config[db.password]"]
    assert redact_bean(MBean("jdk.management.jfr:type=FlightRecorder", "jdk.management.jfr",
                             (("type", "FlightRecorder"),), ()), left_out) is None
