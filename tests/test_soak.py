"""Load and soak: ``serve`` (a child process) under 50 concurrent scrapes, and 5,000 scrapes with changing values.

Every scrape must be answered 200 with a complete body, and the process must not grow: its thread count and RSS
(``/proc/PID/status``) over the last 1,000 scrapes are compared with the first 1,000. Nothing here sleeps or times
anything; the coordinator's values change (``tick()``) between batches so each scrape has new numbers to render.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.fixture.process import FixtureCoordinator
from tests.helpers.serving import Serve, parse, rule_series, serving
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.jvm

QUERY_MANAGER = "trino.execution:name=QueryManager"
# One sizeable bean fetched by name (about 300 series): a realistic scrape that costs a few milliseconds.
CONFIG = f"""\
includeObjectNames: ['{QUERY_MANAGER}']
rules:
  - pattern: 'trino.execution<name=QueryManager><>([\\w.]+):'
    name: trino_queries_$1
"""
MOVING = "trino_queries_StartedQueries_TotalCount"
SOAK_SCRAPES = 5000
BATCH = 50  # scrapes between two readings of /proc
TICK_EVERY = 5  # batches between two changes of the coordinator's values
CLIENTS = 8  # concurrent keep-alive clients during the soak
WINDOW = 1000  # the first and the last this many scrapes are compared
THREAD_TOLERANCE = 2
RSS_TOLERANCE = 8 * 1024 * 1024
OK_LINE = re.compile(rb"^jmx_scrape_error 0\.0$", re.M)


def proc_status(pid: int) -> tuple[int, int]:
    """(threads, resident bytes) of a process, from /proc/PID/status."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return int(fields["Threads"]), int(fields["VmRSS"].split()[0]) * 1024


@pytest.fixture(scope="module")
def coordinator(private_trino_coordinator: FixtureCoordinator) -> FixtureCoordinator:
    """A private coordinator: the soak ticks it."""
    return private_trino_coordinator


@pytest.fixture(scope="module")
def exporter(coordinator: FixtureCoordinator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    config = tmp_path_factory.mktemp("soak") / "config.yml"
    config.write_text(CONFIG)
    with serving(config, coordinator.http_url, scrape_timeout=20.0) as server:
        yield server


def test_50_concurrent_scrapes_are_all_answered(exporter: Serve) -> None:
    reference = rule_series(exporter.scrape(bound=None))
    assert len(reference) > 200
    threads_before, _ = proc_status(exporter.pid)
    start = threading.Barrier(50)
    bodies: list[str | None] = [None] * 50

    def one(index: int) -> None:
        start.wait(60)
        with requests.Session() as session:  # a connection of its own, as 50 Prometheus servers would have
            response = session.get(exporter.url + "/metrics", timeout=60)
        assert response.status_code == 200
        bodies[index] = response.text

    with ThreadPoolExecutor(max_workers=50) as pool:
        for future in [pool.submit(one, index) for index in range(50)]:
            future.result()
    for body in bodies:
        assert body is not None
        samples = parse(body)
        assert samples[("jmx_scrape_error", ())] == 0.0
        assert rule_series(body).keys() == reference.keys()
    # Connections closed: the handler threads end, nothing stays behind.
    wait_until(lambda: proc_status(exporter.pid)[0] <= threads_before, 30, "the handler threads to end")
    assert exporter.alive()


def test_soak_of_5000_scrapes_with_changing_values(coordinator: FixtureCoordinator, exporter: Serve) -> None:
    local = threading.local()
    sessions: list[requests.Session] = []
    lock = threading.Lock()

    def scrape(_: int) -> bytes:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            with lock:
                sessions.append(session)
        response = session.get(exporter.url + "/metrics", timeout=60)
        assert response.status_code == 200
        return response.content

    coordinator.reset_stats()
    readings: list[tuple[int, int, int]] = []  # (scrapes so far, threads, rss)
    answered = 0
    seen_values: set[float] = set()
    try:
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            for batch in range(SOAK_SCRAPES // BATCH):
                if batch and batch % TICK_EVERY == 0:
                    coordinator.tick()
                bodies = list(pool.map(scrape, range(BATCH)))
                for body in bodies:
                    assert OK_LINE.search(body), body[-2000:]
                answered += len(bodies)
                seen_values.add(parse(bodies[-1].decode())[(MOVING, ())])
                readings.append((answered, *proc_status(exporter.pid)))
    finally:
        for session in sessions:
            session.close()
    assert answered == SOAK_SCRAPES
    assert exporter.alive()
    assert len(seen_values) >= SOAK_SCRAPES // (BATCH * TICK_EVERY) - 1, "the values changed as the coordinator ticked"
    fetches = coordinator.stats()["routes"]["bean"]["requests"]
    assert SOAK_SCRAPES // BATCH <= fetches <= SOAK_SCRAPES, "concurrent scrapes share fetches, every batch fetches"

    first = [r for r in readings if r[0] <= WINDOW]
    last = [r for r in readings if r[0] > SOAK_SCRAPES - WINDOW]
    first_threads, last_threads = max(r[1] for r in first), max(r[1] for r in last)
    first_rss, last_rss = max(r[2] for r in first), max(r[2] for r in last)
    report = f"threads {first_threads} -> {last_threads}, RSS {first_rss >> 20} MiB -> {last_rss >> 20} MiB"
    print(report)
    assert last_threads <= first_threads + THREAD_TOLERANCE, report
    assert last_rss <= first_rss + RSS_TOLERANCE, report
