"""`healthcheck`: ask a running `serve` for /healthz, for a container HEALTHCHECK or any other liveness check."""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import socket
import ssl
import sys

from exporter.commands import options
from exporter.commands.exitcodes import ExitCode
from exporter.commands.serve import parse_listen
from exporter.errors import UsageError

HELP = "exit 0 when the exporter serving on --listen answers /healthz (the image's HEALTHCHECK)"
DESCRIPTION = (
    "Connect to the address `serve` listens on, read from the same PJE_* variables (--listen, --web-tls-cert, "
    "--web-client-ca), and GET /healthz: exit 0 on a 200 answer, else 1 with the reason on stderr. A wildcard "
    "address (0.0.0.0, ::) is checked on loopback. HTTPS is used when a TLS certificate is set; the certificate is "
    "not verified (this is a liveness check of the local process, not of its identity). When client certificates "
    "are required (--web-client-ca), a completed TLS handshake counts as alive: /healthz would need a certificate."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add(parser, "--listen", "the address `serve` listens on, HOST:PORT", default="0.0.0.0:8081",
                metavar="HOST:PORT")
    options.add(parser, "--web-tls-cert", "set when `serve` serves HTTPS (the file is not read)", metavar="FILE")
    options.add(parser, "--web-client-ca", "set when `serve` requires client certificates (the file is not read)",
                metavar="FILE")
    parser.add_argument("--timeout", type=float, default=4.0, help="seconds to wait for the answer (default 4)")


def probe_address(listen: str) -> tuple[str, int]:
    """Where to connect to reach a server bound to ``listen``: a wildcard address becomes its loopback."""
    host, port = parse_listen(listen)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host, port  # a host name: it resolves to the address the server bound
    if address.is_unspecified:
        return ("::1" if address.version == 6 else "127.0.0.1"), port
    return host, port


def run(args: argparse.Namespace) -> int:
    try:
        host, port = probe_address(args.listen)
    except UsageError as exc:
        return _unhealthy(str(exc))  # exit 1, not 2: a container HEALTHCHECK reserves 2
    tls = bool(args.web_tls_cert)
    where = f"{'https' if tls else 'http'}://{f'[{host}]' if ':' in host else host}:{port}/healthz"
    try:
        if args.web_client_ca:
            _tls_handshake(host, port, args.timeout)
            return ExitCode.OK  # a TLS 1.3 server finishes its side before it checks the client's certificate
        status = _get_healthz(host, port, tls, args.timeout)
    except ssl.SSLError as exc:
        return _unhealthy(f"{where}: TLS failed: {exc.reason or exc}")
    except OSError as exc:
        return _unhealthy(f"{where}: {exc.strerror or exc}")
    except http.client.HTTPException as exc:
        return _unhealthy(f"{where}: bad answer: {exc!r}")
    if status != 200:
        return _unhealthy(f"{where}: HTTP {status}")
    return ExitCode.OK


def _client_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _get_healthz(host: str, port: int, tls: bool, timeout: float) -> int:
    if tls:
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(host, port, timeout=timeout,
                                                                       context=_client_context())
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", "/healthz", headers={"Connection": "close"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _tls_handshake(host: str, port: int, timeout: float) -> None:
    """Complete a TLS 1.3 handshake without a client certificate: the server has answered as a TLS server."""
    context = _client_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    with socket.create_connection((host, port), timeout=timeout) as raw, context.wrap_socket(raw):
        pass


def _unhealthy(message: str) -> int:
    print(f"presto-jmx-exporter healthcheck: unhealthy: {message}", file=sys.stderr)
    return ExitCode.FAILED
