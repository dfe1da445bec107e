"""Read MBeans from a JVM over JMX/RMI, through an embedded JVM (JPype).

The JVM is started once per process, on the first JMX source; JPype and the JVM are never loaded for REST or
dump targets. All Java work happens on the source's worker thread (see :mod:`exporter.sources.jmx.worker`):
callers wait for it until their deadline, so a hung JMX server costs one failed scrape, never a hung ``/metrics``.

The connection is kept across scrapes. A broken connection is replaced at once and the read retried within the
same scrape; a call that overran the deadline makes the next scrape start a fresh connection, and so does a
reloaded config whose ``hostPort``, ``jmxUrl``, ``username``, ``password`` or ``ssl`` changed (jmx_exporter reads
them on every scrape). What crosses back to the caller is plain Python: MBean records, or an error message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from exporter.config.model import Config
from exporter.errors import UsageError
from exporter.sources.base import BeanRequest, Snapshot, SourceError
from exporter.sources.jmx.settings import JmxClientSettings, JmxSettings, config_target, settings_from
from exporter.sources.jmx.worker import CallTimeout, JvmWorker, WorkerUnavailable

if TYPE_CHECKING:
    from exporter.sources.jmx.session import Session

log = logging.getLogger(__name__)

__all__ = ["JmxSource", "open_jmx_source", "start_embedded_jvm"]

_CLOSE_BUDGET = 2.0
# JUL loggers are held weakly by the JVM: keep a configured one alive, or its level may be forgotten.
_quieted_loggers: list[object] = []


class _Abandoned(Exception):
    """The caller gave up on this job; stop without touching shared state."""


def _attach_daemon() -> None:
    """Attach the current thread as a daemon, so a call stuck in it never holds up JVM shutdown."""
    import jpype

    jpype.java.lang.Thread.attachAsDaemon()


def _detach() -> None:
    import jpype

    if jpype.isJVMStarted() and jpype.java.lang.Thread.isAttached():
        jpype.java.lang.Thread.detach()


def start_embedded_jvm(settings: JmxSettings) -> None:
    """Start this process's JVM with RMI timeouts derived from the settings; UsageError when that is impossible."""
    try:
        import jpype  # noqa: F401  # only to give a clear message when the jmx extra is missing
    except ImportError:
        raise UsageError(
            "JMX targets need JPype and a Java runtime: pip install 'presto-jmx-exporter[jmx]'"
        ) from None
    from exporter.sources.jmx.jvm import JvmNotFoundError, JvmOptions, start_jvm

    call_ms = max(1000, int(settings.call_timeout * 1000))
    handshake_ms = max(500, int(settings.connect_timeout * 1000))
    options = JvmOptions(
        rmi_response_timeout_ms=call_ms,
        extra_args=(f"-Dsun.rmi.transport.tcp.handshakeTimeout={handshake_ms}", *settings.jvm_options),
    )
    try:
        start_jvm(options=options)
    except JvmNotFoundError as exc:
        raise UsageError(str(exc)) from None
    except Exception as exc:  # JPype reports a broken runtime with its own exception types
        raise UsageError(f"cannot start the embedded JVM: {exc}") from None
    if not log.isEnabledFor(logging.DEBUG):
        _quiet_jmx_client_logging()


def _quiet_jmx_client_logging() -> None:
    """Keep the embedded JVM's java.util.logging output to SEVERE.

    The JMX client warns on stderr, in the JVM's own format, about failed connection checks that the exporter
    already reports once in its log. Those come from JDK-internal (system) loggers, which only the root logger
    reaches; nothing else logs through java.util.logging in this JVM.
    """
    import jpype

    if _quieted_loggers:
        return
    root = jpype.JClass("java.util.logging.Logger").getLogger("")
    root.setLevel(jpype.JClass("java.util.logging.Level").SEVERE)
    _quieted_loggers.append(root)


