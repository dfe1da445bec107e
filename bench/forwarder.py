"""A forwarder: a sidecar that does nothing but fetch the beans a pack needs and pass their bytes on.

A child process with the exporter's kind of HTTP server (``http.server``, HTTP/1.1, Nagle off, one write per
answer) that, for each GET, fetches the URLs it was given (the beans a pack needs, or the whole list) with the
exporter's own client (:class:`exporter.sources.rest.client.HttpClient`, the same pool and parallelism) and answers
with their bytes joined: no decoding, no rules, no exposition, no gzip. What it costs is what any sidecar pays
over airlift's one-bean routes before doing any work.
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


class Forwarder(floor.ServerProcess):
    """The forwarder as a child process (``python -m bench.forwarder URLSFILE``)."""

    def __init__(self, urls: list[str], scratch: Path) -> None:
        path = scratch / "forwarder-urls.json"
        path.write_bytes(orjson.dumps(urls))
        self.session = requests.Session()
        super().__init__("bench.forwarder", str(path))
        self.url = f"http://127.0.0.1:{self.port}/metrics"

    def scrape(self) -> bytes:
        response = self.session.get(self.url, timeout=60)
        response.raise_for_status()
        return response.content

    def close(self) -> None:
        self.session.close()
        super().close()


def serve(urls_file: Path) -> None:
    from exporter.sources.rest.client import Answer, HttpClient

    urls: list[str] = orjson.loads(urls_file.read_bytes())
    parts = urlsplit(urls[0])
    client = HttpClient(f"{parts.scheme}://{parts.netloc}", {"X-Trino-User": "bench"}, max_body=64 << 20)
    paths = [urlsplit(url).path for url in urls]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:
            bodies: list[bytes] = [b""] * len(paths)
            for index, answer in client.get_many(paths, time.monotonic() + 30):
                if not isinstance(answer, Answer) or answer.status != 200:
                    self.send_error(502, f"{paths[index]}: {answer}")
                    return
                bodies[index] = answer.body
            body = bodies[0] if len(bodies) == 1 else b"[" + b",".join(bodies) + b"]"
            head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            self.wfile.write(head.encode() + body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    floor.serve_forever(Handler)


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
