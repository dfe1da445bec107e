"""GETs to one coordinator through ``requests``, each bounded by the scrape's deadline and a body size cap.

``requests`` brings the kept-alive connection pool, TLS (certifi's bundle, or a CA bundle, client certificates)
and proxies from the environment (``HTTPS_PROXY``, ``NO_PROXY``). What it does not do, this module adds:

- one deadline for the whole answer: the body is read with ``read1`` (what has arrived, never waiting for a full
  buffer), the socket's timeout shrinks to what is left of the budget before each read, and the deadline is checked
  between reads, so a coordinator that trickles its answer is cut off at the deadline;
- the body size cap, for all the answers of one call together (a scrape's named beans share it), checked against
  ``Content-Length`` and while streaming;
- a name lookup bounded by the connect timeout (:mod:`exporter.sources.resolver`);
- one retry of a GET that met a kept-alive connection the server had just closed;
- no redirects followed, and one short, secret-free line for every failure.

Several GETs at once (``get_many``, at most ``parallelism`` of one call in flight) run on the threads all clients
share (:mod:`exporter.sources.rest.threads`), through the client's connection pool.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from exporter.sources.resolver import BoundedResolver, ResolveTimeout, create_connection
from exporter.sources.rest.threads import ElasticThreads
from exporter.sources.rest.threads import shared as shared_threads

_CHUNK = 256 * 1024
_GRACE = 0.1
# We ask for identity, but a proxy may compress anyway: what urllib3 can undo is read as if it were not there.
_DECODABLE = frozenset({"", "identity", "gzip", "x-gzip", "deflate"})
_HEAD_WATCHDOG_LAG = 0.05
_HEAD_TIMEOUT = "timed out while reading the response head (the server sent its headers too slowly)"
# What OpenSSL says when the "server hello" it reads is plain text (an HTTP error page) instead of a TLS record.
_NOT_TLS = frozenset({"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "UNKNOWN_PROTOCOL"})


class HttpError(Exception):
    """A GET failed before a whole answer arrived; ``str()`` is a short cause without secrets."""


class _Allowance:
    """The bytes the answers of one call may still bring, shared by the threads that read them."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._left = cap
        self._lock = threading.Lock()

    def take(self, size: int) -> bool:
        """Count ``size`` more bytes; False once the answers together are over the cap."""
        with self._lock:
            self._left -= size
            return self._left >= 0

    def fits(self, size: int) -> bool:
        with self._lock:
            return size <= self._left


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole answer: its status and its body."""

    status: int
    body: bytes


class HttpClient:
    """Kept-alive GETs to the server of ``base_url``; safe to use from several threads."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        verify: bool | str = True,
        client_cert: tuple[str, str | None] | None = None,
        connect_timeout: float = 2.0,
        max_body: int = 64 * 1024 * 1024,
        parallelism: int = 8,
        resolver: BoundedResolver | None = None,
        threads: ElasticThreads | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.connect_timeout = connect_timeout
        self.max_body = max_body
        self.parallelism = max(1, parallelism)
        session = requests.Session()
        session.headers.clear()
        session.headers.update({"Accept-Encoding": "identity", **headers})
        # Given on every request: a session's own verify loses to REQUESTS_CA_BUNDLE from the environment.
        self._verify = verify
        self._cert = (client_cert if client_cert[1] else client_cert[0]) if client_cert is not None else None
        adapter = _Adapter(resolver or BoundedResolver(), pool_maxsize=self.parallelism * 2)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self._session = session
        self._threads = threads or shared_threads()

    def get(
        self, path: str, deadline: float, headers: Mapping[str, str] | None = None, allowance: _Allowance | None = None
    ) -> Answer:
        """GET ``path`` (URL-quoted, from the root); HttpError when no whole answer arrives by ``deadline``."""
        allowance = allowance or _Allowance(self.max_body)
        for attempt in (1, 2):
            try:
                return self._get_once(path, deadline, headers, allowance)
            except requests.ConnectionError as exc:
                # A kept-alive connection the server closed just as it was reused fails before any answer: a GET is
                # safe to send again, once, on a new connection.
                if attempt == 2 or not _closed_by_server(exc) or time.monotonic() >= deadline:
                    raise HttpError(describe(exc)) from None
            except requests.RequestException as exc:
                raise HttpError(describe(exc)) from None
        raise AssertionError("unreachable")

    def get_many(
        self, paths: Sequence[str], deadline: float, headers: Mapping[str, str] | None = None
    ) -> Iterator[tuple[int, Answer | HttpError]]:
        """GET every path, ``parallelism`` at a time; yields ``(index into paths, Answer or HttpError)`` as each
        answer completes, so the caller decodes one while the others are on their way. Answers missing at the
        deadline fail as timed out; the answers together may bring at most ``max_body`` bytes."""
        allowance = _Allowance(self.max_body)
        if len(paths) == 1:
            yield 0, self._answer_or_error(paths[0], deadline, headers, allowance)
            return
        threads = self._threads
        waiting = iter(enumerate(paths))
        futures: dict[Future[Answer | HttpError], int] = {}

        def send_next() -> None:
            for index, path in waiting:
                future = threads.submit(self._answer_or_error, path, deadline, headers, allowance)
                futures[future] = index
                pending.add(future)
                return

        pending: set[Future[Answer | HttpError]] = set()
        for _ in range(min(self.parallelism, len(paths))):
            send_next()
        try:
            while pending:
                # Each GET times out at the deadline by itself, saying how far it got; a little grace lets it say so.
                left = max(0.0, deadline - time.monotonic()) + _GRACE
                done, pending = wait(pending, timeout=left, return_when=FIRST_COMPLETED)
                if not done:
                    for future in pending:
                        yield futures[future], HttpError("timed out waiting for the response")
                    for index, _path in waiting:
                        yield index, HttpError("timed out waiting for the response")
                    return
                for future in done:
                    send_next()
                    yield futures[future], future.result()
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        self._session.close()

    def _answer_or_error(
        self, path: str, deadline: float, headers: Mapping[str, str] | None, allowance: _Allowance
    ) -> Answer | HttpError:
        try:
            return self.get(path, deadline, headers, allowance)
        except HttpError as exc:
            return exc

    def _get_once(
        self, path: str, deadline: float, headers: Mapping[str, str] | None, allowance: _Allowance
    ) -> Answer:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise HttpError("no time left in the scrape budget")
        response = self._session.get(
            self.base_url + path,
            headers=headers,
            timeout=(min(self.connect_timeout, remaining), remaining),
            stream=True,
            allow_redirects=False,
            verify=self._verify,
            cert=self._cert,
        )
        try:
            return Answer(response.status_code, self._read(response.raw, deadline, allowance))
        finally:
            response.close()

    def _read(self, raw: urllib3.BaseHTTPResponse, deadline: float, allowance: _Allowance) -> bytes:
        declared = raw.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            raise HttpError(f"body of {int(declared)} bytes exceeds the cap of {self.max_body} bytes")
        if declared.isdigit() and not allowance.fits(int(declared)):
            raise HttpError(f"body of {int(declared)} bytes would take this scrape's answers over the cap of "
                            f"{self.max_body} bytes")
        encoding = raw.headers.get("Content-Encoding", "").strip().lower()
        if encoding not in _DECODABLE:
            raise HttpError(f"the answer is encoded as {encoding!r} (Content-Encoding), which the exporter cannot "
                            "read; it asks for identity: is a proxy in between compressing it?")
        decode = encoding not in ("", "identity")
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise HttpError("timed out while reading the body")
                _shrink_timeout(raw, remaining)
                chunk = raw.read1(_CHUNK, decode_content=decode)
                if not chunk:
                    break
                size += len(chunk)
                if size > self.max_body:
                    raise HttpError(f"body exceeds the cap of {self.max_body} bytes")
                if not allowance.take(len(chunk)):
                    raise HttpError(f"this scrape's answers together exceed the cap of {self.max_body} bytes")
                chunks.append(chunk)
        except urllib3.exceptions.DecodeError:
            raise HttpError(f"the answer's {encoding} encoding (Content-Encoding) is corrupt") from None
        except (OSError, urllib3.exceptions.HTTPError, http.client.HTTPException) as exc:
            raise HttpError(describe(exc, reading_body=True)) from None
        return b"".join(chunks)


