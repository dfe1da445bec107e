"""The floor: one HTTP GET of exactly the bytes the exporter needed, plus ``orjson.loads`` of them.

The body (the needed beans as one JSON array) is served by a small static HTTP/1.1 server in a child process
(``python -m bench.floor BODYFILE`` prints its port), so the measuring process only does what any client must:
one keep-alive request, read the body, decode it.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import orjson
import requests

ROOT = Path(__file__).resolve().parents[1]
_S = TypeVar("_S", bound="ServerProcess")


@dataclass(frozen=True, slots=True)
class Floor:
    bytes: int
    median_s: float
    p95_s: float
    cpu_s: float  # client CPU per GET + loads


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class ServerProcess:
    """One of the bench's servers as a child process (``python -m MODULE ARGS``): its port is the first line it prints
    (:func:`serve_forever`); ``close`` stops it by its PID."""

    def __init__(self, module: str, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args], cwd=ROOT, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
        try:
            assert self.process.stdout is not None
            self.port = int(self.process.stdout.readline())
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
        self.process.wait(10)

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FloorServer(ServerProcess):
    """``body`` served by a child process, fetched over one kept-alive connection: one ``round`` is one floor."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self._path = ROOT / "bench" / ".floor-body.json"
        self._path.write_bytes(body)
        self._session = requests.Session()
        self.walls: list[float] = []
        self.cpus: list[float] = []
        super().__init__("bench.floor", str(self._path))
        try:
            self._url = f"http://127.0.0.1:{self.port}/"
            self._fetch()  # connect and warm up
        except BaseException:
            self.close()
            raise

    def round(self) -> float:
        """One floor, kept in ``walls`` and ``cpus``; returns its wall time."""
        wall, cpu = self._fetch()
        self.walls.append(wall)
        self.cpus.append(cpu)
        return wall

    def _fetch(self) -> tuple[float, float]:
        """One GET of the body plus ``orjson.loads`` of it: wall and CPU seconds."""
        start, cpu = time.perf_counter(), time.process_time()
        document: Any = orjson.loads(self._session.get(self._url).content)
        wall = time.perf_counter() - start
        del document
        return wall, time.process_time() - cpu

    def result(self) -> Floor:
        """The rounds so far (the warm-up not counted)."""
        return Floor(len(self.body), statistics.median(self.walls), percentile(self.walls, 0.95),
                     sum(self.cpus) / len(self.cpus))  # fmt: skip

    def close(self) -> None:
        self._session.close()
        super().close()
        self._path.unlink(missing_ok=True)


def serve_static(answer: Callable[[str], tuple[int, bytes]]) -> None:
    """Serve ``answer(request path)`` (status, JSON body) on 127.0.0.1 until SIGTERM; prints the port first.

    The floor's server: an ideal server for the bytes the exporter needed."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # an ideal server: no delayed-ACK stall between headers and body

        def do_GET(self) -> None:
            status, body = answer(self.path)
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if status == 200 else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    serve_forever(Handler)


def serve_forever(handler: type[BaseHTTPRequestHandler]) -> None:
    """A threading HTTP server with ``handler`` on 127.0.0.1 until SIGTERM; prints its port first (the bench's child
    servers all start this way: the parent reads the port from their standard output)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    _body = Path(sys.argv[1]).read_bytes()
    serve_static(lambda path: (200, _body))
