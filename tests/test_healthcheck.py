"""`presto-jmx-exporter healthcheck` (the image's HEALTHCHECK) against a real `serve`, configured as a container is.

Both commands read the same PJE_* variables, so each case starts `serve` with an environment and runs
`healthcheck` with that same environment, as the container's HEALTHCHECK does.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from exporter.commands.healthcheck import probe_address
from tests.helpers.certs import self_signed
from tests.helpers.ports import free_port
from tests.helpers.serving import ROOT, child_env
from tests.helpers.waiting import wait_until

DUMP = ROOT / "examples" / "dumps" / "trino-coordinator.json"
CONFIG = ROOT / "rules" / "coordinator.yml"


def healthcheck(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "exporter", "healthcheck"], env=env, capture_output=True,
                          text=True, timeout=60, cwd=ROOT)  # fmt: skip


@contextlib.contextmanager
def serving(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """`serve` with ``env`` (PJE_CONFIG and PJE_TARGET added), until its own healthcheck passes."""
    env = {"PJE_CONFIG": str(CONFIG), "PJE_TARGET": str(DUMP), **env}
    process = subprocess.Popen([sys.executable, "-m", "exporter", "serve"], env=env, cwd=ROOT,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        wait_until(lambda: process.poll() is not None or healthcheck(env).returncode == 0, 60, "the healthcheck")
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        yield process
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(15)
        if process.stderr:
            process.stderr.close()


def test_probe_address() -> None:
    assert probe_address("0.0.0.0:8081") == ("127.0.0.1", 8081)
    assert probe_address(":9000") == ("127.0.0.1", 9000)
    assert probe_address("[::]:8081") == ("::1", 8081)
    assert probe_address("10.1.2.3:8081") == ("10.1.2.3", 8081)
    assert probe_address("[fd00::5]:8081") == ("fd00::5", 8081)
    assert probe_address("exporter.local:8081") == ("exporter.local", 8081)


@pytest.mark.parametrize("host", ["0.0.0.0", "127.0.0.1", "127.0.0.2"], ids=["wildcard", "loopback", "other"])
def test_plain_http(host: str) -> None:
    """127.0.0.2 stands for any address other than loopback or the wildcard: the check must go there."""
    env = child_env(PJE_LISTEN=f"{host}:{free_port()}")
    with serving(env):
        result = healthcheck(env)
        assert result.returncode == 0, result.stderr
    result = healthcheck(env)
    assert result.returncode == 1 and "unhealthy" in result.stderr and "Connection refused" in result.stderr


def test_ipv6_wildcard() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    env = child_env(PJE_LISTEN=f"[::]:{free_port()}")
    with serving(env):
        assert healthcheck(env).returncode == 0


def test_tls(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, "web")
    env = child_env(PJE_LISTEN=f"127.0.0.1:{free_port()}", PJE_WEB_TLS_CERT=str(cert), PJE_WEB_TLS_KEY=str(key))
    with serving(env):
        assert healthcheck(env).returncode == 0
        plain = healthcheck({k: v for k, v in env.items() if not k.startswith("PJE_WEB_TLS")})
        assert plain.returncode == 1, "plain HTTP to a TLS port must not pass"


def test_tls_with_client_certificates(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, "web")
    ca, _ = self_signed(tmp_path, "clients")
    env = child_env(PJE_LISTEN=f"127.0.0.1:{free_port()}", PJE_WEB_TLS_CERT=str(cert), PJE_WEB_TLS_KEY=str(key),
                    PJE_WEB_CLIENT_CA=str(ca))  # fmt: skip
    with serving(env):
        for _ in range(5):  # the server's refusal of the missing certificate must never decide it
            result = healthcheck(env)
            assert result.returncode == 0, result.stderr
        without_ca = healthcheck({k: v for k, v in env.items() if k != "PJE_WEB_CLIENT_CA"})
        assert without_ca.returncode == 1, "/healthz needs a client certificate: the plain check cannot pass"
    assert healthcheck(env).returncode == 1
    plain = child_env(PJE_LISTEN=env["PJE_LISTEN"])
    with serving(plain):
        assert healthcheck(env).returncode == 1, "a plain HTTP server does not finish a TLS handshake"


def test_an_answer_other_than_200_is_unhealthy() -> None:
    """Something else on the port (here a server answering 404) is not the exporter."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
                              cwd=Path(__file__).parent / "golden", stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        env = child_env(PJE_LISTEN=f"127.0.0.1:{port}")
        wait_until(lambda: "HTTP 404" in healthcheck(env).stderr, 30, "the 404 server")
        assert healthcheck(env).returncode == 1
    finally:
        server.terminate()
        server.wait(15)


def test_a_bad_listen_value_exits_1_not_2() -> None:
    result = healthcheck(child_env(PJE_LISTEN="127.0.0.1:http"))
    assert result.returncode == 1 and "PORT" in result.stderr
