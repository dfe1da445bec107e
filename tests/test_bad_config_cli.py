"""Bad configuration through the command line: exit code 2 with the file, line or key path, and live reloads of a
broken file that keep the old configuration, count ``jmx_config_reload_failure_total`` and log why.

``scrape`` runs in-process (``main([...])``); ``serve`` runs as a child process, so its real exit code is checked and
a case that wrongly starts serving is caught by the timeout instead of hanging the test.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from exporter.cli import main
from exporter.commands.exitcodes import ExitCode
from tests.helpers.config_catalogue import ENV, INVALID, TESTDATA
from tests.helpers.serving import RULES, Serve, child_env, rule_series, serving, value
from tests.helpers.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]
DUMP = ROOT / "examples" / "dumps" / "trino-coordinator.json"
PREFIX = "presto-jmx-exporter: error: "


def run_scrape(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["scrape", *argv])
    return code, capsys.readouterr().err


def run_serve(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    """``serve`` as a child process that must exit on its own (a timeout means it started serving)."""
    done = subprocess.run(
        [sys.executable, "-m", "exporter", "serve", "--listen", "127.0.0.1:0", *argv],
        capture_output=True, text=True, cwd=ROOT, env=env or child_env(), timeout=60, stdin=subprocess.DEVNULL,
    )
    return done.returncode, done.stderr


# ---------------------------------------------------------------------------------------------------------------
# Start-up: the config catalogue, through the CLI


@pytest.mark.parametrize("name", sorted(INVALID))
def test_every_catalogued_config_error_exits_2_with_its_message(
    name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable, setting in ENV.items():
        monkeypatch.setenv(variable, setting)
    monkeypatch.delenv("PJE_TEST_UNSET_PASSWORD", raising=False)
    path = TESTDATA / name
    code, err = run_scrape(["--config", str(path), "--target", str(DUMP)], capsys)
    assert code == ExitCode.USAGE
    assert err == PREFIX + INVALID[name].replace("{file}", str(path)) + "\n"


# ---------------------------------------------------------------------------------------------------------------
# Start-up: bad files and options, through scrape and serve


@dataclasses.dataclass(frozen=True)
class Bad:
    """``files`` are written into the test's directory ({dir} in args and message stands for it)."""

    args: tuple[str, ...]
    message: str
    files: tuple[tuple[str, str], ...] = ()
    serve_only: bool = False


