"""The exporter's HTTP server: ``/metrics``, ``/healthz``, ``/ready``, a landing page at ``/``, and, for one exporter
reading many targets, ``/probe?target=...&module=...`` and ``/discovery`` (:mod:`exporter.web.probe`)."""

from __future__ import annotations

import base64
import contextlib
import html
import logging
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from exporter import __version__
from exporter.errors import UsageError
from exporter.output.exposition import OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE, wants_openmetrics
from exporter.scrape.ratelimit import RateLimitedLog
from exporter.scrape.scraper import ScrapeResult, SingleFlight
from exporter.scrape.targets import PoolFull
from exporter.web.auth import Users, VerificationBusy
from exporter.web.probe import Prober, ProbeRefused, discovery_body

log = logging.getLogger(__name__)

# Prometheus tells us its scrape timeout; answer a little before it gives up.
SCRAPE_TIMEOUT_HEADER = "X-Prometheus-Scrape-Timeout-Seconds"
SCRAPE_TIMEOUT_MARGIN = 0.5
# Connections served at once (a thread each). Prometheus keeps one per target; past this, a new connection takes the
# place of one that waits idle for a request, or is closed when every one is busy answering.
MAX_CONNECTIONS = 64
# Our endpoints take no body; one this small is read and dropped so the connection stays usable, a larger one is
# refused and the connection closed, so its bytes are never read as the next request.
MAX_DISCARDED_BODY = 64 * 1024
# Seconds a client refused for want of a password check is told to wait before it asks again.
BUSY_RETRY_AFTER = 1
# Query fields a probe may carry (target, module, and a few a scraper may add); more is not a probe.
MAX_QUERY_FIELDS = 8


