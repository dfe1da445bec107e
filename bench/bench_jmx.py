"""What a scrape costs over JMX/RMI compared with airlift's REST endpoint, for the same beans and rule pack.

    python bench/bench_jmx.py [--profile trino] [--scale 1] [--scrapes 15] [--packs coordinator,patterns,everything]

Starts one fixture coordinator (``tests/fixture``: the same MBeans served over REST and JMX), then for every rule
pack runs each path in its own child process - the exporter's real scrape path (config, source, rules, text
rendering) - so the JVM that JPype embeds for JMX never shares a process with the REST measurement. Reported per
pack and path: the first scrape (connection, JIT warm-up, JMX metadata), then the median and p90 of the rest,
the exporter's CPU time per scrape (its embedded JVM included), remote calls per scrape, and peak RSS.

Packs: ``coordinator`` is ``rules/coordinator.yml`` (a literal list of 25 beans: both paths ask for each bean by
name); ``patterns`` selects two domains by ObjectName pattern (JMX queries on the server, REST has to download
every bean and filter); ``everything`` exports every bean with one catch-all rule.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DOMAINS = {"prestodb": "com.facebook.presto", "prestosql": "presto", "trino": "trino"}


def pack_files(profile: str, directory: Path) -> dict[str, Path]:
    domain = DOMAINS[profile]
    patterns = directory / "patterns.yml"
    patterns.write_text(
        f"includeObjectNames: ['{domain}.execution:*', '{domain}.memory:*']\nrules:\n  - pattern: '.*'\n"
    )
    everything = directory / "everything.yml"
    everything.write_text("rules:\n  - pattern: '.*'\n")
    return {"coordinator": ROOT / "rules" / "coordinator.yml", "patterns": patterns, "everything": everything}


class CountingSource:
    """Wraps a source to record what each fetch cost (the seam the scraper takes as a constructor argument)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.fetches: list[dict[str, int]] = []

    @property
    def description(self) -> str:
        return str(self.inner.description)

    def fetch(self, request: Any, deadline: float) -> Any:
        snapshot = self.inner.fetch(request, deadline)
        self.fetches.append(
            {"beans": len(snapshot.beans), "calls": snapshot.requests, "bytes": snapshot.bytes_read}
        )
        return snapshot

    def config_reloaded(self, config: object) -> None:
        self.inner.config_reloaded(config)

    def close(self) -> None:
        self.inner.close()


def run_child(target: str, config: str, scrapes: int, timeout: float) -> dict[str, Any]:
    """One path, in this (child) process: ``scrapes`` scrapes through the exporter's own Scraper."""
    from exporter.scrape.scraper import Scraper
    from exporter.scrape.watcher import ConfigWatcher
    from exporter.sources.factory import open_source
    from exporter.sources.jmx.settings import JmxClientSettings
    from exporter.sources.rest.settings import HttpSettings
    from exporter.sources.settings import SourceSettings

    settings = SourceSettings(
        target, HttpSettings(user="bench", connect_timeout=5.0, max_body_bytes=256 * 1024 * 1024),
        JmxClientSettings(connect_timeout=5.0, call_timeout=timeout),
    )
    watcher = ConfigWatcher(config)
    source = CountingSource(open_source(settings, watcher.config))
    scraper = Scraper(watcher, source, timeout=timeout)
    rounds = []
    try:
        for _ in range(scrapes):
            wall, cpu = time.perf_counter(), time.process_time()
            result = scraper.scrape()
            size = len(result.body())
            rounds.append(
                {
                    "seconds": time.perf_counter() - wall,
                    "cpu": time.process_time() - cpu,
                    "error": result.error,
                    "exposition_bytes": size,
                    **(source.fetches[-1] if source.fetches else {}),
                }
            )
    finally:
        source.close()
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rounds": rounds, "max_rss_mib": rss_kib / 1024}


def measure(path: str, target: str, config: Path, scrapes: int, timeout: float) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))))
    env.setdefault("PJE_LOG_LEVEL", "WARNING")
    done = subprocess.run(
        [sys.executable, __file__, "--child", target, "--config", str(config), "--scrapes", str(scrapes),
         "--timeout", str(timeout)],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=scrapes * timeout + 120,
    )
    if done.returncode != 0:
        raise SystemExit(f"{path} child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def summarise(pack: str, path: str, result: dict[str, Any]) -> dict[str, Any]:
    rounds = result["rounds"]
    errors = [r["error"] for r in rounds if r["error"]]
    rest = rounds[1:] or rounds
    seconds = sorted(r["seconds"] for r in rest)
    return {
        "pack": pack,
        "path": path,
        "beans": rounds[-1].get("beans", 0),
        "first_s": rounds[0]["seconds"],
        "median_s": statistics.median(seconds),
        "p90_s": seconds[min(len(seconds) - 1, int(0.9 * len(seconds)))],
        "cpu_s": statistics.median(r["cpu"] for r in rest),
        "calls": rest[-1].get("calls", 0),
        "read_bytes": rest[-1].get("bytes", 0),
        "exposition_bytes": rest[-1]["exposition_bytes"],
        "max_rss_mib": result["max_rss_mib"],
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
    }


def table(rows: list[dict[str, Any]]) -> str:
    head = ("pack", "path", "beans", "first s", "median s", "p90 s", "CPU s", "calls", "read KiB", "out KiB", "RSS MiB")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = (
            r["pack"], r["path"], str(r["beans"]), f"{r['first_s']:.2f}", f"{r['median_s']:.3f}",
            f"{r['p90_s']:.3f}", f"{r['cpu_s']:.3f}", str(r["calls"]),
            f"{r['read_bytes'] / 1024:.0f}" if r["read_bytes"] else "-",
            f"{r['exposition_bytes'] / 1024:.0f}", f"{r['max_rss_mib']:.0f}",
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", choices=sorted(DOMAINS), default="trino")
    parser.add_argument("--scale", type=int, choices=(0, 1, 2), default=1)
    parser.add_argument("--scrapes", type=int, default=15)
    parser.add_argument("--timeout", type=float, default=30.0, help="scrape timeout in seconds")
    parser.add_argument("--packs", default="coordinator,patterns,everything")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    parser.add_argument("--child", metavar="TARGET", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_child(args.child, args.config, args.scrapes, args.timeout)))
        return 0

    from tests.fixture.process import start_coordinator

    rows = []
    with tempfile.TemporaryDirectory() as scratch, start_coordinator(args.profile, args.scale) as coordinator:
        packs = pack_files(args.profile, Path(scratch))
        for pack in args.packs.split(","):
            for path, target in (("rest", coordinator.http_url), ("jmx", coordinator.jmx_url)):
                result = measure(path, target, packs[pack], args.scrapes, args.timeout)
                rows.append(summarise(pack, path, result))
                print(f"{pack}/{path}: median {rows[-1]['median_s']:.3f}s", file=sys.stderr)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"profile {args.profile}, scale {args.scale}, {args.scrapes} scrapes per row\n")
        print(table(rows))
    return 1 if any(row["errors"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
