"""A sidecar that does nothing but forward: the least any sidecar pays over airlift's one-bean routes.

A child process with the exporter's kind of HTTP server (``http.server``, HTTP/1.1, Nagle off, one write per
answer) that, for each GET, fetches the URLs it was given (the beans a pack needs, or the whole list) with the
exporter's own client (``HttpPool.get_many``: every request in flight at once on kept-alive connections) and
answers with their bytes as they came, joined (the whole list over one ``HttpPool.get``, as the exporter reads
it): no decoding, no rules, no exposition, no gzip. Used by
``bench.run`` (its "null sidecar" columns) and ``bench.sidecar_floor``.
"""

from __future__ import annotations

import socket
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import floor  # noqa: E402


class NullSidecar(floor.ServerProcess):
    """The null sidecar as a child process (``python -m bench.null_sidecar URLSFILE``)."""

    def __init__(self, urls: list[str], scratch: Path) -> None:
        path = scratch / "sidecar-urls.json"
        path.write_bytes(orjson.dumps(urls))
        self.session = requests.Session()
        super().__init__("bench.null_sidecar", str(path))
        self.url = f"http://127.0.0.1:{self.port}/metrics"

    def scrape(self) -> bytes:
        response = self.session.get(self.url, timeout=60)
        response.raise_for_status()
        return response.content

    def close(self) -> None:
        self.session.close()
        super().close()


def serve(urls_file: Path) -> None:
    from exporter.sources.rest.client import HttpPool

    urls: list[str] = orjson.loads(urls_file.read_bytes())
    parts = urlsplit(urls[0])
    pool = HttpPool(f"{parts.scheme}://{parts.netloc}")
    paths = [urlsplit(url).path for url in urls]
    whole = paths == ["/v1/jmx/mbean"]
    headers = {"X-Trino-User": "bench"}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:
            deadline = time.monotonic() + 30
            if whole:  # one GET on http.client, read in pieces, as the exporter reads the whole list
                status, pieces = pool.get(paths[0], headers, deadline, 64 << 20)
                if status != 200:
                    self.send_error(502, f"{paths[0]}: HTTP {status}")
                    return
                body = b"".join(pieces)
            else:
                bodies: list[bytes] = [b""] * len(paths)
                for index, answer in pool.get_many(paths, headers, deadline, 64 << 20, 8):
                    if not isinstance(answer, tuple) or answer[0] != 200:
                        self.send_error(502, f"{paths[index]}: {answer}")
                        return
                    bodies[index] = answer[1]
                body = b"[" + b",".join(bodies) + b"]"
            head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            self.wfile.write(head.encode() + body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    floor.serve_forever(Handler)


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