def _shrink_timeout(raw: urllib3.BaseHTTPResponse, remaining: float) -> None:
    connection = getattr(raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        sock.settimeout(max(0.001, remaining))


class _BoundedLookup:
    """A urllib3 connection whose name lookup is bounded by its connect timeout, and whose response head must arrive
    within its read timeout (what is left of the scrape's budget) as a whole, not only between two bytes."""

    resolver: BoundedResolver

    def getresponse(self) -> urllib3.response.HTTPResponse:
        connection: HTTPConnection = self  # type: ignore[assignment]
        sock, limit = connection.sock, connection.timeout
        if sock is None or not isinstance(limit, (int, float)):
            return super().getresponse()  # type: ignore[misc, no-any-return]
        expired = threading.Event()
        # A head that trickles in a byte at a time never trips the socket's own timeout: at the deadline, shut the
        # socket down, which ends the read that is waiting. Just after it, so that a server that sent nothing at all
        # trips the socket's timeout first and is told apart.
        watchdog = threading.Timer(limit + _HEAD_WATCHDOG_LAG, _cut, (sock, expired))
        watchdog.daemon = True
        watchdog.start()
        try:
            response = super().getresponse()  # type: ignore[misc]
        except Exception:
            if expired.is_set():
                raise _HeadTimeout(_HEAD_TIMEOUT) from None
            raise
        finally:
            watchdog.cancel()
        if expired.is_set():  # what http.client made of a head cut short is not the server's answer
            response.close()
            raise _HeadTimeout(_HEAD_TIMEOUT)
        return response  # type: ignore[no-any-return]

    def _new_conn(self) -> socket.socket:
        connection: HTTPConnection = self  # type: ignore[assignment]
        timeout = connection.timeout if isinstance(connection.timeout, (int, float)) else 2.0
        try:
            sock = create_connection(self.resolver, (connection._dns_host, connection.port), timeout,
                                     connection.source_address)  # fmt: skip
        except ResolveTimeout as exc:
            raise ConnectTimeoutError(connection, str(exc)) from exc
        except socket.gaierror as exc:
            raise NameResolutionError(connection.host, connection, exc) from exc
        except TimeoutError as exc:
            raise ConnectTimeoutError(connection, f"timed out connecting to {connection.host}") from exc
        except OSError as exc:
            raise NewConnectionError(connection, f"Failed to establish a new connection: {exc}") from exc
        for option in connection.socket_options or ():
            sock.setsockopt(*option)
        return sock


class _HeadTimeout(TimeoutError):
    """The response head did not arrive whole by the deadline (it may have trickled in)."""


def _cut(sock: socket.socket, expired: threading.Event) -> None:
    expired.set()
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Adapter(HTTPAdapter):
    """requests' adapter with pools whose connections look names up through ``resolver``."""

    def __init__(self, resolver: BoundedResolver, **kwargs: object) -> None:
        plain = type("BoundedHTTPConnection", (_BoundedLookup, HTTPConnection), {"resolver": resolver})
        secure = type("BoundedHTTPSConnection", (_BoundedLookup, HTTPSConnection), {"resolver": resolver})
        self._pool_classes = {
            "http": type("BoundedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": plain}),
            "https": type("BoundedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": secure}),
        }
        super().__init__(**kwargs)  # type: ignore[arg-type]

    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        super().init_poolmanager(*args, **kwargs)  # type: ignore[arg-type]
        self.poolmanager.pool_classes_by_scheme = self._pool_classes

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: object) -> urllib3.ProxyManager:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)  # type: ignore[arg-type]
        manager.pool_classes_by_scheme = self._pool_classes
        return manager  # type: ignore[no-any-return]


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        nested = current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
        reason = getattr(current, "reason", None)
        current = reason if isinstance(reason, BaseException) else nested or current.__cause__ or current.__context__


