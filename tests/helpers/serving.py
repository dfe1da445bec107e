"""``presto-jmx-exporter serve`` as a child process on 127.0.0.1, and the exposition parsed back into samples.

:class:`Serve` keeps the child's stdout and stderr in a file. :data:`RULES` exports trino's memory pools, cluster
memory manager and query manager.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.packs import SELF_METRICS
from tests.helpers.ports import free_port
from tests.helpers.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
SCRAPE_TIMEOUT = 1.5
# A scrape may overrun its budget by the time it takes to render and send the failure answer.
BOUND = SCRAPE_TIMEOUT + 1.0
RULES = """\
rules:
  - pattern: 'trino.memory<type=ClusterMemoryPool, name=(.*)><>(\\w+):'
    name: trino_pool_$2
    labels: {pool: $1}
  - pattern: 'trino.memory<name=ClusterMemoryManager><>(\\w+):'
    name: trino_cluster_memory_$1
  - pattern: 'trino.execution<name=QueryManager><>(\\w+):'
    name: trino_queries_$1
"""


def child_env(**extra: str) -> dict[str, str]:
    """The test's environment without any PJE_ setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PJE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env


class Serve:
    """``presto-jmx-exporter serve`` in a child process on 127.0.0.1, its stdout and stderr in ``log_path``."""

    def __init__(
        self,
        config: Path,
        target: str,
        *extra: str,
        env: dict[str, str] | None = None,
        scrape_timeout: float = SCRAPE_TIMEOUT,
        ready_timeout: float = 60.0,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = config.parent / f"serve-{self.port}.log"
        self._log_file = self.log_path.open("wb")
        self._mark = 0
        self.session = requests.Session()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "exporter", "serve", "--config", str(config), "--target", target,
             "--listen", f"127.0.0.1:{self.port}", "--scrape-timeout", str(scrape_timeout), "--connect-timeout", "1",
             *extra],
            stdout=self._log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT,
            env=env if env is not None else child_env(),
        )
        try:
            wait_until(self._healthy, ready_timeout, "the exporter to serve /healthz")
        except BaseException:
            self.stop()
            raise

    @property
    def pid(self) -> int:
        return self.process.pid

    def _healthy(self) -> bool:
        assert self.process.poll() is None, f"serve exited with {self.process.returncode}:\n{self.log()}"
        try:
            return requests.get(self.url + "/healthz", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return self.session.get(self.url + path, timeout=60, **kwargs)  # type: ignore[arg-type]

    def scrape(self, bound: float | None = BOUND) -> str:
        """One ``/metrics``: asserts 200 (and, with ``bound``, that it came within that many seconds)."""
        started = time.monotonic()
        response = self.get("/metrics")
        elapsed = time.monotonic() - started
        assert response.status_code == 200, response.text
        if bound is not None:
            assert elapsed < bound, f"/metrics took {elapsed:.2f}s, more than {bound}s"
        return response.text

    def log(self) -> str:
        if not self._log_file.closed:
            self._log_file.flush()
        return self.log_path.read_text(errors="replace")

    def new_log_lines(self) -> list[str]:
        """Log lines written since the previous call."""
        text = self.log()
        fresh, self._mark = text[self._mark:], len(text)
        return fresh.splitlines()

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> int:
        """SIGTERM, then SIGKILL by PID if it has not exited within 15 s; returns the exit code."""
        self.session.close()
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self._log_file.close()
        return int(self.process.returncode)


@contextlib.contextmanager
def serving(config: Path, target: str, *extra: str, **kwargs: object) -> Iterator[Serve]:
    """A :class:`Serve` that must still be running at the end, and must then stop with exit code 0."""
    server = Serve(config, target, *extra, **kwargs)  # type: ignore[arg-type]
    try:
        yield server
        assert server.alive(), f"serve died:\n{server.log()}"
    finally:
        code = server.stop()
    assert code == 0, server.log()


def parse(text: str, openmetrics: bool = False) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample as (name, sorted labels) -> value, through prometheus_client's parser."""
    parser = parse_openmetrics if openmetrics else text_string_to_metric_families
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in parser(text)
        for sample in family.samples
    }


def value(text: str, name: str) -> float:
    """The value of the unlabelled sample ``name``."""
    return parse(text)[(name, ())]


def rule_series(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], str]:
    """The samples the rules produced (self metrics left out), values as text so NaN equals NaN."""
    return {key: repr(v) for key, v in parse(text).items() if key[0] not in SELF_METRICS}
