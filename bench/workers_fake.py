"""A light static fake of many Presto workers: ``python -m bench.workers_fake --count 100``.

One asyncio process listens on ``count`` ports of 127.0.0.1, each a worker answering airlift's
``/v1/jmx/mbean/{name}`` for the beans ``rules/worker.yml`` reads: the fixture's Trino worker beans (memory pool,
task manager, task executor; ``tests/fixture/profiles.py``, generation 0) and a JVM's heap and G1 collector beans.
Any other name is answered 500 with airlift's InstanceNotFoundException text, as an unknown bean is. Bodies are
rendered once; answering costs a dictionary lookup and a write, so the machine's CPU goes to the exporter.

It prints ``{"ready": true, "ports": [...]}`` and runs until SIGTERM. Control routes, on any port:
``GET /fake/stats`` (requests per port), ``POST /fake/reset``, ``POST /fake/slow?port=P&delay=S`` (answers of
port P wait S seconds; 0 turns it off).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import orjson

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MBEAN = "/v1/jmx/mbean/"
NOT_FOUND = b"javax.management.InstanceNotFoundException: %s\n"


def _jvm_beans() -> list[dict[str, Any]]:
    def attribute(name: str, java_type: str, value: object) -> dict[str, Any]:
        return {"name": name, "type": java_type, "description": "", "readable": True, "writable": False,
                "value": value}  # fmt: skip

    usage = "javax.management.openmbean.CompositeData"
    beans = [{
        "objectName": "java.lang:type=Memory", "className": "sun.management.MemoryImpl", "description": "",
        "attributes": [
            attribute("HeapMemoryUsage", usage, {"committed": 8 << 30, "init": 1 << 30, "max": 16 << 30,
                                                 "used": 6 << 30}),
            attribute("NonHeapMemoryUsage", usage, {"committed": 384 << 20, "init": 7 << 20, "max": -1,
                                                    "used": 320 << 20}),
            attribute("ObjectPendingFinalizationCount", "int", 0),
            attribute("Verbose", "boolean", False),
        ], "operations": [],
    }]  # fmt: skip
    for name, count, millis in (("G1 Young Generation", 1520, 48250), ("G1 Old Generation", 2, 1375)):
        beans.append({
            "objectName": f"java.lang:type=GarbageCollector,name={name}",
            "className": "com.sun.management.internal.GarbageCollectorExtImpl", "description": "",
            "attributes": [attribute("CollectionCount", "long", count), attribute("CollectionTime", "long", millis),
                           attribute("Name", "java.lang.String", name), attribute("Valid", "boolean", True)],
            "operations": [],
        })  # fmt: skip
    return beans


def bodies() -> dict[str, bytes]:
    """URL path -> answer body, for every bean a worker serves."""
    from tests.fixture.profiles import bean_json, catalogue

    beans = [bean_json("trino", spec) for spec in catalogue("trino", 0, "worker").beans if spec.group == "core"]
    beans += _jvm_beans()
    return {MBEAN + quote(bean["objectName"], safe=""): orjson.dumps(bean) for bean in beans}


class Fake:
    def __init__(self, count: int) -> None:
        self.count = count
        self.bodies = bodies()
        self.requests: dict[int, int] = {}
        self.delay: dict[int, float] = {}

    async def serve(self) -> list[int]:
        ports = []
        for _ in range(self.count):
            server = await asyncio.start_server(self.connection, "127.0.0.1", 0, backlog=256)
            ports.append(server.sockets[0].getsockname()[1])
        return ports

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = writer.get_extra_info("sockname")[1]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                method, target = head.split(b" ", 2)[:2]
                status, body = await self.answer(port, method.decode(), target.decode())
                reason = {200: b"OK", 404: b"Not Found", 500: b"Internal Server Error"}[status]
                writer.write(b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                             % (status, reason, len(body), body))  # fmt: skip
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the client went away, or the fake is stopping
        finally:
            writer.close()

    async def answer(self, port: int, method: str, target: str) -> tuple[int, bytes]:
        path = urlsplit(target).path
        if path.startswith("/fake/"):
            return 200, self.control(method, target)
        self.requests[port] = self.requests.get(port, 0) + 1
        if self.delay.get(port):
            await asyncio.sleep(self.delay[port])
        body = self.bodies.get(path)
        if body is not None:
            return 200, body
        if path.startswith(MBEAN):
            return 500, NOT_FOUND % path[len(MBEAN):].encode()
        return 404, b"Not Found"

    def control(self, method: str, target: str) -> bytes:
        parts = urlsplit(target)
        if parts.path == "/fake/stats":
            return orjson.dumps({str(port): count for port, count in self.requests.items()})
        if parts.path == "/fake/reset" and method == "POST":
            self.requests.clear()
            return b"{}"
        if parts.path == "/fake/slow" and method == "POST":
            query = parse_qs(parts.query)
            self.delay[int(query["port"][0])] = float(query["delay"][0])
            return b"{}"
        return b'{"error": "unknown control route"}'


async def main_async(count: int) -> None:
    fake = Fake(count)
    ports = await fake.serve()
    sys.stdout.write(orjson.dumps({"ready": True, "ports": ports}).decode() + "\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.workers_fake", description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args(argv)
    asyncio.run(main_async(args.count))
    return 0


if __name__ == "__main__":
    sys.exit(main())
