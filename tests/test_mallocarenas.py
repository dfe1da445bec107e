"""exporter/mallocarenas.py: the server's threads share one glibc malloc arena.

Each case runs in a fresh interpreter (the limit is process-wide and must be set before threads start), lets six
threads allocate, and counts the arenas glibc's own ``malloc_stats`` reports.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc arenas are glibc's")

_SCRIPT = """
import ctypes, sys, threading
from exporter.mallocarenas import use_one_malloc_arena
print(use_one_malloc_arena() if sys.argv[1] == "limit" else "-", flush=True)
barrier = threading.Barrier(6)
def work():
    barrier.wait(30)
    kept = [bytearray(4096) for _ in range(200)]  # above pymalloc's sizes, below glibc's mmap threshold
    del kept
threads = [threading.Thread(target=work) for _ in range(6)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(30)
ctypes.CDLL(None).malloc_stats()  # writes one "Arena N:" block per arena to stderr
"""


def _arenas(mode: str, env: dict[str, str] | None = None) -> tuple[str, int]:
    # Only the case's own MALLOC_ARENA_MAX: one in the environment running the tests would decide every case.
    inherited = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, mode], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**inherited, "PYTHONPATH": str(ROOT), **(env or {})},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip(), len(re.findall(r"^Arena \d+:", done.stderr, re.M))


def test_threads_get_arenas_of_their_own_by_default() -> None:
    assert _arenas("default")[1] > 1


def test_with_the_limit_every_thread_shares_one_arena() -> None:
    assert _arenas("limit") == ("True", 1)


def test_an_explicit_malloc_arena_max_wins() -> None:
    said, arenas = _arenas("limit", {"MALLOC_ARENA_MAX": "3"})
    assert said == "False"
    assert arenas > 1