GOOD = ("good.yml", RULES)
TARGET = ("--config", "{dir}/good.yml", "--target", "http://127.0.0.1:9")
BAD = {
    "malformed-yaml": Bad(
        ("--config", "{dir}/c.yml", "--target", str(DUMP)),
        "{dir}/c.yml:3: invalid YAML: mapping values are not allowed here",
        (("c.yml", "rules:\n  - pattern: x\n    name: a: b\n"),),
    ),
    "deeply-nested-yaml": Bad(
        ("--config", "{dir}/c.yml", "--target", str(DUMP)),
        "{dir}/c.yml: invalid YAML: collections nested too deeply to read",
        (("c.yml", "rules: " + "[" * 3000 + "]" * 3000 + "\n"),),
    ),
    "unknown-key": Bad(
        ("--config", "{dir}/c.yml", "--target", str(DUMP)),
        "{dir}/c.yml:3: rules[0]: unknown key 'nmae' (did you mean 'name'?)",
        (("c.yml", "rules:\n  - pattern: 'x(.*)'\n    nmae: y_$1\n"),),
    ),
    "invalid-regex": Bad(
        ("--config", "{dir}/c.yml", "--target", str(DUMP)),
        "{dir}/c.yml:2: rules[0].pattern: invalid regular expression 'trino.memory<(.*>': Unclosed group",
        (("c.yml", "rules:\n  - pattern: 'trino.memory<(.*>'\n"),),
    ),
    "bad-type": Bad(
        ("--config", "{dir}/c.yml", "--target", str(DUMP)),
        "{dir}/c.yml:4: rules[0].valueFactor: expected a number, got the string 'ten'",
        (("c.yml", "rules:\n  - pattern: 'x'\n    name: y\n    valueFactor: ten\n"),),
    ),
    "missing-config": Bad(
        ("--config", "{dir}/nope.yml", "--target", str(DUMP)),
        "{dir}/nope.yml: cannot read the file: No such file or directory",
    ),
    "config-is-a-directory": Bad(
        ("--config", "{dir}", "--target", str(DUMP)),
        "{dir}: cannot read the file: Is a directory",
    ),
    "password-from-unset-variable": Bad(
        ("--config", "{dir}/c.yml", "--target", str(DUMP)),
        "{dir}/c.yml:1: password: environment variable 'PJE_TEST_NOT_SET' is not set",
        (("c.yml", "password: ${PJE_TEST_NOT_SET}\nrules: []\n"),),
    ),
    "password-file-is-a-directory": Bad(
        (*TARGET, "--password-file", "{dir}"),
        "cannot read the password file {dir}: Is a directory",
        (GOOD,),
    ),
    "password-file-missing": Bad(
        (*TARGET, "--password-file", "{dir}/password"),
        "cannot read the password file {dir}/password: No such file or directory",
        (GOOD,),
    ),
    "password-file-empty": Bad(
        (*TARGET, "--password-file", "{dir}/password"),
        "the password file {dir}/password is empty",
        (GOOD, ("password", "\n")),
    ),
    "bearer-token-file-missing": Bad(
        (*TARGET, "--bearer-token-file", "{dir}/token"),
        "--bearer-token-file: no such file: {dir}/token",
        (GOOD,),
    ),
    "user-with-a-line-break": Bad(
        (*TARGET, "--user", "ops\nX-Injected: 1"),
        "--user: 'ops\\nX-Injected: 1' cannot be sent in an HTTP header: use Latin-1 characters, no line breaks or "
        "control characters, no leading or trailing spaces",
        (GOOD,),
    ),
    "user-beyond-latin-1": Bad(
        (*TARGET, "--user", "\u0437\u0430\u044f\u0432\u043a\u0430"),
        "--user: '\u0437\u0430\u044f\u0432\u043a\u0430' cannot be sent in an HTTP header: use Latin-1 "
        "characters, no line breaks or control characters, no leading or trailing spaces",
        (GOOD,),
    ),
    "user-header-not-a-name": Bad(
        (*TARGET, "--user-header", "X Trino User"),
        "--user-header: 'X Trino User' is not an HTTP header name (e.g. X-Trino-User)",
        (GOOD,),
    ),
    "ca-bundle-missing": Bad(
        (*TARGET, "--ca-bundle", "{dir}/ca.pem"), "--ca-bundle: no such file: {dir}/ca.pem", (GOOD,)
    ),
    "jmx-password-file-missing": Bad(
        ("--config", "{dir}/good.yml", "--target", "jmx://127.0.0.1:9", "--jmx-password-file", "{dir}/jmx"),
        "cannot read the JMX password file {dir}/jmx: No such file or directory",
        (GOOD,),
    ),
    "jmx-password-file-is-a-directory": Bad(
        ("--config", "{dir}/good.yml", "--target", "jmx://127.0.0.1:9", "--jmx-password-file", "{dir}"),
        "cannot read the JMX password file {dir}: Is a directory",
        (GOOD,),
    ),
    "target-with-a-password": Bad(
        ("--config", "{dir}/good.yml", "--target", "http://monitor:pa55word@127.0.0.1:9"),
        "--target: do not put a password in the URL; use --password-file or PJE_PASSWORD",
        (GOOD,),
    ),
    "web-users-file-missing": Bad(
        (*TARGET, "--web-users-file", "{dir}/users"),
        "cannot read the users file {dir}/users: No such file or directory",
        (GOOD,),
        serve_only=True,
    ),
    "web-tls-cert-missing": Bad(
        (*TARGET, "--web-tls-cert", "{dir}/cert.pem", "--web-tls-key", "{dir}/key.pem"),
        "--web-tls-cert/--web-tls-key: cannot load {dir}/cert.pem and {dir}/key.pem: No such file or directory",
        (GOOD,),
        serve_only=True,
    ),
    "listen-port": Bad(
        (*TARGET, "--listen", "127.0.0.1:99999"),
        "--listen '127.0.0.1:99999': port 99999 is out of range (0-65535)",
        (GOOD,),
        serve_only=True,
    ),
}


def prepare(tmp_path: Path, bad: Bad) -> tuple[list[str], str]:
    for name, content in bad.files:
        (tmp_path / name).write_text(content)
    return [arg.replace("{dir}", str(tmp_path)) for arg in bad.args], bad.message.replace("{dir}", str(tmp_path))


