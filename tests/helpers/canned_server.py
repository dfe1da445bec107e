"""A real HTTP(S) server on 127.0.0.1 that answers with what a test tells it to, and records what it was sent.

Used for the REST client's own behaviour (auth headers, TLS, timeouts, size caps); end-to-end tests use the fixture
coordinator JVM instead.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar
from urllib.parse import urlsplit

_Server = TypeVar("_Server", bound="_LoopbackServer")


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    before_body: Callable[[], None] | None = None  # e.g. wait on an Event to simulate a slow server
    trickle: float = 0.0  # seconds between the body's bytes, sent one at a time (until the server is released)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


class _LoopbackServer:
    """A threading HTTP server on 127.0.0.1 for ``handler``, served from a thread between ``with`` and its end."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        scheme = "https" if isinstance(self.httpd.socket, ssl.SSLSocket) else "http"
        return f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self: _Server) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


class CannedServer(_LoopbackServer):
    """``answer(path) -> Reply`` decides each response; ``seen`` lists the requests in arrival order."""

    def __init__(self, answer: Callable[[str], Reply], tls: ssl.SSLContext | None = None) -> None:
        self.answer = answer
        self.seen: list[Seen] = []
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                outer.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}))
                reply = outer.answer(self.path)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in reply.headers and "Transfer-Encoding" not in reply.headers:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.flush()
                if reply.before_body:
                    reply.before_body()
                with contextlib.suppress(OSError):
                    if not reply.trickle:
                        self.wfile.write(reply.body)
                        return
                    for index in range(len(reply.body)):
                        if outer.release.wait(reply.trickle):
                            return
                        self.wfile.write(reply.body[index : index + 1])
                        self.wfile.flush()

            def log_message(self, format: str, *args: object) -> None:
                pass

        super().__init__(Handler, tls)

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        super().__exit__(*exc)


class ForwardingProxy(_LoopbackServer):
    """A forwarding HTTP proxy on 127.0.0.1 for origins on the loopback interface: plain HTTP by absolute URL, HTTPS
    through ``CONNECT`` tunnels. ``forwarded`` lists the URLs and the ``host:port`` of the tunnels it was asked for."""

    def __init__(self) -> None:
        self.forwarded: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_CONNECT(self) -> None:
                host, _, port = self.path.rpartition(":")
                if host != "127.0.0.1" or not port.isdigit():
                    self.send_error(403, "this proxy tunnels to 127.0.0.1 only")
                    return
                outer.forwarded.append(self.path)
                upstream = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
                self.send_response(200, "Connection established")
                self.end_headers()
                self.wfile.flush()
                self.close_connection = True
                _tunnel(self.connection, upstream)

            def do_GET(self) -> None:
                target = urlsplit(self.path)
                if target.hostname != "127.0.0.1" or target.port is None:
                    self.send_error(403, "this proxy forwards to 127.0.0.1 only")
                    return
                outer.forwarded.append(self.path)
                upstream = HTTPConnection("127.0.0.1", target.port, timeout=10)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "host")}
                    path = target.path + (f"?{target.query}" if target.query else "")
                    upstream.request("GET", path, headers=headers)
                    answer = upstream.getresponse()
                    body = answer.read()
                finally:
                    upstream.close()
                self.send_response(answer.status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        super().__init__(Handler)


def _tunnel(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    with upstream:
        sockets = [client, upstream]
        while True:
            readable, _, _ = select.select(sockets, [], [], 10)
            if not readable:
                return
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    return
                (upstream if sock is client else client).sendall(data)
