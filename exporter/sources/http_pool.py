"""A small keep-alive HTTP/1.1 client for GETs to one server from several threads, on ``http.client``.

The REST source sends one GET per bean on every scrape; ``requests`` spends about four times as much CPU per
request as ``http.client`` (environment lookups, hooks, cookie jars, adapters), which for a handful of small beans
costs more than the data. This client does only what the source needs: idle connections kept for reuse, a
connect timeout that bounds the name lookup too, a read deadline, a body size cap checked while reading, TLS
through an ``ssl.SSLContext``, and one short, secret-free line for every failure. Proxy environment variables are
not used: the coordinator is reached directly (a sidecar talks to its own pod).

Several GETs at once (``get_many``) run on the calling thread: one request on each of several connections, the
answers read as they arrive (:mod:`exporter.sources.http_response`). Worker threads doing the same cost more than
the requests: each answer waited for the GIL while another thread decoded the previous one. A single GET (``get``,
the whole bean list) stays with ``http.client``, which reads megabytes in 256 KiB pieces straight into their
``bytes`` objects, with no copy.
"""

from __future__ import annotations

import http.client
import select
import selectors
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from urllib.parse import urlsplit

from exporter.sources.http_response import BodyTooLarge, HttpError, ResponseReader
from exporter.sources.resolver import BoundedResolver, ResolveTimeout, create_connection

__all__ = ["BodyTooLarge", "HttpError", "HttpPool", "describe"]