SCRAPE_BAD = {key: bad for key, bad in BAD.items() if not bad.serve_only}


@pytest.mark.parametrize("bad", SCRAPE_BAD.values(), ids=SCRAPE_BAD.keys())
def test_scrape_refuses_to_start(bad: Bad, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv, message = prepare(tmp_path, bad)
    code, err = run_scrape(argv, capsys)
    assert (code, err) == (ExitCode.USAGE, PREFIX + message + "\n")


@pytest.mark.parametrize("bad", BAD.values(), ids=BAD.keys())
def test_serve_refuses_to_start(bad: Bad, tmp_path: Path) -> None:
    argv, message = prepare(tmp_path, bad)
    code, err = run_serve(argv)
    assert code == ExitCode.USAGE
    assert err.endswith(PREFIX + message + "\n"), err
    assert "Traceback" not in err


ENVIRONMENT = {
    "number": ({"PJE_SCRAPE_TIMEOUT": "8s"}, "PJE_SCRAPE_TIMEOUT='8s' is not a number (it sets --scrape-timeout)"),
    "whole-number": ({"PJE_MAX_BODY_BYTES": "1e6"}, "PJE_MAX_BODY_BYTES='1e6' is not a whole number (it sets "
                     "--max-body-bytes)"),
    "boolean": ({"PJE_INSECURE_SKIP_VERIFY": "maybe"}, "PJE_INSECURE_SKIP_VERIFY='maybe' is not true or false: use "
                "1/0, true/false, yes/no or on/off (it sets --insecure-skip-verify)"),
    "choice": ({"PJE_LOG_LEVEL": "verbose"}, "PJE_LOG_LEVEL='verbose' is not one of DEBUG, INFO, WARNING, ERROR (it "
               "sets --log-level)"),
    "password-without-user": ({"PJE_PASSWORD": "s3cret"}, "a password (--password-file or PJE_PASSWORD) needs --user: "
                              "Basic auth sends both"),
}  # fmt: skip


@pytest.mark.parametrize(("variables", "message"), ENVIRONMENT.values(), ids=ENVIRONMENT.keys())
def test_a_bad_value_from_the_environment_names_the_variable(
    variables: dict[str, str], message: str, tmp_path: Path
) -> None:
    (tmp_path / "good.yml").write_text(RULES)
    env = child_env(PJE_CONFIG=str(tmp_path / "good.yml"), PJE_TARGET=str(DUMP), **variables)
    code, err = run_serve([], env)
    assert (code, err.splitlines()[-1]) == (ExitCode.USAGE, PREFIX + message)
    assert "usage:" not in err and "Traceback" not in err


@pytest.mark.parametrize(("text", "expected"), [("YES", True), ("on", True), ("1", True), ("off", False), ("", False)])
def test_booleans_from_the_environment_take_the_usual_spellings(
    text: str, expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exporter.cli import build_parser

    monkeypatch.setenv("PJE_INSECURE_SKIP_VERIFY", text)
    args = build_parser().parse_args(["scrape", "--config", "c.yml"])
    assert args.insecure_skip_verify is expected


def test_every_default_is_shown_in_help_zero_included(capsys: pytest.CaptureFixture[str]) -> None:
    from exporter.cli import main

    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "[env PJE_MIN_INTERVAL; default 0.0]" in " ".join(capsys.readouterr().out.split())


NUMBERS = {
    "connect-timeout-zero": (("--connect-timeout", "0"), "--connect-timeout"),
    "connect-timeout-negative": (("--connect-timeout", "-1"), "--connect-timeout"),
    "scrape-timeout-negative": (("--scrape-timeout", "-1"), "--scrape-timeout"),
    "scrape-timeout-nan": (("--scrape-timeout", "nan"), "--scrape-timeout"),
    "max-body-bytes-negative": (("--max-body-bytes", "-5"), "--max-body-bytes"),
}


@pytest.mark.parametrize(("args", "option"), NUMBERS.values(), ids=NUMBERS.keys())
def test_out_of_range_numbers_are_refused_at_start_up(
    args: tuple[str, ...], option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "good.yml").write_text(RULES)
    code, err = run_scrape(["--config", str(tmp_path / "good.yml"), "--target", "http://127.0.0.1:9", *args], capsys)
    assert code == ExitCode.USAGE
    assert err.startswith(PREFIX + option), err


# ---------------------------------------------------------------------------------------------------------------
# Live reload of a broken file


RENAMED = RULES.replace("trino_pool_$2", "renamed_pool_$2")
POOL_FREE = ("trino_pool_FreeDistributedBytes", (("pool", "general"),))
BROKEN = {
    "malformed-yaml": ("rules:\n  - pattern: 'x\n", "{file}:3: invalid YAML: found unexpected end of stream"),
    "unknown-key": ("rules:\n  - pattern: 'x'\n    lables: {a: b}\n",
                    "{file}:3: rules[0]: unknown key 'lables' (did you mean 'labels'?)"),
    "invalid-regex": ("rules:\n  - pattern: 'a{2,1}'\n", "{file}:2: rules[0].pattern: invalid regular expression"),
    "bad-type": ("lowercaseOutputName: 3\n", "{file}:1: lowercaseOutputName: expected true or false, got the number 3"),
    "unset-variable": ("password: ${PJE_TEST_NOT_SET}\n" + RULES,
                       "{file}:1: password: environment variable 'PJE_TEST_NOT_SET' is not set"),
}


def replace_file(path: Path, text: str, stamp: list[int]) -> None:
    """Write ``text`` and give the file a newer mtime than any before, so the change is seen whatever its size."""
    path.write_text(text)
    stamp[0] += 10**9
    os.utime(path, ns=(stamp[0], stamp[0]))


def reloads(text: str) -> float:
    return value(text, "jmx_config_reload_success_total") + value(text, "jmx_config_reload_failure_total")


def scrape_after_reload(server: Serve, before: float) -> str:
    """The first scrape that shows the watcher has read the file once more than ``before`` said."""
    latest = [""]

    def reloaded() -> bool:
        latest[0] = server.scrape()
        return reloads(latest[0]) > before

    wait_until(reloaded, what="the config watcher to read the changed file")
    return latest[0]


def test_a_broken_reload_keeps_the_old_config_counts_and_logs_why(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(RULES)
    stamp = [time.time_ns()]
    with serving(config, str(DUMP)) as server:
        text = server.scrape()
        old = rule_series(text)
        assert POOL_FREE in old
        assert value(text, "jmx_config_reload_failure_total") == 0.0
        server.new_log_lines()
        failures = 0
        for content, message in BROKEN.values():
            replace_file(config, content, stamp)
            failures += 1
            scrape_after_reload(server, failures - 1)
            for _ in range(3):  # the same broken file is counted and logged once
                text = server.scrape()
                assert rule_series(text) == old
                assert value(text, "jmx_scrape_error") == 0.0
                assert value(text, "jmx_config_reload_failure_total") == failures
                assert value(text, "jmx_config_reload_success_total") == 0.0
            lines = [line for line in server.new_log_lines() if "config reload failed" in line]
            assert len(lines) == 1, lines
            assert "keeping the previous config: " + message.replace("{file}", str(config)) in lines[0]

        # Replaced by a directory, then deleted: still the old config.
        config.unlink()
        config.mkdir()
        text = scrape_after_reload(server, failures)
        assert rule_series(text) == old
        assert value(text, "jmx_config_reload_failure_total") == failures + 1
        assert f"{config}: cannot read the file: Is a directory" in "\n".join(server.new_log_lines())
        config.rmdir()
        text = server.scrape()
        assert rule_series(text) == old
        assert value(text, "jmx_scrape_error") == 0.0

        # Fixed: the new config is used from the watcher's next look and counted as a success.
        replace_file(config, RENAMED, stamp)
        text = scrape_after_reload(server, failures + 1)
        assert ("renamed_pool_FreeDistributedBytes", (("pool", "general"),)) in rule_series(text)
        assert POOL_FREE not in rule_series(text)
        assert value(text, "jmx_config_reload_success_total") == 1.0
        assert value(text, "jmx_config_reload_failure_total") == failures + 1
        assert [line for line in server.new_log_lines() if "config reloaded" in line]


def test_a_reload_to_a_config_with_a_bad_secret_never_logs_the_secret(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(RULES)
    stamp = [time.time_ns()]
    with serving(config, str(DUMP)) as server:
        server.scrape()
        replace_file(config, "password: 314159265358\n" + RULES, stamp)
        text = scrape_after_reload(server, 0)
        assert value(text, "jmx_config_reload_failure_total") == 1.0
    log = server.log()
    assert f"{config}:1: password: expected a string, got a number" in log
    assert "314159265358" not in log

