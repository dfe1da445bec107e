"""Packs (a) and (b) against a coordinator that answers like a static server: the exporter's cost without the fixture's.

    python -m bench.static_coordinator [--packs trino,coordinator] [--scrapes 30] [--runs 3]

The fixture coordinator builds every per-bean answer in Python, with a JVM behind it, while the floor is one GET
from a static server. So the (a) and (b) rows of ``bench.run`` measure the fixture's work as well as the
exporter's. This script captures the fixture's answers to every request a pack makes (scale 1, two ticks apart,
absent beans' errors included). It serves them from a static HTTP/1.1 server in a child process, written like the
floor's: one path per bean, the two captures in turn, so every value moves between scrapes. Then it measures the
exporter against that server, next to the same floor as ``bench.run``, in rounds paired the same way.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import orjson
import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import fixture, floor  # noqa: E402
from bench.child import ExporterChild  # noqa: E402
from bench.run import PACKS, measure, pack_path  # noqa: E402

MBEAN_PATH = "/v1/jmx/mbean"
Answers = dict[str, list[tuple[int, str]]]  # request path (unquoted) -> (status, body) per capture


def capture(coordinator: Any, names: list[str], generations: int = 2) -> Answers:
    """The fixture's answer to each bean request, ``generations`` times with a tick between."""
    answers: Answers = {f"{MBEAN_PATH}/{name}": [] for name in names}
    with requests.Session() as session:
        session.headers["X-Trino-User"] = "bench"
        for _ in range(generations):
            coordinator.tick()
            for name in names:
                response = session.get(f"{coordinator.http_url}{MBEAN_PATH}/{quote(name, safe='')}")
                answers[f"{MBEAN_PATH}/{name}"].append((response.status_code, response.text))
    return answers


@dataclass(frozen=True)
class CapturedPack:
    """A pack's captured answers, the bean names the coordinator has (in ``answers`` order), and the floor's body:
    their first captures as one JSON array."""

    answers: Answers
    found: list[str]
    body: bytes

    def urls(self, base: str) -> list[str]:
        """The found beans' URLs on the server at ``base``."""
        return [f"{base}{MBEAN_PATH}/{quote(name, safe='')}" for name in self.found]


def capture_pack(coordinator: Any, pack: str, scratch: Path) -> CapturedPack:
    """The fixture's answers to every bean the pack lists (absent ones included), captured two ticks apart."""
    from exporter.config.loader import load_config

    names = load_config(pack_path(pack, scratch)).literal_object_names()
    if names is None:
        raise SystemExit(f"pack {pack} does not list its beans: nothing to serve statically")
    answers = capture(coordinator, sorted(names))
    found = [name for name in sorted(names) if answers[f"{MBEAN_PATH}/{name}"][0][0] == 200]
    body = b"[" + b",".join(answers[f"{MBEAN_PATH}/{name}"][0][1].encode() for name in found) + b"]"
    return CapturedPack(answers, found, body)


class NoTickCoordinator:
    """What ``bench.run.measure`` asks of a coordinator, for one that needs no tick: its answers move by themselves."""

    def tick(self) -> None:
        return None

    def reset_stats(self) -> None:
        return None


class StaticServer(floor.ServerProcess):
    """``answers`` served by a child process (``python -m bench.static_coordinator --serve FILE``)."""

    def __init__(self, answers: Answers, scratch: Path) -> None:
        path = scratch / "answers.json"
        path.write_bytes(orjson.dumps(answers))
        super().__init__("bench.static_coordinator", "--serve", str(path))
        self.url = f"http://127.0.0.1:{self.port}"


def _serve(path: Path) -> None:
    answers = {key: [(status, body.encode()) for status, body in captured]
               for key, captured in orjson.loads(path.read_bytes()).items()}  # fmt: skip
    served = dict.fromkeys(answers, 0)

    def answer(request_path: str) -> tuple[int, bytes]:
        key = unquote(request_path.split("?", 1)[0])
        captured = answers.get(key)
        if captured is None:
            return 404, b"Not Found"
        served[key] += 1  # the captures in turn: every value moves between scrapes
        return captured[(served[key] - 1) % len(captured)]

    floor.serve_static(answer)


def run(packs: list[str], scrapes: int, runs: int) -> list[dict[str, Any]]:
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-static-") as scratch_name:
        scratch = Path(scratch_name)
        coordinator = fixture.start("trino", 1)
        try:
            captured = {pack: capture_pack(coordinator, pack, scratch) for pack in packs}
        finally:
            coordinator.stop()
        for pack in packs:
            pack_answers = captured[pack]
            for index in range(runs):
                with StaticServer(pack_answers.answers, scratch) as server, \
                        ExporterChild(pack_path(pack, scratch), server.url) as exporter, \
                        floor.FloorServer(pack_answers.body) as floor_server:  # fmt: skip
                    figures = measure(NoTickCoordinator(), exporter, scrapes, False, floor_server)
                    floor_s = floor_server.result().median_s
                results.append({"pack": pack, "run": index + 1, "beans": len(pack_answers.found),
                                "paths": len(pack_answers.answers), "kib": len(pack_answers.body) / 1024,
                                "floor_s": floor_s, **figures})  # fmt: skip
                print(_line(results[-1]), flush=True)
    return results


def _line(result: dict[str, Any]) -> str:
    return (
        f"| {PACKS[result['pack']]} | {result['run']} | {result['paths']} ({result['beans']} found) | "
        f"{result['kib']:.0f} | {result['median_s'] * 1e3:.1f} | {result['inside_s'] * 1e3:.1f} | "
        f"{result['cpu_s'] * 1e3:.1f} | {result['floor_s'] * 1e3:.1f} | {result['median_s'] / result['floor_s']:.2f} |"
    )


def pack_runs_parser(prog: str, doc: str | None, runs_help: str) -> argparse.ArgumentParser:
    """The options of the scripts that start the exporter ``--runs`` times per pack."""
    parser = argparse.ArgumentParser(prog=prog, description=(doc or "").split("\n")[0])
    parser.add_argument("--packs", default="trino,coordinator", type=lambda s: [p for p in s.split(",") if p],
                        help="comma-separated: trino (a), coordinator (b)")
    parser.add_argument("--scrapes", type=int, default=30, help="timed scrapes per run")
    parser.add_argument("--runs", type=int, default=3, help=f"{runs_help} per pack")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = pack_runs_parser("python -m bench.static_coordinator", __doc__, "exporter starts")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # the static server's child process
    args = parser.parse_args(argv)
    if args.serve is not None:
        _serve(args.serve)
        return 0
    print("| pack | run | requests | KiB | median ms | inside ms | CPU ms | floor ms | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    results = run(args.packs, args.scrapes, args.runs)
    for pack in args.packs:
        ratios = [r["median_s"] / r["floor_s"] for r in results if r["pack"] == pack]
        print(f"{PACKS[pack]}: median ratio {statistics.median(ratios):.2f} over {len(ratios)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