_CHUNK = 256 * 1024
# get_many reads into one buffer and keeps exact copies: recv(n) allocates n bytes and shrinks them to what came,
# and the holes that left in the heap made the resident size creep over thousands of scrapes.
_RECEIVE_BUFFER = 64 * 1024
_WOULD_BLOCK = (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError)
# How a kept-alive connection the server closed just as it was reused fails before any answer: the request met a
# FIN or a reset (http.client's RemoteDisconnected is a ConnectionResetError). A GET is safe to send again, and is,
# once, on a new connection: the readiness check in _take only sees a close that had already arrived.
_CLOSED_BY_SERVER = (ConnectionResetError, BrokenPipeError)


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
        reused = connection.sock is not None  # an idle connection kept from an earlier request
        try:
            try:
                response = self._send(connection, path, headers, deadline)
            except _CLOSED_BY_SERVER:
                if not reused:
                    raise
                connection.close()
                connection = self._open()
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
        self._connect(connection, deadline)
        connection.request("GET", path, headers=dict(headers))
        return connection.getresponse()

    def _connect(self, connection: http.client.HTTPConnection, deadline: float) -> None:
        """Open the connection if it is not (bounded by the connect timeout); the socket times out at ``deadline``."""
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

    def get_many(
        self, paths: Sequence[str], headers: Mapping[str, str], deadline: float, max_body: int, width: int
    ) -> Iterator[tuple[int, tuple[int, bytes] | HttpError]]:
        """GET every path, ``width`` at a time on as many connections, all on the calling thread.

        Yields ``(index into paths, (status, body) or the HttpError of that request)`` as each answer completes, so
        the caller decodes one while the others are still on their way. A failure to connect fails every request
        not yet sent (they would meet the same server); answers missing at the deadline fail as timed out.
        """
        try:
            head = self._request_head(headers)
        except HttpError as exc:
            for index in range(len(paths)):
                yield index, exc
            return
        pending = deque(enumerate(paths))
        width = max(1, width)
        buffer = memoryview(bytearray(_RECEIVE_BUFFER))
        selector = selectors.DefaultSelector()
        try:
            while pending or selector.get_map():
                while pending and len(selector.get_map()) < width:
                    index, path = pending.popleft()
                    request = b"GET %s HTTP/1.1\r\n%s" % (path.encode("ascii"), head)  # paths come URL-quoted
                    failure = self._start(selector, index, request, self._take(), deadline, max_body)
                    if failure is not None:
                        yield index, failure
                        while pending:
                            yield pending.popleft()[0], failure
                if not selector.get_map():
                    break
                remaining = deadline - time.monotonic()
                events = selector.select(remaining) if remaining > 0 else []
                if not events:
                    for key in list(selector.get_map().values()):
                        exchange: _Exchange = key.data
                        selector.unregister(key.fileobj)
                        exchange.connection.close()
                        yield exchange.index, HttpError(f"timed out {_awaited(exchange.reader)}")
                    continue
                for key, _ in events:
                    exchange = key.data
                    try:
                        finished = exchange.receive(buffer)
                    except _Stale:
                        selector.unregister(key.fileobj)
                        exchange.connection.close()
                        failure = self._start(selector, exchange.index, exchange.request, self._open(), deadline,
                                              max_body)  # fmt: skip
                        if failure is not None:
                            yield exchange.index, failure
                        continue
                    except (HttpError, OSError) as exc:
                        selector.unregister(key.fileobj)
                        exchange.connection.close()
                        yield exchange.index, exc if isinstance(exc, HttpError) else HttpError(describe(exc))
                        continue
                    if not finished:
                        continue
                    selector.unregister(key.fileobj)
                    reader = exchange.reader
                    if reader.keep_alive and not reader.extra:
                        self._give_back(exchange.connection)
                    else:
                        exchange.connection.close()
                    yield exchange.index, (reader.status, reader.body())
        finally:
            for key in list(selector.get_map().values()):
                key.data.connection.close()
            selector.close()

    def _start(
        self,
        selector: selectors.BaseSelector,
        index: int,
        request: bytes,
        connection: http.client.HTTPConnection,
        deadline: float,
        max_body: int,
    ) -> HttpError | None:
        """Send ``request`` on ``connection`` and watch it for the answer; the failure, if it fails."""
        reused = connection.sock is not None
        try:
            self._connect(connection, deadline)
            sock = connection.sock
            sock.sendall(request)
            sock.setblocking(False)
        except HttpError as exc:
            connection.close()
            return exc
        except OSError as exc:
            connected = connection.sock is not None
            connection.close()
            return HttpError(describe(exc, connected))
        exchange = _Exchange(index, connection, ResponseReader(max_body), request, reused)
        selector.register(sock, selectors.EVENT_READ, exchange)
        return None

    def _request_head(self, headers: Mapping[str, str]) -> bytes:
        """What follows the request line: Host and ``headers``, as ``http.client`` sends them (Latin-1)."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        if self._port != (443 if self._https else 80):
            host = f"{host}:{self._port}"
        lines = [f"Host: {host}", "Accept-Encoding: identity"]
        for name, value in headers.items():
            if "\r" in value or "\n" in value:
                raise HttpError(f"the {name} header has a line break in it")
            lines.append(f"{name}: {value}")
        try:
            return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        except UnicodeEncodeError:
            raise HttpError("a request header is not Latin-1 text") from None


class _Stale(Exception):
    """A kept-alive connection was closed by the server before any of the answer came: send the request again."""


class _Exchange:
    """One GET of ``get_many`` in flight: its place in the list, its connection, the reader of its answer and the
    request (sent again on a new connection if the server had closed this one, when ``reused``)."""

    __slots__ = ("connection", "index", "reader", "request", "reused")

    def __init__(
        self, index: int, connection: http.client.HTTPConnection, reader: ResponseReader, request: bytes,
        reused: bool,
    ) -> None:
        self.index = index
        self.connection = connection
        self.reader = reader
        self.request = request
        self.reused = reused

    def receive(self, buffer: memoryview) -> bool:
        """Read all that has arrived (over TLS one call gives one record, at most 16 KiB); True when done. Raises
        _Stale when a reused connection ends before the answer's first byte."""
        sock = self.connection.sock
        reader = self.reader
        while not reader.done:
            try:
                size = sock.recv_into(buffer)
            except _WOULD_BLOCK:
                return False
            except _CLOSED_BY_SERVER:
                if self.reused and not reader.started:
                    raise _Stale from None
                raise
            if not size:
                if self.reused and not reader.started:
                    raise _Stale
                reader.end()
                return True
            reader.feed(buffer[:size].tobytes())
        return True


def _awaited(reader: ResponseReader) -> str:
    if reader.in_body:
        return "while reading the body"
    return "while reading the response head" if reader.started else "waiting for the response"


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
