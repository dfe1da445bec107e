"""What the kernel says about a child process: CPU time and memory, from /proc/PID."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, proc: Path = Path("/proc")) -> float:
    """User plus system CPU time of ``pid`` so far (clock-tick resolution)."""
    text = (proc / str(pid) / "stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()  # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14 and 15 of stat)


@dataclass(frozen=True, slots=True)
class Memory:
    rss_mib: float  # VmRSS: resident now
    hwm_mib: float  # VmHWM: the peak resident size
    threads: int = 0  # Threads: the process's threads now


def memory(pid: int, proc: Path = Path("/proc")) -> Memory:
    """VmRSS and VmHWM of ``pid`` in MiB, and its thread count."""
    values: dict[str, float] = {}
    for line in (proc / str(pid) / "status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024  # kB
        elif key == "Threads":
            values[key] = int(rest)
    return Memory(values["VmRSS"], values["VmHWM"], int(values.get("Threads", 0)))
