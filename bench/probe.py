"""One exporter probing many workers, next to a single-target exporter: ``python -m bench.probe``.

    python -m bench.probe [--targets 100] [--rounds 3] [--soak-rounds 240] [--json FILE]

``bench.workers_fake`` serves ``--targets`` static workers (and spares for the soak's churn). Two exporters run as
child processes (``python -m exporter serve``, the image's malloc settings), both with ``rules/worker.yml``:

- single: ``--target`` one fake worker; ``GET /metrics`` timed ``rounds x targets`` times;
- probing: ``--module worker=rules/worker.yml --probe-allow 127.0.0.1``; ``GET /probe?target=...&module=worker``
  for every target in turn, ``rounds`` times, after two warm-up rounds (each target's state made, and the one
  retry of the listed beans a worker does not have done, as the single exporter's warm-up does).

Both run at once and their requests alternate (a scrape, then a probe), so the machine's other load weighs on both
alike. Measured from the outside: CPU (/proc) per scrape and per probe, wall time, and the probing exporter's
resident memory with no target and with every target active, and its threads. Then the soak, an hour of
Prometheus probing every target every 15 s with a compressed clock: ``--soak-rounds`` rounds back to back (240 = one
hour), 4 probes at a time, 10 targets swapped for spares every 40 rounds (ten simulated minutes) and
``--probe-idle`` shortened so that the swapped-out ones are dropped within the run; resident memory every 20
rounds. Last, 20 probes of one target at the same moment while it answers 0.5 s late: the requests it served, in
fetches of one probe's requests.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import procinfo  # noqa: E402
from bench.child import ExporterChild  # noqa: E402

PACK = ROOT / "rules" / "worker.yml"
SPARES = 30


class WorkersFake:
    """``bench.workers_fake`` as a child process, stopped by its PID."""

    def __init__(self, count: int) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))))
        self.process = subprocess.Popen([sys.executable, "-m", "bench.workers_fake", "--count", str(count)], cwd=ROOT,
                                        env=env, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)  # fmt: skip
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # the fake prints its ports once it listens
        if not line:
            raise RuntimeError(f"the workers fake exited with {self.process.wait()}")
        self.ports: list[int] = orjson.loads(line)["ports"]
        self.session = requests.Session()

    def url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}"

    def control(self, method: str, path: str) -> Any:
        response = self.session.request(method, self.url(self.ports[0]) + path, timeout=30)
        response.raise_for_status()
        return response.json()

    def requests_of(self, port: int) -> int:
        return int(self.control("GET", "/fake/stats").get(str(port), 0))

    def stop(self) -> None:
        self.session.close()
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def probe(session: requests.Session, exporter: ExporterChild, target: str) -> bytes:
    response = session.get(exporter.url + "/probe", params={"target": target, "module": "worker"}, timeout=60)
    response.raise_for_status()
    if b"\njmx_scrape_error 0.0\n" not in response.content:
        raise RuntimeError(f"the probe of {target} failed")
    return response.content


def _series(body: bytes) -> int:
    return sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))


def side_by_side(fake: WorkersFake, targets: list[str], rounds: int) -> dict[str, Any]:
    """Both exporters at once, their requests interleaved (one ``/metrics`` scrape of the single exporter, then one
    probe), so that what else the machine does weighs on both alike."""
    extra = ("--module", f"worker={PACK}", "--probe-allow", "127.0.0.1")
    with ExporterChild(PACK, fake.url(fake.ports[0])) as one, \
            ExporterChild(PACK, fake.url(fake.ports[0]), extra) as many, requests.Session() as session:  # fmt: skip
        for _ in range(5):
            one.scrape()
        many.scrape()
        idle_rss = procinfo.memory(many.pid).rss_mib
        for _ in range(2):  # warm-up, as the single exporter's: each target's discovery, then the one retry of the
            for target in targets:  # beans it does not have (then backed off), and its source, memo and layout
                probe(session, many, target)
        walls: dict[str, list[float]] = {"single": [], "probing": []}
        cpu = {"single": procinfo.cpu_seconds(one.pid), "probing": procinfo.cpu_seconds(many.pid)}
        for _ in range(rounds):
            for target in targets:
                started = time.perf_counter()
                single_body = one.scrape()
                walls["single"].append(time.perf_counter() - started)
                started = time.perf_counter()
                probe_body = probe(session, many, target)
                walls["probing"].append(time.perf_counter() - started)
        cpu = {"single": procinfo.cpu_seconds(one.pid) - cpu["single"],
               "probing": procinfo.cpu_seconds(many.pid) - cpu["probing"]}  # fmt: skip
        active = procinfo.memory(many.pid)
        single_rss = procinfo.memory(one.pid).rss_mib
        concurrent = _concurrent(fake, many, targets[0])
    requests_timed = rounds * len(targets)
    single = {"scrapes": requests_timed, "cpu_s": cpu["single"] / requests_timed,
              "median_s": statistics.median(walls["single"]), "rss_mib": single_rss, "series": _series(single_body)}
    probing = {"targets": len(targets), "probes": requests_timed, "cpu_s": cpu["probing"] / requests_timed,
               "median_s": statistics.median(walls["probing"]), "rss_idle_mib": idle_rss,
               "rss_active_mib": active.rss_mib, "rss_per_target_mib": (active.rss_mib - idle_rss) / len(targets),
               "threads_active": active.threads, "series": _series(probe_body), "concurrent": concurrent}
    return {"single": single, "probing": probing}  # fmt: skip


def _concurrent(fake: WorkersFake, exporter: ExporterChild, target: str, clients: int = 20) -> dict[str, float]:
    """``clients`` probes of ``target`` at the same moment while it answers 0.5 s late: the requests it served."""
    port = int(target.rsplit(":", 1)[1])
    with requests.Session() as session:
        before = fake.requests_of(port)
        probe(session, exporter, target)
        per_probe = fake.requests_of(port) - before
    fake.control("POST", f"/fake/slow?port={port}&delay=0.5")
    barrier = threading.Barrier(clients)
    errors: list[BaseException] = []

    def one() -> None:
        with requests.Session() as session:
            try:
                session.get(exporter.url + "/healthz", timeout=30)  # connected first, as Prometheus is
                barrier.wait(30)
                probe(session, exporter, target)
            except BaseException as exc:  # reported below
                errors.append(exc)

    before = fake.requests_of(port)
    threads = [threading.Thread(target=one) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    fake.control("POST", f"/fake/slow?port={port}&delay=0")
    if errors:
        raise RuntimeError(f"a concurrent probe failed: {errors[0]!r}")
    served = fake.requests_of(port) - before
    return {"clients": clients, "requests": served, "per_probe": per_probe, "fetches": served / per_probe}


def soak(fake: WorkersFake, count: int, rounds: int, idle: float) -> dict[str, Any]:
    """``rounds`` rounds of probing ``count`` targets (one round is 15 simulated seconds), 4 at a time, 10 swapped
    for spares every 40 rounds; resident memory every 20 rounds."""
    pool = [fake.url(port) for port in fake.ports]
    active = pool[:count]
    spares = pool[count:]
    extra = ("--module", f"worker={PACK}", "--probe-allow", "127.0.0.1", "--probe-idle", str(idle))
    series: dict[int, float] = {}
    started = time.monotonic()
    with ExporterChild(PACK, fake.url(fake.ports[0]), extra) as exporter, ThreadPoolExecutor(4) as executor:
        sessions = threading.local()

        def one(target: str) -> None:
            if not hasattr(sessions, "session"):
                sessions.session = requests.Session()
            probe(sessions.session, exporter, target)

        for done in range(1, rounds + 1):
            list(executor.map(one, active))
            if done % 40 == 0 and spares:
                out, active = active[:10], active[10:] + spares[:10]
                spares = spares[10:] + out
            if done % 20 == 0 or done == 1:
                series[done] = procinfo.memory(exporter.pid).rss_mib
        final = procinfo.memory(exporter.pid)
    return {"rounds": rounds, "probes": rounds * count, "simulated_minutes": rounds * 15 / 60,
            "wall_s": time.monotonic() - started, "rss_series": series, "rss_first_mib": series[min(series)],
            "rss_last_mib": final.rss_mib, "hwm_mib": final.hwm_mib}  # fmt: skip


def report(figures: dict[str, Any]) -> str:
    s, p, k = figures["single"], figures["probing"], figures.get("soak")
    ratio = p["cpu_s"] / s["cpu_s"]
    budget = 60 + p["targets"]
    lines = [
        "| exporter | requests timed | CPU ms each | median ms | series | RSS MiB |",
        "|---|---|---|---|---|---|",
        f"| single target, GET /metrics | {s['scrapes']} | {s['cpu_s'] * 1000:.2f} | {s['median_s'] * 1000:.1f} | "
        f"{s['series']} | {s['rss_mib']:.0f} |",
        f"| {p['targets']} targets, GET /probe | {p['probes']} | {p['cpu_s'] * 1000:.2f} | {p['median_s'] * 1000:.1f} "
        f"| {p['series']} | {p['rss_active_mib']:.0f} |",
        "",
        f"- CPU per probe / CPU per /metrics scrape: {ratio:.2f} (target: at most 1.2)",
        f"- RSS of the probing exporter: {p['rss_idle_mib']:.1f} MiB with no target, {p['rss_active_mib']:.1f} MiB "
        f"with {p['targets']} active, {p['rss_per_target_mib'] * 1024:.0f} KiB per active target (target: at most "
        f"60 MB + 1 MB per target, {budget} MB here); {p['threads_active']} threads",
        f"- {p['concurrent']['clients']} concurrent probes of one target: {p['concurrent']['requests']} requests, "
        f"{p['concurrent']['fetches']:.0f} fetch of {p['concurrent']['per_probe']} requests (target: 1 fetch)",
    ]
    if k:
        steps = ", ".join(f"{rss:.1f}" for rss in k["rss_series"].values())
        lines.append(f"- soak: {k['probes']:,} probes ({k['simulated_minutes']:.0f} simulated minutes) in "
                     f"{k['wall_s']:.0f} s; RSS MiB {k['rss_first_mib']:.1f} after the first round, "
                     f"{k['rss_last_mib']:.1f} at the end, peak {k['hwm_mib']:.1f}; every 20 rounds: {steps}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.probe", description=__doc__.split("\n")[0])
    parser.add_argument("--targets", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds over every target")
    parser.add_argument("--soak-rounds", type=int, default=240, help="soak rounds, 15 simulated s each (0: none)")
    parser.add_argument("--soak-idle", type=float, default=5.0, help="--probe-idle of the soak's exporter")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    fake = WorkersFake(args.targets + SPARES)
    try:
        targets = [fake.url(port) for port in fake.ports[: args.targets]]
        figures: dict[str, Any] = side_by_side(fake, targets, args.rounds)
        if args.soak_rounds:
            figures["soak"] = soak(fake, args.targets, args.soak_rounds, args.soak_idle)
    finally:
        fake.stop()
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(report(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
