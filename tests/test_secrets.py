"""Secrets never leak: the coordinator password (file and PJE_PASSWORD), the bearer token and the JMX password stay
out of the logs (at DEBUG), error messages, ``/``, ``/ready`` and ``/metrics``, on success and on failure.

Each secret is a distinctive string; the checks also look for its Basic-auth (base64) encoding. The exporter runs as
``serve`` child processes against fixture coordinators (Basic auth, JMX authentication) and a canned server that
checks the bearer token.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import orjson
import pytest

from exporter.cli import main
from exporter.commands.exitcodes import ExitCode
from tests.conftest import require_jvm
from tests.fixture.process import FixtureCoordinator
from tests.helpers.canned_server import CannedServer, Reply
from tests.helpers.serving import RULES, Serve, child_env, parse, serving, value

USER = "monitor"
PASSWORD = "pw-Zq8vK3-coordinator"
TOKEN = "tok-Wm4pR7.bearer.Jq2"
JMX_PASSWORD = "jmx-Hx2nB9-secret"
WRONG_JMX_PASSWORD = "jmx-wrong-Kp5Tz1"
ALL_SECRETS = (PASSWORD, TOKEN, JMX_PASSWORD, WRONG_JMX_PASSWORD)
POOL_FREE = ("trino_pool_FreeDistributedBytes", (("pool", "general"),))


def encodings(secret: str) -> list[str]:
    """The secret and the forms it would take in an Authorization header."""
    forms = [secret, f"{USER}:{secret}", f":{secret}"]
    return [secret, *(base64.b64encode(form.encode()).decode() for form in forms)]


def assert_secret_free(texts: Iterable[str], secrets: Iterable[str] = ALL_SECRETS) -> None:
    joined = "\n".join(texts)
    for secret in secrets:
        for form in encodings(secret):
            assert form not in joined, f"{form!r} ({secret!r}) leaked"


def everything_served(server: Serve) -> list[str]:
    """What the exporter tells anyone who asks: every page, in both formats."""
    pages = [server.get(path).text for path in ("/", "/ready", "/healthz", "/metrics", "/nope")]
    pages.append(server.get("/metrics", headers={"Accept": "application/openmetrics-text"}).text)
    return pages


def debug_env(**extra: str) -> dict[str, str]:
    return child_env(PJE_LOG_LEVEL="DEBUG", **extra)


# ---------------------------------------------------------------------------------------------------------------
# The coordinator password (Basic auth over REST)


@pytest.fixture
def basic_auth_coordinator(coordinator_factory: Callable[..., FixtureCoordinator]) -> FixtureCoordinator:
    return coordinator_factory("trino", basic_auth=(USER, PASSWORD))


@pytest.mark.jvm
@pytest.mark.parametrize("way", ["password-file", "PJE_PASSWORD"])
def test_the_coordinator_password_never_shows(
    way: str, basic_auth_coordinator: FixtureCoordinator, tmp_path: Path
) -> None:
    coordinator = basic_auth_coordinator
    config = tmp_path / "config.yml"
    config.write_text(RULES)
    args = ["--user", USER]
    env = debug_env()
    if way == "password-file":
        (tmp_path / "password").write_text(PASSWORD + "\n")
        args += ["--password-file", str(tmp_path / "password")]
    else:
        env["PJE_PASSWORD"] = PASSWORD
    seen: list[str] = []
    with serving(config, coordinator.http_url, *args, env=env) as server:
        text = server.scrape()
        assert POOL_FREE in parse(text), "the password was sent and accepted"
        seen += everything_served(server)
        for fault in ({"mode": "status", "status": 401}, {"mode": "status", "status": 403},
                      {"mode": "status", "status": 500}, {"mode": "garbage"}, {"mode": "close"}):
            coordinator.fault(**fault)
            try:
                assert value(server.scrape(), "jmx_scrape_error") == 1.0
                seen += everything_served(server)
            finally:
                coordinator.clear_fault()
    log = server.log()
    assert " DEBUG " in log and "HTTP 401" in log and "HTTP 403" in log
    assert_secret_free([log, *seen])


@pytest.mark.jvm
def test_the_scrape_command_keeps_the_password_to_itself(
    basic_auth_coordinator: FixtureCoordinator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yml"
    config.write_text(RULES)
    (tmp_path / "password").write_text(PASSWORD)
    argv = ["scrape", "--config", str(config), "--target", basic_auth_coordinator.http_url, "--user", USER,
            "--password-file", str(tmp_path / "password"), "--log-level", "DEBUG"]
    assert main(argv) == ExitCode.OK
    basic_auth_coordinator.fault("status", status=401)
    assert main(argv) == ExitCode.FAILED
    out, err = capsys.readouterr()
    assert "HTTP 401" in err
    assert_secret_free([out, err])


# ---------------------------------------------------------------------------------------------------------------
# The bearer token


def test_the_bearer_token_never_shows(tmp_path: Path) -> None:
    body = orjson.dumps([{
        "objectName": "trino.memory:type=ClusterMemoryPool,name=general",
        "attributes": [{"name": "FreeDistributedBytes", "type": "long", "value": 1024}],
    }])
    accept = [True]

    def answer(path: str) -> Reply:
        authorized = server.seen[-1].headers.get("authorization") == f"Bearer {TOKEN}"
        if accept[0] and authorized:
            return Reply(body=body, headers={"Content-Type": "application/json"})
        return Reply(status=401, body=b"Unauthorized")

    config = tmp_path / "config.yml"
    config.write_text(RULES)
    (tmp_path / "token").write_text(TOKEN + "\n")
    seen: list[str] = []
    token_args = ("--bearer-token-file", str(tmp_path / "token"))
    with CannedServer(answer) as server, serving(config, server.url, *token_args, env=debug_env()) as exporter:
        assert POOL_FREE in parse(exporter.scrape()), "the token was sent and accepted"
        seen += everything_served(exporter)
        accept[0] = False
        assert value(exporter.scrape(), "jmx_scrape_error") == 1.0
        seen += everything_served(exporter)
    assert any(s.headers.get("authorization") == f"Bearer {TOKEN}" for s in server.seen)
    assert "HTTP 401" in exporter.log()
    assert_secret_free([exporter.log(), *seen])


# ---------------------------------------------------------------------------------------------------------------
# The JMX password


JMX_CONFIG = "includeObjectNames: ['trino.memory:*']\n" + RULES


@pytest.mark.jvm
def test_the_jmx_password_never_shows(coordinator_factory: Callable[..., FixtureCoordinator], tmp_path: Path) -> None:
    require_jvm()
    coordinator = coordinator_factory("trino", jmx_auth=(USER, JMX_PASSWORD))
    (tmp_path / "jmx-password").write_text(JMX_PASSWORD + "\n")
    from_env = f"username: {USER}\npassword: ${{PJE_TEST_JMX}}\n"
    ways = {  # config text, extra arguments, environment; the last one is refused by the server
        "in-the-config": (f"username: {USER}\npassword: {JMX_PASSWORD}\n", [], {}),
        "from-the-environment": (from_env, [], {"PJE_TEST_JMX": JMX_PASSWORD}),
        "from-a-file": ("", ["--jmx-username", USER, "--jmx-password-file", str(tmp_path / "jmx-password")], {}),
        "refused": (from_env, [], {"PJE_TEST_JMX": WRONG_JMX_PASSWORD}),
    }
    seen: list[str] = []
    for way, (head, args, extra) in ways.items():
        config = tmp_path / f"{way}.yml"
        config.write_text(head + JMX_CONFIG)
        with serving(config, coordinator.jmx_url, *args, env=debug_env(**extra), scrape_timeout=6.0,
                     ready_timeout=90) as server:
            text = server.scrape(bound=None)
            if way == "refused":
                assert value(text, "jmx_scrape_error") == 1.0
            else:
                assert POOL_FREE in parse(text), f"{way}: the password was sent and accepted\n{server.log()}"
            seen += everything_served(server)
        seen.append(server.log())
    assert "the server rejected the credentials" in seen[-1]
    assert_secret_free(seen)


# ---------------------------------------------------------------------------------------------------------------
# Error messages about secrets do not carry them


@pytest.mark.parametrize(
    ("config_text", "secret"),
    [
        ("password: 8675309123\nrules: []\n", "8675309123"),
        ("password: [s3cr3t-in-a-list]\nrules: []\n", "s3cr3t-in-a-list"),
        ("password: {key: s3cr3t-in-a-map}\nrules: []\n", "s3cr3t-in-a-map"),
        ("password: 2024-05-06\nrules: []\n", "2024-05-06"),
    ],
)
def test_a_mistyped_password_is_refused_without_repeating_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config_text: str, secret: str
) -> None:
    config = tmp_path / "config.yml"
    config.write_text(config_text)
    assert main(["scrape", "--config", str(config), "--target", "http://127.0.0.1:9"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert f"{config}:1: password: expected a string" in err
    assert secret not in err


@contextlib.contextmanager
def _no_leak(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    capsys.readouterr()
    yield
    out, err = capsys.readouterr()
    assert_secret_free([out, err])


def test_a_password_in_the_target_url_is_refused_without_repeating_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yml"
    config.write_text(RULES)
    with _no_leak(capsys):
        code = main(["scrape", "--config", str(config), "--target", f"http://{USER}:{PASSWORD}@127.0.0.1:9",
                     "--log-level", "DEBUG"])
    assert code == ExitCode.USAGE


def test_a_refused_token_is_not_repeated_by_scrape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The scrape command at DEBUG against a server that refuses the token: HTTP 401, and no token anywhere."""
    config = tmp_path / "config.yml"
    config.write_text(RULES)
    token = tmp_path / "token"
    token.write_text(TOKEN)
    with CannedServer(lambda path: Reply(status=401, body=b"no")) as server, _no_leak(capsys):
        assert main(["scrape", "--config", str(config), "--target", server.url, "--bearer-token-file", str(token),
                     "--log-level", "DEBUG"]) == ExitCode.FAILED
