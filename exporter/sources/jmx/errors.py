"""Classify Java exceptions from JMX calls and describe them in one line, without any secret.

The JMX code decides from the :class:`Failure` kind what to do: drop the connection, skip a bean, read a bean's
attributes one by one, or give up on the scrape. Java messages are reduced to the innermost cause's first line.
Call only on a thread attached to the running JVM.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from exporter.sources.jmx.java import java
from exporter.sources.jmx.settings import JmxTarget


class Kind(enum.Enum):
    CONNECTION = "connection"  # the connection is unusable: drop it, reconnect
    AUTH = "auth"  # the server refused the credentials
    GONE = "gone"  # the MBean was unregistered
    VALUE = "value"  # this bean (or attribute) cannot be read; the connection is fine
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Failure:
    """What went wrong, as plain Python data (no Java references)."""

    kind: Kind
    message: str
    missing_class: str | None = None


def _chain(exc: Any) -> list[Any]:
    chain = [exc]
    while len(chain) < 12:
        cause = chain[-1].getCause()
        if cause is None or any(cause is seen for seen in chain):
            break
        chain.append(cause)
    return chain


def _first_line(throwable: Any) -> str:
    message = throwable.getMessage()
    text = str(message) if message is not None else str(throwable.getClass().getSimpleName())
    text = text.split("; nested exception is:")[0]
    lines = text.strip().splitlines()
    return (lines[0] if lines else str(throwable.getClass().getSimpleName()))[:200]


def _find(chain: list[Any], cls: Any) -> Any:
    for throwable in chain:
        if isinstance(throwable, cls):
            return throwable
    return None


def classify(exc: Any, target: JmxTarget) -> Failure:
    """Turn a Java throwable (a JPype exception object) into a Failure."""
    j = java()
    chain = _chain(exc)
    innermost = _first_line(chain[-1])
    where = target.address
    if _find(chain, j.SecurityException) is not None:
        security = _first_line(_find(chain, j.SecurityException))
        if "required" in security.lower():
            return Failure(Kind.AUTH, f"JMX authentication failed at {where}: the server requires credentials "
                           "(set username and password in the config)")
        return Failure(Kind.AUTH, f"JMX authentication failed at {where}: the server rejected the credentials")
    if _find(chain, j.NotBoundException) is not None:
        return Failure(Kind.CONNECTION, f"nothing is bound as {target.binding!r} in the RMI registry at {where}")
    if _find(chain, j.InstanceNotFoundException) is not None:
        return Failure(Kind.GONE, f"MBean not found: {innermost}")
    if isinstance(exc, j.UnmarshalException):
        missing = _find(chain, j.ClassNotFoundException)
        if missing is not None:
            name = _first_line(missing).split(" ")[0]
            return Failure(Kind.VALUE, f"the value's class {name} is not available to the exporter", name)
        if _find(chain, j.ObjectStreamException) is not None or _find(chain, j.NoClassDefFoundError) is not None:
            return Failure(Kind.VALUE, f"the value cannot be deserialised: {innermost}")
    if _find(chain, j.SSLException) is not None:
        return Failure(Kind.CONNECTION, f"TLS error talking to {where}: {innermost}")
    if _find(chain, j.SocketTimeoutException) is not None:
        return Failure(Kind.CONNECTION, f"timed out waiting for the JMX server at {where}")
    if _find(chain, j.ConnectIOException) is not None:
        hint = "is it a JMX/RMI port (with TLS: ssl: true)?"
        return Failure(Kind.CONNECTION, f"no RMI handshake with {where} ({innermost}); {hint}")
    if _find(chain, j.UnknownHostException) is not None:
        return Failure(Kind.CONNECTION, f"cannot resolve the host of {where}: {innermost}")
    if _find(chain, j.NetConnectException) is not None or _find(chain, j.RmiConnectException) is not None:
        reason = innermost[:1].lower() + innermost[1:]
        return Failure(Kind.CONNECTION, f"cannot connect to {where}: {reason}")
    if _find(chain, j.EOFException) is not None or _find(chain, j.SocketException) is not None:
        return Failure(Kind.CONNECTION, f"the JMX server at {where} closed the connection ({innermost})")
    if isinstance(exc, j.IOException):
        return Failure(Kind.CONNECTION, f"JMX connection to {where} failed: {innermost}")
    if isinstance(exc, (j.JMException, j.RuntimeException)):
        return Failure(Kind.VALUE, f"{exc.getClass().getSimpleName()}: {innermost}")
    return Failure(Kind.OTHER, f"{exc.getClass().getName()}: {innermost}")
