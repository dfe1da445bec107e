"""What one scrape costs, next to the floor, for the REST and JMX paths: ``python -m bench.run``.

    python -m bench.run [--scales 1,2] [--scrapes 15] [--warmup 30] [--packs trino,coordinator,everything]
                        [--paths rest,jmx]
                        [--soak 5000] [--soak-packs trino,coordinator] [--json FILE]

For each scale it starts the fixture coordinator (Trino profile; scale 1 = 636 fixture beans, about 19,000
attributes; scale 2 = twice the unrelated beans) and, for each pack and path, the exporter as a child process
(``python -m exporter serve``). Every timed scrape is a real ``GET /metrics`` after a fixture ``tick`` (all values
move, as in production), measured from the outside: wall time, the exporter's CPU time and the coordinator's (/proc),
the requests and bytes the coordinator served, and the exporter's resident memory. The floor is measured with each
row, one round before or after each timed scrape: one GET of exactly the bytes the exporter needed plus ``orjson.loads``
(:mod:`bench.floor`); and, for REST rows, a forwarder (:mod:`bench.forwarder`: the same beans fetched from the
coordinator with the exporter's client and passed on, no other work), one round after a tick of its own paired
with each scrape. Also: 20 concurrent scrapes against a slowed coordinator (how many upstream fetches they cost), and
resident memory after 100 and after ``--soak`` scrapes with values changing every 100 scrapes. See bench/README.md
for the columns.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import floor, procinfo  # noqa: E402
from bench.child import ExporterChild  # noqa: E402
from bench.forwarder import Forwarder  # noqa: E402

_DURATION = re.compile(rb"\njmx_scrape_duration_seconds (\S+)\n")
PACKS = {
    "trino": "(a) rules/trino.yml",
    "coordinator": "(b) rules/coordinator.yml",
    "everything": "(c) no rules",
    "verbatim": "(v) a javaagent file verbatim",
}
EVERYTHING = "# no rules: export every bean in the default format\nlowercaseOutputName: false\n"


@dataclass
class Row:
    scale: int
    pack: str
    path: str
    scrapes: int
    median_s: float
    p95_s: float
    inside_s: float
    cpu_s: float
    coordinator_cpu_s: float
    requests: float | None
    bytes: float | None
    series: int
    hwm_mib: float
    rss_mib: float
    forwarder_s: float | None  # the forwarder's median (REST rows)
    floor: dict[str, float] = field(default_factory=dict)
    concurrent: dict[str, float] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.median_s / self.floor["median_s"] if self.floor else float("nan")

    @property
    def forwarder_ratio(self) -> float:
        return self.median_s / self.forwarder_s if self.forwarder_s else float("nan")


def pack_path(pack: str, scratch: Path) -> Path:
    if pack == "everything":
        path = scratch / "everything.yml"
        path.write_text(EVERYTHING)
        return path
    if pack == "verbatim":
        return ROOT / "tests" / "testdata" / "verbatim-trino.yml"
    return ROOT / "rules" / f"{pack}.yml"


def route_totals(stats: dict[str, Any]) -> tuple[int, int]:
    routes = stats["routes"]
    picked = [routes.get(name, {}) for name in ("list", "bean", "attribute")]
    return sum(r.get("requests", 0) for r in picked), sum(r.get("bytes", 0) for r in picked)


def needed_urls(coordinator: Any, config_path: Path) -> list[str]:
    """The coordinator URLs that answer what the exporter needs for this pack: the listed beans the server has, one
    URL each (airlift has no route for several beans), the beans a file without a list can export (what the
    exporter's planner names after a discovery), or the whole list."""
    from exporter.config.loader import load_config
    from exporter.rules.engine import RuleEngine
    from exporter.scrape.planner import Planner
    from exporter.sources import airlift

    config = load_config(config_path)
    names = config.literal_object_names()
    base = coordinator.http_url + "/v1/jmx/mbean"
    with requests.Session() as session:
        session.headers["X-Trino-User"] = "bench"
        if names is None:
            planner = Planner(config, RuleEngine(config), 60.0, time.monotonic)
            plan = planner.plan()
            beans, _ = airlift.parse_bean_list(airlift.loads(session.get(base).content, base), base)
            planner.learn(plan, beans, time.monotonic() + 60)
            if planner.named is None:
                return [base]
            names = planner.named
        urls = [f"{base}/{quote(name, safe='')}" for name in names]
        return [url for url in urls if session.get(url).status_code == 200]


def needed_body(coordinator: Any, urls: list[str]) -> bytes:
    """The bytes those URLs answer, as one JSON array (the whole list is one already)."""
    with requests.Session() as session:
        session.headers["X-Trino-User"] = "bench"
        bodies = [session.get(url).content for url in urls]
    whole = urls == [coordinator.http_url + "/v1/jmx/mbean"]
    return bodies[0] if whole else b"[" + b",".join(bodies) + b"]"


def measure(
    coordinator: Any, exporter: ExporterChild, scrapes: int, http: bool, floor_server: floor.FloorServer,
    forwarder: Forwarder | None = None, warmup: int = 30,
) -> dict[str, Any]:
    """``scrapes`` timed scrapes, each after a tick and paired with one floor round (floor first every other time,
    so both see the same machine) and, given a ``forwarder``, one forwarder round after a tick of its own (last
    when the floor is first); returns medians and per-scrape costs."""
    for _ in range(warmup):  # start-up, discovery, first layout; the embedded JVM's compiler, for JMX rows
        exporter.scrape()
        if forwarder is not None:
            forwarder.scrape()
    walls: list[float] = []
    inside: list[float] = []
    forwarder_walls: list[float] = []
    cpu_total = 0.0
    coordinator_cpu = 0.0
    served = [0, 0]
    body = b""
    for index in range(scrapes):
        if forwarder is not None and index % 2 == 1:
            forwarder_walls.append(_forwarder_round(coordinator, forwarder))
        coordinator.tick()
        coordinator.reset_stats()
        if index % 2 == 0:
            floor_server.round()
        cpu, served_cpu = procinfo.cpu_seconds(exporter.pid), procinfo.cpu_seconds(coordinator.pid)
        start = time.perf_counter()
        body = exporter.scrape()
        walls.append(time.perf_counter() - start)
        inside.append(float(_DURATION.search(body).group(1)))  # type: ignore[union-attr]
        cpu_total += procinfo.cpu_seconds(exporter.pid) - cpu
        coordinator_cpu += procinfo.cpu_seconds(coordinator.pid) - served_cpu
        if index % 2 == 1:
            floor_server.round()
        if http:
            got = route_totals(coordinator.stats())
            served[0] += got[0]
            served[1] += got[1]
        if forwarder is not None and index % 2 == 0:
            forwarder_walls.append(_forwarder_round(coordinator, forwarder))
    series = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
    memory = procinfo.memory(exporter.pid)
    return {
        "median_s": statistics.median(walls),
        "p95_s": floor.percentile(walls, 0.95),
        "inside_s": statistics.median(inside),
        "cpu_s": cpu_total / scrapes,
        "coordinator_cpu_s": coordinator_cpu / scrapes,
        "requests": served[0] / scrapes if http else None,
        "bytes": served[1] / scrapes if http else None,
        "series": series,
        "hwm_mib": memory.hwm_mib,
        "rss_mib": memory.rss_mib,
        "forwarder_s": statistics.median(forwarder_walls) if forwarder_walls else None,
    }


def _forwarder_round(coordinator: Any, forwarder: Forwarder) -> float:
    """One GET from the forwarder after a tick (the values it forwards move, as the exporter's do)."""
    coordinator.tick()
    start = time.perf_counter()
    forwarder.scrape()
    return time.perf_counter() - start


def concurrent(coordinator: Any, exporter: ExporterChild, per_scrape: float, clients: int = 20) -> dict[str, float]:
    """``clients`` simultaneous scrapes while the coordinator answers slowly: upstream requests they cost."""
    coordinator.reset_stats()
    coordinator.fault("slow", delay=0.5, paths=["list", "bean"])
    barrier = threading.Barrier(clients)
    errors: list[BaseException] = []

    def one() -> None:
        session = requests.Session()
        try:
            session.get(exporter.url + "/healthz", timeout=30)  # connected first, as Prometheus keeps its connection
            barrier.wait(30)
            session.get(exporter.url + "/metrics", timeout=120).raise_for_status()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            session.close()

    threads = [threading.Thread(target=one) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    coordinator.clear_fault()
    if errors:
        raise RuntimeError(f"concurrent scrape failed: {errors[0]!r}")
    requests_made, _ = route_totals(coordinator.stats())
    return {"clients": clients, "requests": requests_made, "fetches": requests_made / per_scrape if per_scrape else 0}


def soak(coordinator: Any, exporter: ExporterChild, total: int, batch: int = 100) -> dict[str, Any]:
    """Resident memory every 1,000 scrapes (and after the first ``batch``), values changing every batch."""
    series: dict[int, float] = {}
    done = 0
    while done < total:
        coordinator.tick()
        for _ in range(min(batch, total - done)):
            exporter.scrape()
        done += min(batch, total - done)
        if done in (batch, total) or done % 1000 == 0:
            series[done] = procinfo.memory(exporter.pid).rss_mib
    final = procinfo.memory(exporter.pid)
    return {"scrapes": total, "rss_after_first_mib": series[min(series)], "rss_after_all_mib": final.rss_mib,
            "hwm_mib": final.hwm_mib, "series": series}  # fmt: skip


@contextmanager
def fixture(scale: int) -> Iterator[Any]:
    from bench.fixture import start

    with start("trino", scale) as coordinator:
        yield coordinator


def run(args: argparse.Namespace) -> dict[str, Any]:
    rows: list[Row] = []
    soaks: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for scale in args.scales if args.packs else ():
            with fixture(scale) as coordinator:
                for pack in args.packs:
                    config = pack_path(pack, Path(scratch))
                    urls = needed_urls(coordinator, config)
                    body = needed_body(coordinator, urls)
                    for path in args.paths:
                        target = coordinator.http_url if path == "rest" else coordinator.jmx_url
                        log(f"scale {scale} {pack} {path}")
                        rest = path == "rest"
                        with ExporterChild(config, target) as exporter, floor.FloorServer(body) as floor_server, \
                                Forwarder(urls, Path(scratch)) if rest else nullcontext() as forwarder:
                            figures = measure(coordinator, exporter, args.scrapes, rest, floor_server, forwarder,
                                              args.warmup)
                            result = floor_server.result()
                            row = Row(scale, pack, path, args.scrapes, floor=asdict(result), **figures)
                            if path == "rest":
                                row.concurrent = concurrent(coordinator, exporter, row.requests or 0.0)
                            if path == "rest" and scale == args.scales[0] and pack in args.soak_packs and args.soak:
                                log(f"soak {pack}: {args.soak} scrapes")
                                soaks[pack] = soak(coordinator, exporter, args.soak)
                        rows.append(row)
                        log(f"  median {row.median_s * 1000:.1f} ms, floor {result.median_s * 1000:.1f} ms")
    dicts = [dict(asdict(r), ratio=r.ratio, forwarder_ratio=r.forwarder_ratio) for r in rows]
    return {"rows": dicts, "soak": soaks}


def table(report: dict[str, Any]) -> str:
    head = ("scale", "pack", "path", "median ms", "p95 ms", "CPU ms", "coordinator CPU ms", "req/scrape",
            "KiB/scrape", "series", "floor ms", "vs floor", "forwarder ms", "vs forwarder", "RSS MiB",
            "20 concurrent")  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in report["rows"]:
        cells = (
            str(r["scale"]), PACKS[r["pack"]], r["path"].upper(), f"{r['median_s'] * 1000:.1f}",
            f"{r['p95_s'] * 1000:.1f}", f"{r['cpu_s'] * 1000:.1f}", f"{r['coordinator_cpu_s'] * 1000:.1f}",
            "-" if r["requests"] is None else f"{r['requests']:.0f}",
            "-" if r["bytes"] is None else f"{r['bytes'] / 1024:.0f}", str(r["series"]),
            f"{r['floor']['median_s'] * 1000:.1f}", f"{r['ratio']:.2f}",
            f"{r['forwarder_s'] * 1000:.1f}" if r.get("forwarder_s") else "-",
            f"{r['forwarder_ratio']:.2f}" if r.get("forwarder_s") else "-",
            f"{r['rss_mib']:.0f}",
            f"{r['concurrent']['fetches']:.0f} fetch ({r['concurrent']['requests']} req)" if r["concurrent"] else "-",
        )  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    out = ["\n".join(lines)]
    if report["soak"]:
        out.append("\nResident memory of the REST exporter (VmRSS, MiB) with values changing every 100 scrapes:\n")
        for pack, s in report["soak"].items():
            steps = ", ".join(f"{rss:.1f}" for rss in s["series"].values())
            out.append(f"- {PACKS[pack]}: {s['rss_after_first_mib']:.1f} after 100 scrapes, "
                       f"{s['rss_after_all_mib']:.1f} after {s['scrapes']:.0f}; every 1,000: {steps}")  # fmt: skip
    return "\n".join(out)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--scales", default="1,2", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--scrapes", type=int, default=15, help="timed scrapes per row (each after a tick)")
    parser.add_argument("--warmup", type=int, default=30, help="scrapes per row before the timed ones (JMX rows: the "
                        "embedded JVM compiles its hot paths during the first few dozen)")
    parser.add_argument("--packs", default="trino,coordinator,everything,verbatim", help="packs for the table rows",
                        type=lambda s: [p for p in s.split(",") if p])
    parser.add_argument("--paths", default="rest,jmx", type=lambda s: s.split(","))
    parser.add_argument("--soak", type=int, default=5000, help="scrapes in the memory soak (0: none)")
    parser.add_argument("--soak-packs", default="trino,coordinator", type=lambda s: s.split(","))
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    unknown = set(args.packs) - set(PACKS) or set(args.paths) - {"rest", "jmx"}
    if unknown:
        parser.error(f"unknown: {', '.join(sorted(unknown))}")
    report = run(args)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