class ExporterServer(ThreadingHTTPServer):
    """A threading HTTP server whose handler threads are joined on shutdown, so in-flight scrapes finish."""

    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True
    request_queue_size = 128  # 20 scrapers connecting at once overflowed the default backlog of 5

    def __init__(
        self,
        address: tuple[str, int],
        scraper: SingleFlight,
        users: Users | None = None,
        tls: ssl.SSLContext | None = None,
        prober: Prober | None = None,
    ) -> None:
        self.scraper = scraper
        self.prober = prober
        self.users = users
        self.tls = tls
        self.stopping = False
        self._idle: set[socket.socket] = set()
        self._idle_lock = threading.Lock()
        self.connections = 0
        self.busy_log = RateLimitedLog(log, interval=60.0)
        if ":" in address[0]:  # an IPv6 address ("::" for every interface)
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def mark_idle(self, connection: socket.socket, idle: bool) -> None:
        with self._idle_lock:
            if idle:
                self._idle.add(connection)
            else:
                self._idle.discard(connection)

    def server_close(self) -> None:
        """Close idle keep-alive connections (Prometheus keeps them open), then wait for in-flight requests."""
        self.stopping = True
        with self._idle_lock:
            idle = list(self._idle)
        for connection in idle:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        super().server_close()

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        """Serve ``request`` on a thread of its own, within MAX_CONNECTIONS (see there)."""
        with self._idle_lock:
            self.connections += 1
            crowded = self.connections > MAX_CONNECTIONS
            victim = next(iter(self._idle), None) if crowded else None
            if victim is not None:
                self._idle.discard(victim)
            elif crowded:
                self.connections -= 1
        if crowded and victim is None:
            log.debug("refused a connection from %s: %d connections are being answered", client_address,
                      MAX_CONNECTIONS)  # fmt: skip
            self.shutdown_request(request)
            return
        if victim is not None:
            with contextlib.suppress(OSError):
                victim.shutdown(socket.SHUT_RDWR)  # its thread reads the end and leaves
        super().process_request(request, client_address)  # type: ignore[arg-type]

    def process_request_thread(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        try:
            super().process_request_thread(request, client_address)  # type: ignore[arg-type]
        finally:
            with self._idle_lock:
                self.connections -= 1

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that goes away mid-answer is ordinary (one DEBUG line); anything else is logged with its trace."""
        error = sys.exc_info()[1]
        who = client_address[0] if isinstance(client_address, tuple) else client_address
        if isinstance(error, (ConnectionError, TimeoutError, ssl.SSLError)):
            log.debug("client %s went away: %s", who, error)
            return
        log.exception("error while answering %s", who)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    def finish_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        """Runs in the request's own thread: the TLS handshake happens here, so a slow client cannot stall accept."""
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(_Handler.timeout)
        try:
            secured = self.tls.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError) as exc:
            log.debug("TLS handshake with %s failed: %s", client_address, exc)
            return
        try:
            super().finish_request(secured, client_address)
        finally:
            secured.close()

    def serve_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="http-server", daemon=True)
        thread.start()
        return thread


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding value allows gzip: named (or ``*``) with a q-value above zero."""
    allowed = {}
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        allowed[coding.strip().lower()] = quality
    return allowed.get("gzip", allowed.get("*", 0.0)) > 0


class _Handler(BaseHTTPRequestHandler):
    server: ExporterServer
    protocol_version = "HTTP/1.1"
    server_version = f"presto-jmx-exporter/{__version__}"

    def version_string(self) -> str:
        return self.server_version  # not the Python version, which http.server appends
    timeout = 120  # seconds an idle keep-alive connection may hold a thread
    # Headers and body leave in one write (the base class flushes after each request), and Nagle is off: with two
    # small writes, Nagle plus the client's delayed ACK would stall every keep-alive response.
    wbufsize = 64 * 1024

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_one_request(self) -> None:
        if self.server.stopping:
            self.close_connection = True
            return
        self.server.mark_idle(self.connection, True)
        try:
            super().handle_one_request()
        except TimeoutError:
            self.close_connection = True
        finally:
            self.server.mark_idle(self.connection, False)

    def parse_request(self) -> bool:
        self.server.mark_idle(self.connection, False)
        if not super().parse_request():
            return False
        length = self._body_length()
        if length is None:
            return False
        if length and len(self.rfile.read(length)) < length:
            self.close_connection = True  # the client went away mid-body
            return False
        return True

    def handle_expect_100(self) -> bool:
        # Refuse a body we will not read before inviting the client to send it.
        return self._body_length() is not None and super().handle_expect_100()

    def _body_length(self) -> int | None:
        """The body length the headers declare, or None once a request whose framing is not plain was refused.

        A proxy in front of us may read ambiguous framing differently (two lengths, a length and chunking, a header
        line we cannot parse): answering such a request and reading on would let its body pass as a request.
        """
        headers = self.headers
        lengths = headers.get_all("Content-Length") or []
        digits = (lengths[0].strip(" \t") if lengths else "0").lstrip("0") or "0"
        if headers.defects or headers.get_payload() or any("\n" in value for value in headers.values()):
            problem = "malformed or folded header line"
        elif "Transfer-Encoding" in headers:
            problem = "Transfer-Encoding is not supported" if not lengths else "Content-Length with Transfer-Encoding"
        elif len(lengths) > 1:
            problem = "more than one Content-Length"
        elif not (digits.isascii() and digits.isdigit()):
            problem = "Content-Length is not a number"
        # Comparing lengths first keeps int() away from a header of thousands of digits.
        elif len(digits) <= len(str(MAX_DISCARDED_BODY)) and int(digits) <= MAX_DISCARDED_BODY:
            return int(digits)
        else:
            self._send(413, "text/plain; charset=utf-8", b"Request body too large: these endpoints take none.\n",
                       {"Connection": "close"})
            return None
        self._send(400, "text/plain; charset=utf-8", f"Bad request: {problem}.\n".encode(), {"Connection": "close"})
        return None

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        try:
            authorized = path == "/healthz" or self._authorized()
        except VerificationBusy as busy:
            self._busy(busy)
            return
        if not authorized:
            self._send(401, "text/plain; charset=utf-8", b"Unauthorized\n",
                       {"WWW-Authenticate": 'Basic realm="presto-jmx-exporter", charset="UTF-8"'})
            return
        route = {
            "/metrics": self._metrics,
            "/healthz": self._healthz,
            "/ready": self._ready,
            "/": self._landing,
        }.get(path)
        if self.server.prober is not None:
            route = route or {"/probe": self._probe, "/discovery": self._discovery}.get(path)
        if route is None:
            self._send(404, "text/plain; charset=utf-8", b"Not found. Try /metrics.\n")
            return
        route()

    def do_HEAD(self) -> None:
        self.do_GET()

    def _authorized(self) -> bool:
        users = self.server.users
        if users is None:
            return True
        scheme, _, credentials = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return users.check(user, password)

    def _busy(self, busy: VerificationBusy) -> None:
        self.server.busy_log.warning("answered 503 without checking the password: %s; is someone guessing "
                                     "passwords? Scrapes whose password was verified before are not held up", busy)
        self._send(503, "text/plain; charset=utf-8", b"Busy checking passwords; try again.\n",
                   {"Retry-After": str(BUSY_RETRY_AFTER)})

    def _metrics(self) -> None:
        self._scrape_answer(self.server.scraper.scrape(self._scrape_timeout()))

    def _probe(self) -> None:
        prober = self.server.prober
        assert prober is not None  # routed only with a prober
        try:
            query = parse_qs(urlsplit(self.path).query, keep_blank_values=True, max_num_fields=MAX_QUERY_FIELDS)
        except ValueError:  # more query fields than a probe has
            self._send(400, "text/plain; charset=utf-8", b"Bad request: too many query fields for a probe.\n")
            return
        try:
            targets, modules = query.get("target", []), query.get("module", [])
            if len(targets) > 1 or len(modules) > 1:
                raise ProbeRefused(400, "Bad request: one target and one module per probe.")
            address, module = prober.admit(targets[0] if targets else None, modules[0] if modules else None)
            result = prober.pool.scrape(address.target, module, self._scrape_timeout())
        except ProbeRefused as refused:
            self._send(refused.status, "text/plain; charset=utf-8", refused.message.encode() + b"\n")
            return
        except PoolFull as full:
            self._send(503, "text/plain; charset=utf-8", f"Busy: {full}; try again.\n".encode(),
                       {"Retry-After": str(BUSY_RETRY_AFTER)})
            return
        except UsageError as exc:
            self._send(400, "text/plain; charset=utf-8", f"Cannot read this target: {exc}\n".encode())
            return
        self._scrape_answer(result)

    def _discovery(self) -> None:
        prober = self.server.prober
        assert prober is not None  # routed only with a prober
        if prober.discovery is None:
            self._send(404, "text/plain; charset=utf-8",
                       b"Not found: /discovery needs --discovery-url, the coordinator whose nodes to list.\n")
            return
        listed = prober.discovery.current()
        if listed.read_at is None or (listed.error is not None and not listed.found):
            why = listed.error or "the node list was not read in time"
            self._send(503, "text/plain; charset=utf-8", f"Cannot read the node list: {why}\n".encode())
            return
        self._send(200, "application/json", discovery_body(listed.found))

    def _scrape_answer(self, result: ScrapeResult) -> None:
        openmetrics = wants_openmetrics(self.headers.get("Accept"))
        gzipped = accepts_gzip(self.headers.get("Accept-Encoding") or "")
        body = result.body(openmetrics, gzipped)
        content_type = OPENMETRICS_CONTENT_TYPE if openmetrics else TEXT_CONTENT_TYPE
        self._send(200, content_type, body, {"Content-Encoding": "gzip"} if gzipped else None)

    def _scrape_timeout(self) -> float | None:
        raw = self.headers.get(SCRAPE_TIMEOUT_HEADER)
        try:
            return float(raw) - SCRAPE_TIMEOUT_MARGIN if raw else None
        except ValueError:
            return None

    def _healthz(self) -> None:
        self._send(200, "text/plain; charset=utf-8", b"ok\n")

    def _ready(self) -> None:
        scraper = self.server.scraper
        result = scraper.last or scraper.scrape()
        if result.error is None:
            self._send(200, "text/plain; charset=utf-8", b"ready\n")
        else:
            self._send(503, "text/plain; charset=utf-8", f"not ready: {result.error}\n".encode())

    def _landing(self) -> None:
        target = html.escape(self.server.scraper.source.description)  # read each time: a reload may move it
        prober = self.server.prober
        probing = ""
        if prober is not None:
            probing = "<li><code>/probe?target=TARGET&amp;module=NAME</code> (modules: " + \
                html.escape(", ".join(sorted(prober.pool.modules))) + ")</li>"  # fmt: skip
            if prober.discovery is not None:
                probing += '<li><a href="/discovery">Discovery</a> (Prometheus HTTP SD)</li>'
        page = (
            "<!doctype html><html><head><title>presto-jmx-exporter</title></head><body>"
            f"<h1>presto-jmx-exporter {__version__}</h1>"
            f"<p>Target: <code>{target}</code></p>"
            '<ul><li><a href="/metrics">Metrics</a></li><li><a href="/healthz">Health</a></li>'
            f'<li><a href="/ready">Readiness</a></li>{probing}</ul></body></html>\n'
        )
        self._send(200, "text/html; charset=utf-8", page.encode())

    def _send(self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.server.stopping:
            self.send_header("Connection", "close")
            self.close_connection = True
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s", self.address_string(), format % args)


def tls_context(cert: str, key: str | None, client_ca: str | None = None) -> ssl.SSLContext:
    """A server TLS context (TLS 1.2+); with ``client_ca`` clients must present a certificate it signed."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"--web-tls-cert/--web-tls-key: cannot load {cert}{' and ' + key if key else ''}: "
                         f"{getattr(exc, 'strerror', None) or exc}") from None
    if client_ca:
        try:
            context.load_verify_locations(client_ca)
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(f"--web-client-ca: cannot load {client_ca}: {getattr(exc, 'strerror', None) or exc}") \
                from None
        context.verify_mode = ssl.CERT_REQUIRED
    return context
