"""Start the fixture coordinator for the bench with TCP_NODELAY on its HTTP connections.

The fixture's ``http.server`` handler writes the headers and the body of an answer in two writes; with Nagle's
algorithm on, a small body then waits for the client's delayed ACK, which would make every
small per-bean answer look slow. airlift's Jetty sends without that stall, so the bench runs the unchanged fixture
(``tests.fixture.coordinator``) with ``socketserver.StreamRequestHandler.disable_nagle_algorithm`` set.
"""

from __future__ import annotations

import os
import signal
import socketserver
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]


def start(profile: str, scale: int, timeout: float = 180.0):  # type: ignore[no-untyped-def]
    """Like ``tests.fixture.process.start_coordinator``, through this module's entry point."""
    from tests.fixture.process import CoordinatorOptions, FixtureCoordinator, FixtureError, _child_env, _read_ready_line

    options = CoordinatorOptions()
    stderr_file = tempfile.NamedTemporaryFile(prefix="bench-fixture-", suffix=".stderr", delete=False)  # noqa: SIM115
    command = [sys.executable, "-m", "bench.fixture", *options.argv(profile, scale)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=stderr_file, stdin=subprocess.DEVNULL, cwd=ROOT, env=_child_env()
    )
    try:
        ready = orjson.loads(_read_ready_line(process, timeout))
    except BaseException as exc:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        stderr_file.close()
        raise FixtureError(f"bench fixture failed to start: {exc}") from None
    return FixtureCoordinator(
        profile=profile, scale=scale, options=options, process=process, http_port=int(ready["http_port"]),
        jmx_port=int(ready["jmx_port"]), stderr_path=Path(stderr_file.name), _stderr_file=stderr_file,
    )  # fmt: skip


if __name__ == "__main__":
    socketserver.StreamRequestHandler.disable_nagle_algorithm = True
    from tests.fixture.coordinator import main

    sys.exit(main(sys.argv[1:]))
