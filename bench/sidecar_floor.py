"""The least any sidecar pays for packs (a) and (b): ``python -m bench.sidecar_floor``.

    python -m bench.sidecar_floor [--packs trino,coordinator] [--scrapes 30] [--runs 3] [--static]

A sidecar stands between Prometheus and the coordinator, so one scrape is two round trips in a row, and airlift
answers one bean per request. This script measures a sidecar that does nothing else (:mod:`bench.null_sidecar`)
beside the floor of ``bench.run`` (one GET of the same bytes plus ``orjson.loads``) and the exporter: each round,
after a fixture ``tick`` each, times all three, in an order that turns every round. The null sidecar's ratio to
the floor is the part of the 2x target that the two hops and the per-bean requests use up before any exporter
work; the exporter's ratio to the null sidecar is what its own work costs. With ``--static`` the coordinator is the
fixture's captured answers served statically (:mod:`bench.static_coordinator`), so neither side waits for the
fixture's Python.
"""

from __future__ import annotations

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

from bench import fixture, floor  # noqa: E402
from bench.child import ExporterChild  # noqa: E402
from bench.null_sidecar import NullSidecar  # noqa: E402
from bench.run import PACKS, needed_body, needed_urls, pack_path  # noqa: E402
from bench.static_coordinator import (  # noqa: E402
    MBEAN_PATH,
    NoTickCoordinator,
    StaticServer,
    capture_pack,
    pack_runs_parser,
)


def _timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def run(packs: list[str], scrapes: int, runs: int, static: bool) -> list[dict[str, Any]]:
    """``runs`` starts per pack against the fixture coordinator, or against its captured answers (``static``)."""
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-sidecar-") as scratch_name:
        scratch = Path(scratch_name)
        coordinator = fixture.start("trino", 1)
        try:
            if static:
                captured = {pack: capture_pack(coordinator, pack, scratch) for pack in packs}
            for pack in packs if not static else ():
                urls = needed_urls(coordinator, pack_path(pack, scratch))
                if urls == [coordinator.http_url + MBEAN_PATH]:
                    raise SystemExit(f"pack {pack} does not list its beans: the null sidecar fetches them by name")
                body = needed_body(coordinator, urls)
                results += _runs(pack, coordinator, coordinator.http_url, urls, body, scratch, scrapes, runs)
        finally:
            coordinator.stop()
        for pack in packs if static else ():  # the fixture stopped: it would only take CPU from the rows
            pack_answers = captured[pack]
            with StaticServer(pack_answers.answers, scratch) as server:
                results += _runs(pack, NoTickCoordinator(), server.url, pack_answers.urls(server.url),
                                 pack_answers.body, scratch, scrapes, runs)  # fmt: skip
    return results


def _runs(
    pack: str, coordinator: Any, target: str, urls: list[str], body: bytes, scratch: Path, scrapes: int, runs: int
) -> list[dict[str, Any]]:
    results = []
    for index in range(runs):
        with ExporterChild(pack_path(pack, scratch), target) as exporter, NullSidecar(urls, scratch) as sidecar, \
                floor.FloorServer(body) as floor_server:  # fmt: skip
            results.append({"pack": pack, "run": index + 1, "requests": len(urls),
                            **_rounds(coordinator, floor_server, sidecar, exporter, scrapes)})  # fmt: skip
        print(_line(results[-1]), flush=True)
    return results


def _rounds(
    coordinator: Any, floor_server: floor.FloorServer, sidecar: NullSidecar, exporter: ExporterChild, scrapes: int
) -> dict[str, float]:
    """``scrapes`` rounds of floor, null sidecar and exporter, each after a tick; medians in seconds."""
    for _ in range(3):  # connections, discovery, the exporter's first layout
        sidecar.scrape()
        exporter.scrape()
    measured: dict[str, Callable[[], object]] = {
        "floor_s": floor_server.round, "sidecar_s": sidecar.scrape, "exporter_s": exporter.scrape,
    }  # fmt: skip
    names = list(measured)
    walls: dict[str, list[float]] = {name: [] for name in names}
    for index in range(scrapes):
        for name in names[index % 3 :] + names[: index % 3]:  # each goes first, second and last in turn
            coordinator.tick()
            walls[name].append(_timed(measured[name]))
    return {name: statistics.median(values) for name, values in walls.items()}


def _line(result: dict[str, Any]) -> str:
    floor_s, sidecar_s, exporter_s = result["floor_s"], result["sidecar_s"], result["exporter_s"]
    return (
        f"| {PACKS[result['pack']]} | {result['run']} | {result['requests']} | {floor_s * 1e3:.1f} | "
        f"{sidecar_s * 1e3:.1f} | {exporter_s * 1e3:.1f} | {sidecar_s / floor_s:.2f} | {exporter_s / floor_s:.2f} | "
        f"{exporter_s / sidecar_s:.2f} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = pack_runs_parser("python -m bench.sidecar_floor", __doc__, "starts of the exporter and the null sidecar")
    parser.add_argument("--static", action="store_true",
                        help="against the fixture's captured answers served statically (bench.static_coordinator)")
    args = parser.parse_args(argv)
    print("| pack | run | requests | floor ms | null sidecar ms | exporter ms | null sidecar / floor | "
          "exporter / floor | exporter / null sidecar |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    results = run(args.packs, args.scrapes, args.runs, args.static)
    for pack in args.packs:
        mine = [r for r in results if r["pack"] == pack]
        print(f"{PACKS[pack]}: median over {len(mine)} runs: null sidecar / floor "
              f"{statistics.median(r['sidecar_s'] / r['floor_s'] for r in mine):.2f}, exporter / floor "
              f"{statistics.median(r['exporter_s'] / r['floor_s'] for r in mine):.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
