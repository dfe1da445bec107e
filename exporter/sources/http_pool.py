"""A small keep-alive HTTP/1.1 client for GETs to one server from several threads, on ``http.client``.

The REST source sends one GET per bean on every scrape; ``requests`` spends about four times as much CPU per
request as ``http.client`` (environment lookups, hooks, cookie jars, adapters), which for a handful of small beans
costs more than the data. This client does only what the source needs: idle connections kept for reuse, a
connect timeout that bounds the name lookup too, a read deadline, a body size cap checked while reading, TLS
through an ``ssl.SSLContext``, and one short, secret-free line for every failure. Proxy environment variables are
not used: the coordinator is reached directly (a sidecar talks to its own pod).
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from functools import partial
from urllib.parse import urlsplit

from exporter.sources.resolver import BoundedResolver, ResolveTimeout, create_connection

_CHUNK = 256 * 1024


class HttpError(Exception):
    """A request failed; ``str()`` is a short cause (no URL, no secret)."""


class HttpPool:
    """Connections to the server of ``base_url`` (``http(s)://host[:port]``); safe to use from several threads."""

    def __init__(
        self,
        base_url: str,
        context: ssl.SSLContext | None = None,
        connect_timeout: float = 2.0,
        max_idle: int = 16,
        resolver: BoundedResolver | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._https else 80)
        self._context = context if context is not None else (ssl.create_default_context() if self._https else None)
        self.connect_timeout = connect_timeout
        self._max_idle = max_idle
        self.resolver = resolver if resolver is not None else BoundedResolver()
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._closed = False
        self.connections_opened = 0

    def get(self, path: str, headers: Mapping[str, str], deadline: float, max_body: int) -> tuple[int, list[bytes]]:
        """GET ``path``; returns the status and the body as the pieces it was read in (at most 256 KiB each, not
        joined: a whole bean list is decoded from them). Raises HttpError; ``BodyTooLarge`` past the cap."""
        connection = self._take()
        try:
            response = self._send(connection, path, headers, deadline)
            body = _read(response, deadline, max_body)
        except BaseException as exc:
            connected = connection.sock is not None
            connection.close()
            if isinstance(exc, (OSError, http.client.HTTPException)) and not isinstance(exc, HttpError):
                raise HttpError(describe(exc, connected)) from None
            raise
        if response.will_close:
            connection.close()
        else:
            self._give_back(connection)
        return response.status, body

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _take(self) -> http.client.HTTPConnection:
        """An idle connection the server has not closed meanwhile (as urllib3 checks), or a new one."""
        while True:
            with self._lock:
                if not self._idle:
                    break
                connection = self._idle.pop()
            if connection.sock is not None and not select.select([connection.sock], [], [], 0)[0]:
                return connection
            connection.close()  # readable while idle: the server closed it (or sent garbage)
        return self._open()

    def _open(self) -> http.client.HTTPConnection:
        self.connections_opened += 1
        connection: http.client.HTTPConnection
        if self._https:
            connection = http.client.HTTPSConnection(
                self._host, self._port, timeout=self.connect_timeout, context=self._context
            )
        else:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=self.connect_timeout)
        # http.client's hook for opening the socket (3.8+): the name lookup must be bounded by the timeout too.
        connection._create_connection = partial(create_connection, self.resolver)  # type: ignore[attr-defined]
        return connection

    def _give_back(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self._max_idle:
                self._idle.append(connection)
                return
        connection.close()

    def _send(
        self, connection: http.client.HTTPConnection, path: str, headers: Mapping[str, str], deadline: float
    ) -> http.client.HTTPResponse:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise HttpError("no time left in the scrape budget")
        if connection.sock is None:
            connection.timeout = min(self.connect_timeout, remaining)
            try:
                connection.connect()
            except TimeoutError:
                raise HttpError("timed out connecting") from None
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.sock.settimeout(max(0.001, deadline - time.monotonic()))
        connection.request("GET", path, headers=dict(headers))
        return connection.getresponse()


class BodyTooLarge(HttpError):
    """The answer is bigger than the cap."""


def _read(response: http.client.HTTPResponse, deadline: float, limit: int) -> list[bytes]:
    declared = response.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"body of {int(declared)} bytes exceeds the cap of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise HttpError("timed out while reading the body")
        chunk = response.read(_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"body exceeds the cap of {limit} bytes")
        chunks.append(chunk)
    if response.length:  # http.client's read(amt) returns b"" at an early end instead of raising
        raise HttpError("the response was cut off")
    return chunks


def describe(exc: BaseException, connected: bool = True) -> str:
    """A short cause for a transport failure."""
    if isinstance(exc, ssl.SSLError):
        reason = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or str(exc)
        return f"TLS error: {str(reason).splitlines()[0][:200]}"
    if isinstance(exc, ResolveTimeout):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return "timed out waiting for the response" if connected else "timed out connecting"
    if isinstance(exc, http.client.IncompleteRead):
        return "the response was cut off"
    if isinstance(exc, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)):
        return "the server closed the connection"
    if isinstance(exc, OSError):
        return f"cannot connect: {exc.strerror or exc}"
    if isinstance(exc, http.client.HTTPException):
        return f"bad HTTP answer: {type(exc).__name__}"
    return str(exc) or type(exc).__name__
