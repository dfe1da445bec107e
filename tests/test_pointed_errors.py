"""A target aimed at the wrong port says so, and what to use instead: a JMX URL at an HTTP port, an https URL at a
plain-HTTP port. Against the fixture coordinator's real ports on 127.0.0.1."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from exporter.sources.base import BeanRequest, SourceError
from exporter.sources.jmx.precheck import http_status_line
from exporter.sources.native.source import NativeSource
from exporter.sources.rest.source import RestSource
from tests.fixture.process import FixtureCoordinator

pytestmark = pytest.mark.jvm

ROOT = Path(__file__).resolve().parents[1]
QM = "trino.execution:name=QueryManager"
# OpenSSL's word for a "server hello" that is plain text varies with its version.
NOT_TLS = "(WRONG_VERSION_NUMBER|RECORD_LAYER_FAILURE|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL)"


def test_an_http_port_is_told_from_a_jmx_one(trino_coordinator: FixtureCoordinator) -> None:
    assert http_status_line("127.0.0.1", trino_coordinator.http_port, 2.0) == "HTTP/1.1 404 Not Found"
    assert http_status_line("127.0.0.1", trino_coordinator.jmx_port, 2.0) is None  # the RMI registry says nothing


def test_a_jmx_url_aimed_at_the_http_port_says_so(trino483_coordinator: FixtureCoordinator) -> None:
    address = f"127.0.0.1:{trino483_coordinator.http_port}"
    done = subprocess.run(
        [sys.executable, "-m", "exporter", "scrape", "--config", str(ROOT / "rules" / "coordinator.yml"),
         "--target", f"jmx://{address}"],
        capture_output=True, text=True, cwd=ROOT, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        f"presto-jmx-exporter: scrape failed: {address} is an HTTP port, not a JMX one (it answered 'HTTP/1.1 404 Not "
        f"Found'): read it with --target http://{address} (Trino 480 and later: its /metrics), or point the JMX "
        "target at the server's RMI registry port, jmx.rmiregistry.port in its config.properties (usually 9080)")


@pytest.mark.parametrize("source", [RestSource, NativeSource], ids=["rest", "native"])
def test_an_https_url_aimed_at_a_plain_port_says_so(trino_coordinator: FixtureCoordinator, source: type) -> None:
    base = f"https://127.0.0.1:{trino_coordinator.http_port}"
    reader = source(base)
    try:
        with pytest.raises(SourceError) as caught:
            reader.fetch(BeanRequest((QM,)), time.monotonic() + 10)
    finally:
        reader.close()
    path = "/v1/jmx/mbean/trino.execution%3Aname%3DQueryManager" if source is RestSource else "/metrics"
    expected = (re.escape(f"{base}{path}: TLS error: ") + NOT_TLS
                + re.escape(": the port answers without TLS (an https URL aimed at a plain HTTP port): use http:// "
                            "for it"))
    assert re.fullmatch(expected, str(caught.value)), str(caught.value)