class JmxSource:
    """A JMX/RMI target (implements :class:`exporter.sources.base.Source`). The JVM must already run."""

    def __init__(
        self,
        settings: JmxSettings,
        worker: JvmWorker | None = None,
        settings_for: Callable[[Config], JmxSettings] | None = None,
    ) -> None:
        self.settings = settings
        self._settings_for = settings_for  # the settings a reloaded config gives
        self._worker = worker or JvmWorker("jmx", attach=_attach_daemon, detach=_detach)
        self._lock = threading.Lock()
        self._epoch = 0  # bumped when a call overruns: the session in use then is not trusted any more
        self._session: Session | None = None  # only ever touched on worker threads
        self._closed = False
        self.connects = 0

    @property
    def description(self) -> str:
        return self.settings.target.url

    def fetch(self, request: BeanRequest, deadline: float) -> Snapshot:
        """Read the requested beans; SourceError with a one-line cause when the target cannot be read."""
        with self._lock:
            if self._closed:
                raise SourceError("the JMX source is closed")
            epoch = self._epoch
        try:
            outcome = self._worker.call(lambda: self._fetch_on_worker(request, deadline, epoch), deadline)
        except CallTimeout:
            with self._lock:
                if self._epoch == epoch:
                    self._epoch += 1
            raise SourceError(
                f"no answer from the JMX server at {self.settings.target.address} before the scrape deadline; "
                "the next scrape reconnects"
            ) from None
        except WorkerUnavailable as exc:
            raise SourceError(str(exc)) from None
        if isinstance(outcome, str):
            raise SourceError(outcome)
        return outcome

    def config_reloaded(self, config: Config) -> None:
        """Use the reloaded ``config``'s target, credentials and TLS choice: when they changed, the next fetch
        connects afresh with them. Settings it cannot give (an unreadable password file, no target) leave the
        current ones in use."""
        if self._settings_for is None:
            return
        try:
            settings = self._settings_for(config)
        except UsageError as exc:
            log.error("the reloaded config's JMX settings are not used, the previous ones stay: %s", exc)
            return
        with self._lock:
            if settings == self.settings or self._closed:
                return
            moved = settings.target != self.settings.target
            self.settings = settings
            self._epoch += 1  # the open connection was made with the old settings
        if moved:
            log.info("the JMX target changed with the config; the next scrape connects to %s", settings.target.address)
        else:
            log.info("JMX credentials or TLS changed with the config; the next scrape reconnects to %s",
                     settings.target.address)

    def close(self) -> None:
        """Close the connection (bounded wait) and stop the worker thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._epoch += 1
        try:
            self._worker.call(self._close_on_worker, time.monotonic() + _CLOSE_BUDGET)
        except (CallTimeout, WorkerUnavailable):
            log.debug("closing the JMX connection did not finish in time")
        self._worker.close(timeout=_CLOSE_BUDGET)

    # Everything below runs on worker threads.

    def _fetch_on_worker(self, request: BeanRequest, deadline: float, epoch: int) -> Snapshot | str:
        from exporter.sources.jmx.connect import ConnectFailed, ConnectionLost
        from exporter.sources.jmx.errors import classify
        from exporter.sources.jmx.java import java
        from exporter.sources.jmx.session import NothingFound, OutOfTime

        try:
            for _attempt in range(2):
                session, fresh = self._session_for(epoch)
                try:
                    return session.read(request, deadline)
                except ConnectionLost as exc:
                    self._discard(session)
                    if fresh or time.monotonic() >= deadline:
                        return str(exc)
                    log.info("JMX connection to %s lost (%s); reconnecting", self.settings.target.address, exc)
            return "the JMX connection was lost twice in one scrape"
        except (ConnectFailed, OutOfTime, NothingFound) as exc:
            return str(exc)
        except _Abandoned:
            return "abandoned"
        except java().Throwable as exc:  # e.g. a SecurityException from queryNames: say what it was, in one line
            failure = classify(exc, self.settings.target)
            log.debug("JMX call failed", exc_info=True)
            return failure.message
        except Exception as exc:  # a bug must cost one scrape; the message must not carry Java objects away
            log.exception("internal error in the JMX source")
            return f"internal error in the JMX source: {type(exc).__name__}: {exc}"

    def _session_for(self, epoch: int) -> tuple[Session, bool]:
        """The current session, or a new one; ``fresh`` says whether it was just opened."""
        from exporter.sources.jmx.session import Session  # the runtime import, after the JVM started

        with self._lock:
            if epoch != self._epoch or self._closed:
                raise _Abandoned
            session = self._session
            if session is not None and session.epoch == epoch:
                return session, False
            stale, self._session = session, None
        if stale is not None:
            self._worker.spawn(stale.close, "close")  # may block on a hung server
        session = Session(self.settings, epoch)
        self.connects += 1
        with self._lock:
            if epoch == self._epoch and not self._closed:
                self._session = session
                log.info("connected to JMX server %s", self.settings.target.address)
                return session, True
        session.close()
        raise _Abandoned

    def _discard(self, session: Session) -> None:
        with self._lock:
            if self._session is session:
                self._session = None
        self._worker.spawn(session.close, "close")

    def _close_on_worker(self) -> None:
        with self._lock:
            session, self._session = self._session, None
        if session is not None:
            try:
                session.close()
            except Exception as exc:
                log.debug("closing the JMX connection failed: %s", exc)


def open_jmx_source(target: str | None, client: JmxClientSettings, config: Config | None) -> JmxSource:
    """Start the embedded JVM and build the JMX source for ``target``, or for the config's hostPort/jmxUrl when
    ``target`` is None (then followed when the config is reloaded); UsageError for a bad URL or no JVM."""
    settings = reloaded_settings(target, client, config)
    start_embedded_jvm(settings)
    return JmxSource(settings, settings_for=lambda reloaded: reloaded_settings(target, client, reloaded))


def reloaded_settings(target: str | None, client: JmxClientSettings, config: Config | None) -> JmxSettings:
    """The settings ``config`` gives. Like jmx_exporter, which reads ``hostPort`` and ``jmxUrl`` on every scrape, the
    config's target is followed, unless the command line named one (``target``)."""
    followed = target or config_target(config)
    if not followed:
        raise UsageError("the config has neither hostPort nor jmxUrl; set one, or give --target")
    return settings_from(followed, client, config)
