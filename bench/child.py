"""The exporter under test, as a child process: ``python -m exporter serve`` (the installed presto-jmx-exporter)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import requests

ROOT = Path(__file__).resolve().parents[1]
# What the container image sets (Dockerfile), so the figures are the image's.
IMAGE_MALLOC = {"MALLOC_ARENA_MAX": "1", "MALLOC_MMAP_THRESHOLD_": "4194304", "MALLOC_TRIM_THRESHOLD_": "4194304"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ExporterChild:
    """``serve`` on 127.0.0.1 with a config and a target; stopped (SIGTERM, then SIGKILL) by its PID on exit."""

    def __init__(self, config: Path, target: str, extra: tuple[str, ...] = (), ready_timeout: float = 90.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))))
        env.update(IMAGE_MALLOC)
        command = [
            sys.executable, "-m", "exporter", "serve", "--config", str(config), "--target", target,
            "--listen", f"127.0.0.1:{self.port}", "--user", "bench", "--scrape-timeout", "60",
            "--log-level", "WARNING", *extra,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.pid = self.process.pid
        self.session = requests.Session()
        self._wait_ready(ready_timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"exporter exited {self.process.returncode}: {self._stderr()}")
            try:
                if self.session.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)  # polling a condition with a deadline
        self.stop()
        raise RuntimeError(f"exporter not ready within {timeout}s")

    def scrape(self) -> bytes:
        """One GET /metrics; raises when the exporter reports a failed scrape."""
        response = self.session.get(self.url + "/metrics", timeout=120)
        response.raise_for_status()
        if b"\njmx_scrape_error 0.0\n" not in response.content:
            raise RuntimeError("the exporter reported a failed scrape")
        return response.content

    def _stderr(self) -> str:
        if self.process.stderr is None:
            return ""
        return self.process.stderr.read().decode(errors="replace")[-2000:]

    def stop(self) -> None:
        self.session.close()
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.process.wait(10)
        if self.process.stderr is not None:
            self.process.stderr.close()

    def __enter__(self) -> ExporterChild:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
