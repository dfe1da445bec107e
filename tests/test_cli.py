"""The command line, called in-process as ``main([...])`` and, for signals, as a real child process."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import orjson
import pytest
import requests

from exporter.cli import main
from exporter.commands.exitcodes import ExitCode
from exporter.commands.serve import STOP_GRACE
from exporter.records.mbeans import MAX_NESTING
from tests.helpers.canned_server import CannedServer, Reply
from tests.helpers.pool_target import BODY, RULES
from tests.helpers.ports import free_port
from tests.helpers.waiting import wait_until


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    config = tmp_path / "rules.yml"
    config.write_text(RULES)
    dump = tmp_path / "dump.json"
    dump.write_bytes(BODY)
    return config, dump


def test_scrape_prints_the_exposition(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    config, dump = files
    assert main(["scrape", "--config", str(config), "--target", str(dump)]) == ExitCode.OK
    out, err = capsys.readouterr()
    assert "trino_clustermemorypool_general_FreeDistributedBytes 1024.0\n" in out
    assert "jmx_scrape_error 0.0\n" in out
    assert err == ""


def test_scrape_takes_its_options_from_the_environment(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, dump = files
    monkeypatch.setenv("PJE_CONFIG", str(config))
    monkeypatch.setenv("PJE_TARGET", str(dump))
    assert main(["scrape", "--openmetrics"]) == ExitCode.OK
    assert capsys.readouterr().out.endswith("# EOF\n")


def test_scrape_of_a_dead_target_exits_1_with_one_line(files: tuple[Path, Path],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    config, _ = files
    port = free_port()
    assert main(["scrape", "--config", str(config), "--target", f"http://127.0.0.1:{port}"]) == ExitCode.FAILED
    out, err = capsys.readouterr()
    assert "jmx_scrape_error 1.0" in out
    assert err.count("\n") == 1
    assert err == (f"presto-jmx-exporter: scrape failed: http://127.0.0.1:{port}/v1/jmx/mbean: cannot connect: "
                   "Connection refused\n")


@pytest.mark.parametrize(
    ("config_text", "target", "message"),
    [
        (RULES, "/nonexistent/dump.json", "target '/nonexistent/dump.json' is neither an http(s) URL"),
        (RULES, None, "no target: give --target"),
        (RULES, "http://ops:hunter2@127.0.0.1:8080", "do not put a password in the URL"),
        ("rules:\n  - patern: x\n", "DUMP", "rules[0]: unknown key 'patern' (did you mean 'pattern'?)"),
    ],
)
def test_usage_and_config_errors_exit_2_naming_the_place(
    tmp_path: Path, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
    config_text: str, target: str | None, message: str,
) -> None:
    config = tmp_path / "bad.yml"
    config.write_text(config_text)
    argv = ["scrape", "--config", str(config)]
    if target:
        argv += ["--target", str(files[1]) if target == "DUMP" else target]
    assert main(argv) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.startswith("presto-jmx-exporter: error: ")
    assert message in err


def test_missing_config_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scrape", "--config", str(tmp_path / "nope.yml"), "--target", "x"]) == ExitCode.USAGE
    assert "nope.yml" in capsys.readouterr().err


def test_help_names_every_environment_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for variable in ("PJE_CONFIG", "PJE_TARGET", "PJE_LISTEN", "PJE_USER", "PJE_PASSWORD_FILE",
                     "PJE_BEARER_TOKEN_FILE", "PJE_CA_BUNDLE", "PJE_SCRAPE_TIMEOUT", "PJE_LOG_LEVEL"):
        assert variable in out


def test_serve_stops_cleanly_on_sigterm(files: tuple[Path, Path]) -> None:
    config, dump = files
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "exporter", "serve", "--config", str(config), "--target", str(dump),
         "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PJE_LOG_LEVEL": "INFO"},
    )
    try:
        wait_until(lambda: serves_health(process, port), timeout=30, what="the exporter to serve /healthz")
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert "trino_clustermemorypool_general_FreeDistributedBytes 1024.0" in metrics
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        _, err = process.communicate(timeout=5)
        assert f"listening url=http://127.0.0.1:{port}" in err
        assert "received SIGTERM, shutting down" in err
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)


def test_sigterm_stops_serve_within_its_grace_whatever_scrape_is_running(files: tuple[Path, Path]) -> None:
    """A scrape held by a coordinator that never answers (and a long --scrape-timeout) does not hold the exit."""
    config, _ = files
    port = free_port()
    with CannedServer(lambda path: Reply(body=BODY)) as coordinator:
        coordinator.answer = lambda path: Reply(body=BODY, before_body=lambda: coordinator.release.wait(120))
        process = subprocess.Popen(
            [sys.executable, "-m", "exporter", "serve", "--config", str(config), "--target", coordinator.url,
             "--listen", f"127.0.0.1:{port}", "--scrape-timeout", "120"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env={**os.environ, "PJE_LOG_LEVEL": "INFO"},
        )
        def scrape() -> None:
            with contextlib.suppress(requests.ConnectionError):  # the exporter exits under it
                requests.get(f"http://127.0.0.1:{port}/metrics", timeout=150)

        scraping = threading.Thread(target=scrape)
        try:
            wait_until(lambda: serves_health(process, port), timeout=30, what="the exporter to serve /healthz")
            scraping.start()
            wait_until(lambda: coordinator.seen, what="the scrape to reach the coordinator")
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=STOP_GRACE + 10) == 0
            _, err = process.communicate(timeout=5)
            assert (f"in-flight scrapes did not finish within {STOP_GRACE:g}s of the signal; exiting without them"
                    in err)
        finally:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(10)
            coordinator.release.set()
            scraping.join(30)


def serves_health(process: subprocess.Popen[str], port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except requests.ConnectionError:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        return False


def test_dump_file_with_one_bean_object(tmp_path: Path, files: tuple[Path, Path],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    config, _ = files
    single = tmp_path / "single.json"
    single.write_bytes(orjson.dumps(orjson.loads(BODY)[0]))
    assert main(["scrape", "--config", str(config), "--target", str(single)]) == ExitCode.OK
    assert "trino_clustermemorypool_general_FreeDistributedBytes 1024.0" in capsys.readouterr().out


@pytest.mark.parametrize("rules", ["rules:\n- pattern: '.*'\n", "lowercaseOutputName: false\n"],
                         ids=["catch-all rule", "no rules"])  # fmt: skip
def test_a_composite_nested_a_thousand_deep_loses_only_its_deep_part(
    tmp_path: Path, rules: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "rules.yml"
    config.write_text(rules)
    deep = b'{"n":1,"next":' * 999 + b'{"n":1}' + b"}" * 999
    dump = tmp_path / "deep.json"
    dump.write_bytes(
        b'[{"objectName":"a:type=Deep","attributes":[{"name":"X","type":"javax.management.openmbean.CompositeData",'
        b'"value":' + deep + b'},{"name":"Y","type":"int","value":5}]},{"objectName":"a:type=Plain","attributes":'
        b'[{"name":"Z","type":"long","value":7}]}]'
    )
    assert main(["scrape", "--config", str(config), "--target", str(dump)]) == ExitCode.OK
    out, err = capsys.readouterr()
    assert "jmx_scrape_error 0.0\n" in out
    assert "\na_Deep_Y 5.0\n" in out
    assert "\na_Plain_Z 7.0\n" in out
    deep_series = [line for line in out.splitlines() if line.startswith("a_Deep_X")]
    assert len(deep_series) == MAX_NESTING  # one ``n`` per level kept, named as jmx_exporter names them
    assert "a_Deep_X_n 1.0" in deep_series
    assert f"a_Deep_X{'_next' * (MAX_NESTING - 1)}_n 1.0" in deep_series
    assert err == ""


ROOT = Path(__file__).resolve().parents[1]
TRINO_DUMP = ROOT / "examples" / "dumps" / "trino-coordinator.json"


@pytest.mark.parametrize(
    ("rules", "warning"),
    [
        ("rules/presto.yml", "none of the 4 MBeans the config's includeObjectNames lists is on {dump}: is the pack "
         "for another product or version?"),
        ("{tmp}/nothing.yml", "the rules exported nothing from {dump}, whose MBeans are in the domains "
         "io.airlift.concurrent, io.airlift.http.client, io.airlift.stats, java.lang, trino.execution, "
         "trino.execution.executor.timesharing and 5 more; a pack for these: rules/trino.yml or "
         "rules/coordinator.yml; 'presto-jmx-exporter explain' shows what each rule made of each attribute"),
    ],
    ids=["listed-beans-absent", "patterns-match-nothing"],
)
def test_a_pack_that_exports_nothing_says_so(
    rules: str, warning: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "nothing.yml").write_text("rules:\n  - pattern: 'no.such.domain<>'\n    name: x\n")
    config = str(ROOT / rules) if not rules.startswith("{tmp}") else rules.replace("{tmp}", str(tmp_path))
    assert main(["scrape", "--config", config, "--target", str(TRINO_DUMP)]) == ExitCode.OK
    out, err = capsys.readouterr()
    assert "\npresto_jmx_exporter_rule_series 0.0\n" in out
    assert err.splitlines()[-1].split(": ", 1)[1] == warning.format(dump=TRINO_DUMP)


def test_a_pack_that_fits_exports_and_says_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scrape", "--config", str(ROOT / "rules" / "trino.yml"), "--target", str(TRINO_DUMP)]) == ExitCode.OK
    out, err = capsys.readouterr()
    assert "exported nothing" not in err and "\npresto_jmx_exporter_rule_series 0.0\n" not in out


def test_scrape_leaves_the_scraper_log_as_it_found_it(files: tuple[Path, Path]) -> None:
    """It hides the scraper's own error line while it runs (it says the same itself), and only then."""
    config, dump = files
    scraper_log = logging.getLogger("exporter.scrape.scraper")
    before = (scraper_log.level, list(scraper_log.filters))
    for _ in range(2):
        assert main(["scrape", "--config", str(config), "--target", str(dump)]) == ExitCode.OK
    assert (scraper_log.level, list(scraper_log.filters)) == before