def _closed_by_server(exc: BaseException) -> bool:
    return any(
        isinstance(cause, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError))
        for cause in _causes(exc)
    )


def describe(exc: BaseException, reading_body: bool = False) -> str:
    """A short cause for a transport failure, found in the chain of exceptions ``requests`` wraps."""
    causes = list(_causes(exc))
    for cause in causes:
        if isinstance(cause, (ResolveTimeout, _HeadTimeout)):  # wrapped in a generic timeout: the precise one wins
            return str(cause)
    for cause in causes:
        if isinstance(cause, ssl.SSLError):
            reason = getattr(cause, "verify_message", None) or getattr(cause, "reason", None) or str(cause)
            text = str(reason).splitlines()[0][:200]
            if getattr(cause, "reason", None) in _NOT_TLS:
                return f"TLS error: {text}: the port answers without TLS (an https URL aimed at a plain HTTP port): " \
                    "use http:// for it"
            return f"TLS error: {text}"
        if isinstance(cause, (NameResolutionError, socket.gaierror)):
            return "cannot connect: the host name does not resolve"
        if isinstance(cause, NewConnectionError):
            continue  # a subclass of ConnectTimeoutError in urllib3 2, whatever its cause: look further down
        if isinstance(cause, (requests.ConnectTimeout, ConnectTimeoutError)):
            return "timed out connecting"
        if isinstance(cause, requests.exceptions.ProxyError):
            return f"cannot reach the proxy: {_last_words(causes)}"
    for cause in causes:
        if isinstance(cause, (TimeoutError, requests.ReadTimeout, urllib3.exceptions.ReadTimeoutError)):
            return "timed out while reading the body" if reading_body else "timed out waiting for the response"
        if isinstance(cause, (http.client.IncompleteRead, urllib3.exceptions.IncompleteRead)):
            return "the response was cut off"
        if isinstance(cause, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)):
            return "the server closed the connection"
        if isinstance(cause, ConnectionRefusedError):
            return "cannot connect: Connection refused"
    for cause in causes:
        if isinstance(cause, OSError) and cause.strerror:
            return f"cannot connect: {cause.strerror}"
        if isinstance(cause, (http.client.BadStatusLine, http.client.UnknownProtocol)):
            return "not an HTTP answer (is that the server's HTTP port?)"  # its text is the server's, not repeated
        if isinstance(cause, http.client.HTTPException):
            detail = str(cause).splitlines()[0][:200] if str(cause) else type(cause).__name__
            return f"bad HTTP answer: {detail}"
    return _last_words(causes)


def _last_words(causes: list[BaseException]) -> str:
    last = causes[-1]
    return (str(last) or type(last).__name__).splitlines()[0][:200]
