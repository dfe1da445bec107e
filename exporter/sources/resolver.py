"""Host name resolution bounded by a deadline.

``socket.getaddrinfo`` takes no timeout: with a DNS server that does not answer, glibc waits its own
``timeout`` x ``attempts`` per name server (5 s x 2 by default), longer than a scrape budget. The lookup runs in a
helper thread and the caller waits only as long as it may. One lookup per host runs at a time and callers share
it, so a resolver that hangs costs one thread per host, never one per scrape.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

AddrInfo = tuple[Any, ...]
Lookup = Callable[..., Sequence[AddrInfo]]


class ResolveTimeout(OSError):
    """The name did not resolve within the time allowed."""


class _Lookup:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Sequence[AddrInfo] = ()
        self.error: BaseException | None = None


class BoundedResolver:
    """Resolves (host, port) to ``getaddrinfo`` tuples for TCP, giving up after ``timeout`` seconds."""

    def __init__(self, lookup: Lookup = socket.getaddrinfo) -> None:
        self._lookup = lookup
        self._lock = threading.Lock()
        self._running: dict[tuple[str, int], _Lookup] = {}

    def resolve(self, host: str, port: int, timeout: float) -> Sequence[AddrInfo]:
        """Raise ``socket.gaierror`` as getaddrinfo does, or ``ResolveTimeout``."""
        if _is_address(host):  # nothing to look up, no thread needed
            return self._lookup(host, port, 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
        key = (host, port)
        with self._lock:
            pending = self._running.get(key)
            if pending is None:
                pending = self._running[key] = _Lookup()
                threading.Thread(
                    target=self._run, args=(key, pending), name=f"resolve {host}", daemon=True
                ).start()
        if not pending.done.wait(max(0.0, timeout)):
            raise ResolveTimeout(f"timed out resolving {host}")
        if pending.error is not None:
            raise pending.error
        return pending.result

    def _run(self, key: tuple[str, int], pending: _Lookup) -> None:
        try:
            pending.result = self._lookup(key[0], key[1], 0, socket.SOCK_STREAM)
        except BaseException as exc:  # handed to every waiter
            pending.error = exc
        finally:
            with self._lock:
                del self._running[key]
            pending.done.set()


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def create_connection(
    resolver: BoundedResolver, address: tuple[str, int], timeout: float, source_address: object = None
) -> socket.socket:
    """``socket.create_connection`` whose name lookup is bounded by ``timeout`` too."""
    deadline = time.monotonic() + timeout
    host, port = address
    addresses = resolver.resolve(host, port, timeout)
    error: OSError | None = None
    for family, kind, proto, _, sockaddr in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out connecting")
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(remaining)
            if source_address:
                sock.bind(source_address)  # type: ignore[arg-type]
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error if error is not None else OSError(f"no address for {host}")
