"""The GET threads every HTTP client shares: made on demand, reused, ended when idle; many clients, few threads."""

from __future__ import annotations

import threading
import time

import pytest

from exporter.sources.rest.client import HttpClient
from exporter.sources.rest.threads import ElasticThreads
from tests.helpers.canned_server import CannedServer, Reply
from tests.helpers.waiting import wait_until


def test_a_call_runs_and_hands_back_its_result_or_its_exception() -> None:
    threads = ElasticThreads(idle=5)
    assert threads.submit(lambda a, b: a + b, 2, 3).result(5) == 5

    def fail() -> None:
        raise ValueError("from the call")

    with pytest.raises(ValueError, match="from the call"):
        threads.submit(fail).result(5)


def test_threads_are_reused_and_end_when_idle() -> None:
    threads = ElasticThreads(idle=0.3)
    release = threading.Event()
    started = threading.Barrier(4, timeout=5)

    def held() -> None:
        started.wait()
        release.wait(5)

    futures = [threads.submit(held) for _ in range(3)]
    started.wait()  # three calls at once: three threads
    assert threads.threads == 3
    release.set()
    for future in futures:
        future.result(5)
    for _ in range(20):  # one at a time afterwards: the waiting threads take them, no new one is made
        threads.submit(lambda: None).result(5)
    assert threads.threads <= 3
    wait_until(lambda: threads.threads == 0, what="idle threads to end")
    assert threads.submit(lambda: "again").result(5) == "again"  # a new thread once all have ended
    assert threads.threads == 1


def test_paths_not_yet_sent_at_the_deadline_are_never_sent() -> None:
    # One GET in flight at a time, and the first is held past the deadline: the other two fail for want of
    # time without reaching the server.
    seen: list[str] = []
    release = threading.Event()

    def answer(path: str) -> Reply:
        seen.append(path)
        release.wait(10)
        return Reply(body=b"late")

    paths = [f"/v1/jmx/mbean/b{i}" for i in range(3)]
    with CannedServer(answer) as server:
        pool = HttpClient(server.url, {}, parallelism=1, threads=ElasticThreads(idle=5))
        answers = dict(pool.get_many(paths, time.monotonic() + 0.5))
        release.set()
        pool.close()
    assert sorted(answers) == [0, 1, 2]
    assert str(answers[0]) == "timed out waiting for the response"
    assert [str(answers[1]), str(answers[2])] == ["no time left in the scrape budget"] * 2
    assert seen == [paths[0]]


def test_many_clients_share_a_few_threads() -> None:
    # One exporter probing many targets: each client's GETs run on the shared threads, not on threads of its own.
    threads = ElasticThreads(idle=30)
    paths = [f"/v1/jmx/mbean/b{i}" for i in range(4)]
    with CannedServer(lambda path: Reply(body=path.encode())) as server:
        clients = [HttpClient(server.url, {}, parallelism=4, threads=threads) for _ in range(25)]
        for pool in clients:
            answers = dict(pool.get_many(paths, time.monotonic() + 5))
            assert sorted(answers) == [0, 1, 2, 3]
        for pool in clients:
            pool.close()
    assert 1 <= threads.threads <= 4
