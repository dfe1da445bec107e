"""Name lookups are bounded by the connect timeout, so a DNS server that never answers cannot stall a scrape.

The system resolver cannot be made slow from a test without changing the machine's resolver configuration, so the
hanging cases hand ``BoundedResolver`` a lookup that blocks until the test releases it; every other case uses the
real ``getaddrinfo`` and real servers on 127.0.0.1.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from exporter.scrape.scraper import Scraper
from exporter.scrape.watcher import ConfigWatcher
from exporter.sources.base import BeanRequest, SourceError
from exporter.sources.resolver import BoundedResolver, ResolveTimeout
from exporter.sources.rest.settings import HttpSettings
from exporter.sources.rest.source import RestSource
from tests.helpers.canned_server import CannedServer, Reply
from tests.helpers.certs import self_signed
from tests.helpers.waiting import run_in_threads, wait_until

HUNG_HOST = "coordinator.test"
BEAN = {
    "objectName": "trino.execution:name=QueryManager",
    "attributes": [{"name": "RunningQueries", "type": "int", "value": 3}],
}


def list_answer(path: str) -> Reply:
    return Reply(body=orjson.dumps([BEAN]), headers={"Content-Type": "application/json"})


class HangingDns:
    """A lookup that blocks for ``HUNG_HOST`` until released, then answers 127.0.0.1 as a hosts entry would."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    def __call__(self, host: str, port: int, *args: Any) -> Sequence[tuple[Any, ...]]:
        if host == HUNG_HOST:
            self.calls += 1
            self.release.wait(30)
            host = "127.0.0.1"
        return socket.getaddrinfo(host, port, *args)


@pytest.fixture
def hanging_dns() -> Iterator[HangingDns]:
    dns = HangingDns()
    yield dns
    dns.release.set()


def _resolver_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"resolve {HUNG_HOST}"]


def test_a_hanging_lookup_times_out_and_callers_share_one_thread(hanging_dns: HangingDns) -> None:
    resolver = BoundedResolver(lookup=hanging_dns)
    errors: list[BaseException] = []

    def resolve() -> None:
        try:
            resolver.resolve(HUNG_HOST, 8080, 0.5)
        except BaseException as exc:
            errors.append(exc)

    started = time.monotonic()
    run_in_threads(resolve, 10, timeout=5)
    assert time.monotonic() - started < 3.0
    assert len(errors) == 10 and all(isinstance(e, ResolveTimeout) for e in errors)
    assert str(errors[0]) == f"timed out resolving {HUNG_HOST}"
    assert hanging_dns.calls == 1 and len(_resolver_threads()) == 1

    hanging_dns.release.set()
    wait_until(lambda: not _resolver_threads(), timeout=5, what="the lookup thread to end")
    addresses = resolver.resolve(HUNG_HOST, 8080, 2.0)
    assert addresses[0][4] == ("127.0.0.1", 8080)


def test_real_names_and_addresses_resolve_without_a_lookup_thread() -> None:
    callers: list[threading.Thread] = []

    def lookup(*args: Any) -> Sequence[tuple[Any, ...]]:
        callers.append(threading.current_thread())
        return socket.getaddrinfo(*args)

    resolver = BoundedResolver(lookup=lookup)
    assert resolver.resolve("127.0.0.1", 80, 1.0)[0][4] == ("127.0.0.1", 80)
    assert callers == [threading.current_thread()]  # an address needs no lookup thread
    assert any(info[4][0] in ("127.0.0.1", "::1") for info in resolver.resolve("localhost", 80, 5.0))
    with pytest.raises(socket.gaierror):
        resolver.resolve("coordinator.invalid", 80, 10.0)


def test_a_scrape_with_a_hanging_lookup_fails_within_its_budget_and_recovers(
    tmp_path: Path, hanging_dns: HangingDns
) -> None:
    config = tmp_path / "config.yml"
    config.write_text("rules:\n  - pattern: 'trino.execution<name=QueryManager><>(\\w+):'\n    name: q_$1\n")
    with CannedServer(list_answer) as server:
        port = server.url.rsplit(":", 1)[1]
        url = f"http://{HUNG_HOST}:{port}"
        source = RestSource(url, HttpSettings(connect_timeout=0.5), resolver=BoundedResolver(lookup=hanging_dns))
        scraper = Scraper(ConfigWatcher(config), source, timeout=1.0)
        try:
            for _ in range(3):
                started = time.monotonic()
                result = scraper.scrape()
                assert time.monotonic() - started < 2.0
                assert result.error == f"{url}/v1/jmx/mbean: timed out resolving {HUNG_HOST}"
                assert not result.target_up
            assert hanging_dns.calls == 1

            hanging_dns.release.set()
            wait_until(lambda: not _resolver_threads(), timeout=5, what="the lookup thread to end")
            result = scraper.scrape()
            assert result.error is None, result.error
            assert "q_RunningQueries 3.0" in result.body().decode()
        finally:
            source.close()


def test_tls_still_verifies_the_host_name_after_our_lookup(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, "localhost", host="localhost")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with CannedServer(list_answer, tls=context) as server:
        port = server.url.rsplit(":", 1)[1]
        by_name = RestSource(f"https://localhost:{port}", HttpSettings(ca_bundle=str(cert)))
        by_address = RestSource(f"https://127.0.0.1:{port}", HttpSettings(ca_bundle=str(cert)))
        try:
            assert len(by_name.fetch(BeanRequest(), time.monotonic() + 5).beans) == 1
            with pytest.raises(SourceError, match="TLS error"):  # the certificate names localhost, not the IP
                by_address.fetch(BeanRequest(), time.monotonic() + 5)
        finally:
            by_name.close()
            by_address.close()
