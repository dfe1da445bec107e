"""The JMX source's reachability check before the JVM connects: bounded by the connect timeout, name lookup included.

Plain Python (no JVM here): the hanging case hands the resolver a lookup that blocks until the test releases it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence
from typing import Any

from exporter.sources.jmx.precheck import unreachable
from exporter.sources.resolver import BoundedResolver


def test_a_listening_address_is_reachable() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        assert unreachable("127.0.0.1", listener.getsockname()[1], 2.0, BoundedResolver()) is None


def test_a_closed_port_is_named() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert unreachable("127.0.0.1", port, 2.0, BoundedResolver()) == "connection refused"


def test_a_lookup_that_never_answers_fails_within_the_timeout() -> None:
    release = threading.Event()
    calls: list[str] = []

    def lookup(host: str, port: int, *args: Any) -> Sequence[tuple[Any, ...]]:
        calls.append(host)
        release.wait(30)
        return socket.getaddrinfo("127.0.0.1", port, *args)

    try:
        started = time.monotonic()
        reason = unreachable("registry.test", 1099, 0.3, BoundedResolver(lookup=lookup))
        elapsed = time.monotonic() - started
    finally:
        release.set()
    assert reason == "timed out resolving registry.test"
    assert calls == ["registry.test"]
    assert elapsed < 2.0  # glibc alone would have waited 10 s


def test_a_name_that_does_not_resolve_is_named() -> None:
    def lookup(host: str, port: int, *args: Any) -> Sequence[tuple[Any, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    assert unreachable("nowhere.test", 1099, 2.0, BoundedResolver(lookup=lookup)) == "name or service not known"
