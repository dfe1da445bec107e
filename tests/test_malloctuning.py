"""exporter/malloctuning.py: one glibc malloc arena, and blocks as big as a whole answer given back when freed.

Each case runs in a fresh interpreter (the settings are process-wide and must be made before threads start) and
observes glibc itself: the arenas its ``malloc_stats`` reports, and the resident size after big blocks are freed.
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

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="these are glibc's malloc settings")

_OURS = ("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")

_ARENAS = """
import ctypes, sys, threading
from exporter.malloctuning import tune_malloc
print(",".join(tune_malloc()) if sys.argv[1] == "tune" else "-", flush=True)
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

_BIG_BLOCKS = """
import re, sys
from exporter.malloctuning import tune_malloc
print(",".join(tune_malloc()) if sys.argv[1] == "tune" else "-", flush=True)
def resident_kib():
    with open("/proc/self/status") as status:
        return int(re.search(r"VmRSS:\\s+(\\d+)", status.read()).group(1))
before = resident_kib()
for _ in range(3):  # like three scrapes' answers: written, read, freed
    block = b"x" * (6 << 20)
    del block
print(resident_kib() - before, flush=True)
"""


def _run(script: str, mode: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # Only the case's own settings: one in the environment running the tests would decide every case.
    inherited = {k: v for k, v in os.environ.items() if k not in _OURS}
    done = subprocess.run(
        [sys.executable, "-c", script, mode], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**inherited, "PYTHONPATH": str(ROOT), **(env or {})},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done


def _arenas(mode: str, env: dict[str, str] | None = None) -> tuple[str, int]:
    done = _run(_ARENAS, mode, env)
    return done.stdout.strip(), len(re.findall(r"^Arena \d+:", done.stderr, re.M))


def _kept_after_big_blocks(mode: str, env: dict[str, str] | None = None) -> tuple[str, int]:
    said, kept = _run(_BIG_BLOCKS, mode, env).stdout.split()
    return said, int(kept)


def test_threads_get_arenas_of_their_own_by_default() -> None:
    assert _arenas("default")[1] > 1


def test_tuned_every_thread_shares_one_arena() -> None:
    assert _arenas("tune") == ("MALLOC_ARENA_MAX,MALLOC_MMAP_THRESHOLD_,MALLOC_TRIM_THRESHOLD_", 1)


def test_an_explicit_malloc_arena_max_wins() -> None:
    said, arenas = _arenas("tune", {"MALLOC_ARENA_MAX": "3"})
    assert "MALLOC_ARENA_MAX" not in said.split(",")
    assert arenas > 1


def test_by_default_a_freed_big_block_stays_resident() -> None:
    # glibc raises its mmap threshold to the first big block freed, so the next one comes from the heap and stays.
    assert _kept_after_big_blocks("default")[1] >= 5 * 1024


def test_tuned_freed_big_blocks_are_given_back() -> None:
    said, kept = _kept_after_big_blocks("tune")
    assert "MALLOC_MMAP_THRESHOLD_" in said.split(",")
    assert kept < 1024


@pytest.mark.parametrize(
    "env", [{"MALLOC_MMAP_THRESHOLD_": str(8 << 20)}, {"GLIBC_TUNABLES": f"glibc.malloc.mmap_threshold={8 << 20}"}]
)
def test_a_threshold_in_the_environment_wins(env: dict[str, str]) -> None:
    said, kept = _kept_after_big_blocks("tune", env)
    assert "MALLOC_MMAP_THRESHOLD_" not in said.split(",")
    assert kept >= 5 * 1024  # 6 MiB blocks are below the environment's 8 MiB threshold: heap, kept
