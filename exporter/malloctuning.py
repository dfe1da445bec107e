"""glibc malloc settings for the long-running server, so its resident size stays flat and low.

- **One arena.** glibc gives a thread a heap of its own (an arena, up to eight per core) whenever the others are
  locked. The fetch workers and HTTP handler threads each end up with one, and what an arena frees it rarely gives
  back to the system: over 20,000 scrapes of the coordinator pack the resident size crept from 36 to 45 MiB while
  Python's count of live objects stayed the same. With one arena it stays flat, and little is lost to sharing it:
  the GIL already serialises nearly all of the exporter's allocations.
- **Big blocks mapped, and given back.** By default glibc raises its mmap threshold to the size of each large
  block freed, so after the first scrape a block as big as a whole-list answer (4.5 MB at 19,000 attributes) is
  placed in the heap, and whether its memory is given back when freed depends on what was placed above it: the
  resident size of an export-everything server settled at 58 or at 62 MiB from one start to the next. A fixed
  threshold of 4 MiB maps every block that big and unmaps it when freed. (The REST source no longer joins a whole
  list into one block: it decodes the 256 KiB pieces as read, see ``exporter.sources.listing``.) Fixing it also
  fixes the trim threshold, whose default (128 KiB) would hand back and fault in again the heap's smaller
  per-scrape buffers (the 1.8 MB exposition, the answer's pieces) on every scrape, about a fifth more time per
  scrape; so it is set to 64 MiB.

A setting in the environment (``MALLOC_ARENA_MAX``, ``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_`` or
``GLIBC_TUNABLES``) wins over ours; on a C library without ``mallopt`` (musl, macOS) nothing changes.
"""

from __future__ import annotations

import ctypes
import os

# From glibc's malloc.h: (parameter, value we set, environment variable, GLIBC_TUNABLES name)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8
MMAP_THRESHOLD = 4 << 20
TRIM_THRESHOLD = 64 << 20
_SETTINGS = (
    (_M_ARENA_MAX, 1, "MALLOC_ARENA_MAX", "glibc.malloc.arena_max"),
    (_M_MMAP_THRESHOLD, MMAP_THRESHOLD, "MALLOC_MMAP_THRESHOLD_", "glibc.malloc.mmap_threshold"),
    (_M_TRIM_THRESHOLD, TRIM_THRESHOLD, "MALLOC_TRIM_THRESHOLD_", "glibc.malloc.trim_threshold"),
)


def tune_malloc() -> list[str]:
    """Apply the settings the environment does not make; returns the names of those set here."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return []
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    done = []
    for parameter, value, variable, tunable in _SETTINGS:
        if variable in os.environ or tunable + "=" in tunables:
            continue
        if mallopt(parameter, value):
            done.append(variable)
    return done
