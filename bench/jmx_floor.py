"""What reading values over JMX costs before the exporter does anything with them: ``python -m bench.jmx_floor``.

    python -m bench.jmx_floor [--scale 1] [--rounds 20] [--warmup 30] [--packs trino,coordinator,everything]

One process, one fixture coordinator (Trino profile). For each pack, four things are measured in interleaved rounds,
each round after a fixture tick, as CPU time of this whole process (its embedded JVM included) and wall time:

- ``REST scrape``: the exporter's scrape over ``/v1/jmx/mbean`` (``Scraper``: fetch, rules, exposition);
- ``JMX scrape``: the same over JMX/RMI;
- ``JMX reads``: one ``getAttributes`` per bean the JMX scrape reads, for every readable attribute (what
  jmx_exporter asks for), and nothing done with the answers: what reading all these values over RMI costs (the JMX
  counterpart of bench.forwarder). The JMX source asks for less: a map or array attribute that has shown a value no
  rule exports is not read again;
- ``JMX reads + values``: the same, taking each attribute's name and value out of the answer through JPype.

The proxy target of the JMX source is its CPU per exported sample at most 2x the REST source's.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import PACKS, pack_path  # noqa: E402

KINDS = ("REST scrape", "JMX scrape", "JMX reads", "JMX reads + values")


def _timed(work: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU time of ``work()``, the cyclic collector paused as the scraper pauses it for a scrape."""
    gc.collect()
    gc.disable()
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        return time.perf_counter() - wall, time.process_time() - cpu
    finally:
        gc.enable()


def measure_pack(coordinator: Any, config_path: Path, rounds: int, warmup: int) -> dict[str, Any]:
    from exporter.scrape.scraper import Scraper
    from exporter.scrape.watcher import ConfigWatcher
    from exporter.sources.base import BeanRequest
    from exporter.sources.factory import open_source
    from exporter.sources.jmx.catalog import BeanCatalog
    from exporter.sources.jmx.connect import connect
    from exporter.sources.jmx.settings import JmxClientSettings, JmxSettings, parse_target
    from exporter.sources.rest.settings import HttpSettings
    from exporter.sources.settings import SourceSettings

    watcher = ConfigWatcher(config_path)
    http = HttpSettings(user="bench", connect_timeout=5.0, max_body_bytes=256 * 1024 * 1024)
    jmx = JmxClientSettings(connect_timeout=5.0, call_timeout=60.0)
    scrapers = {
        "REST scrape": Scraper(watcher, open_source(SourceSettings(coordinator.http_url, http=http), watcher.config),
                               timeout=60.0),
        "JMX scrape": Scraper(watcher, open_source(SourceSettings(coordinator.jmx_url, jmx=jmx), watcher.config),
                              timeout=60.0),
    }  # fmt: skip
    connection = connect(JmxSettings(parse_target(coordinator.jmx_url), connect_timeout=5.0, call_timeout=60.0))
    try:
        layouts, _ = BeanCatalog(connection).select(BeanRequest(object_names=watcher.config.literal_object_names()))
        layouts = [layout for layout in layouts if len(layout.request)]
        mbeans = connection.mbeans

        def reads() -> None:
            for layout in layouts:
                mbeans.getAttributes(layout.jname, layout.request)

        def reads_and_values() -> None:
            for layout in layouts:
                for attribute in mbeans.getAttributes(layout.jname, layout.request).toArray():
                    attribute.getName()
                    attribute.getValue()

        samples: dict[str, int] = {}

        def scrape(kind: str) -> Callable[[], object]:
            def run() -> None:
                result = scrapers[kind].scrape()
                if result.error:
                    raise RuntimeError(f"{kind}: {result.error}")
                samples[kind] = sum(1 for line in result.body().splitlines() if line and not line.startswith(b"#"))

            return run

        work = {"REST scrape": scrape("REST scrape"), "JMX scrape": scrape("JMX scrape"), "JMX reads": reads,
                "JMX reads + values": reads_and_values}  # fmt: skip
        for _ in range(warmup):
            for run in work.values():
                run()
        figures: dict[str, list[tuple[float, float]]] = {kind: [] for kind in KINDS}
        for index in range(rounds):
            coordinator.tick()
            order = KINDS if index % 2 == 0 else tuple(reversed(KINDS))
            for kind in order:
                figures[kind].append(_timed(work[kind]))
        return {
            "beans": len(layouts),
            "attributes": sum(len(layout.request) for layout in layouts),
            "samples": samples,
            **{kind: {"median_wall_s": statistics.median(w for w, _ in got), "cpu_s": sum(c for _, c in got) / rounds}
               for kind, got in figures.items()},
        }  # fmt: skip
    finally:
        connection.close()
        for scraper in scrapers.values():
            scraper.source.close()


def table(results: dict[str, dict[str, Any]]) -> str:
    lines = ["| pack | beans read | attributes | " + " | ".join(f"{kind} CPU ms" for kind in KINDS)
             + " | JMX reads / REST scrape (CPU) | JMX / REST per sample (CPU) |",
             "|" + "---|" * (5 + len(KINDS))]  # fmt: skip
    for pack, r in results.items():
        cpu = {kind: r[kind]["cpu_s"] * 1000 for kind in KINDS}
        jmx, rest = cpu["JMX scrape"] / r["samples"]["JMX scrape"], cpu["REST scrape"] / r["samples"]["REST scrape"]
        per_sample = jmx / rest
        lines.append(f"| {PACKS[pack]} | {r['beans']} | {r['attributes']} | "
                     + " | ".join(f"{cpu[kind]:.1f}" for kind in KINDS)
                     + f" | {cpu['JMX reads'] / cpu['REST scrape']:.2f} | {per_sample:.2f} |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.jmx_floor", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--packs", default="trino,coordinator,everything", type=lambda s: s.split(","))
    args = parser.parse_args(argv)
    from bench.fixture import start
    from exporter.sources.jmx.jvm import start_jvm

    start_jvm()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as scratch, start("trino", args.scale) as coordinator:
        for pack in args.packs:
            print(f"{pack} ...", file=sys.stderr, flush=True)
            results[pack] = measure_pack(coordinator, pack_path(pack, Path(scratch)), args.rounds, args.warmup)
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
