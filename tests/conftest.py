"""Shared pytest fixtures: fixture coordinators (real JVMs in child processes).

The session-scoped ``prestodb_coordinator``, ``prestosql_coordinator``, ``trino_coordinator`` (Trino 476),
``trino479_coordinator`` and ``trino483_coordinator`` (scale 0) are
shared by every test: read them, never tick, fault, unregister or restart them. Tests that change a
coordinator's state, or need auth/TLS/another scale, start their own with ``coordinator_factory``. Without a
Java runtime (or JPype) these fixtures skip with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from exporter.sources.jmx.jvm import JvmNotFoundError, find_jvm_library
from tests.fixture.process import FixtureCoordinator, start_coordinator


def require_jvm() -> str:
    """The JVM library path, or skip the calling test/fixture saying why there is none."""
    try:
        import jpype  # noqa: F401
    except ImportError:
        pytest.skip("jpype1 is not installed (pip install presto-jmx-exporter[jmx])")
    try:
        return find_jvm_library()
    except JvmNotFoundError as exc:
        pytest.skip(str(exc))


def _session_coordinator(profile: str) -> Iterator[FixtureCoordinator]:
    require_jvm()
    coordinator = start_coordinator(profile)
    try:
        yield coordinator
    finally:
        coordinator.stop()


@pytest.fixture(scope="session")
def prestodb_coordinator() -> Iterator[FixtureCoordinator]:
    """A prestodb-profile fixture coordinator at scale 0, shared by the session (read-only use)."""
    yield from _session_coordinator("prestodb")


@pytest.fixture(scope="session")
def prestosql_coordinator() -> Iterator[FixtureCoordinator]:
    """A prestosql-profile fixture coordinator at scale 0, shared by the session (read-only use)."""
    yield from _session_coordinator("prestosql")


@pytest.fixture(scope="session")
def trino_coordinator() -> Iterator[FixtureCoordinator]:
    """A trino-profile fixture coordinator at scale 0, shared by the session (read-only use)."""
    yield from _session_coordinator("trino")


@pytest.fixture(scope="session")
def trino479_coordinator() -> Iterator[FixtureCoordinator]:
    """A Trino 477-479 fixture coordinator at scale 0, shared by the session (read-only use)."""
    yield from _session_coordinator("trino479")


@pytest.fixture(scope="session")
def trino483_coordinator() -> Iterator[FixtureCoordinator]:
    """A Trino 480+ fixture coordinator (no /v1/jmx; /metrics) at scale 0, shared by the session (read-only use)."""
    yield from _session_coordinator("trino483")


@pytest.fixture(scope="module")
def private_trino_coordinator() -> Iterator[FixtureCoordinator]:
    """A trino coordinator of the test module's own, free to fault, tick, stop and restart."""
    yield from _session_coordinator("trino")


@pytest.fixture
def coordinator_factory() -> Iterator[Callable[..., FixtureCoordinator]]:
    """``start(profile, scale=0, **options)`` for a private coordinator; all are stopped after the test."""
    require_jvm()
    started: list[FixtureCoordinator] = []

    def start(profile: str, scale: int = 0, **options: Any) -> FixtureCoordinator:
        coordinator = start_coordinator(profile, scale, **options)
        started.append(coordinator)
        return coordinator

    try:
        yield start
    finally:
        for coordinator in started:
            coordinator.stop()


# Property tests explore with fixed seeds so a CI run is reproducible; set HYPOTHESIS_PROFILE=explore to search anew.
hypothesis_settings.register_profile("repeatable", derandomize=True)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--image", action="store_true", default=False,
                     help="build the container images with podman and check them (tests/test_image.py; .ci/image)")
