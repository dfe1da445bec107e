"""``/probe`` and ``/discovery``: which targets may be probed, and the node list as Prometheus HTTP SD.

A probe reads a target the exporter was not started for, with the exporter's credentials: without a policy that is
an open proxy into the network the exporter sits in. :class:`ProbeAllow` is that policy. A target is admitted when
its host matches a ``--probe-allow`` pattern or when ``/discovery`` found it among the cluster's nodes; anything
else is refused (403) before a connection is made, so no credential goes to it.

Patterns: ``name`` (exactly that host name), ``*.domain`` (names under ``domain``), ``*`` (every name), an IP
address or a CIDR (``10.0.0.5``, ``10.42.0.0/16``, ``fd00::/8``), each with an optional ``:PORT``
(``[fd00::/8]:8080`` for IPv6). Host names match name patterns only and IP literals match addresses and CIDRs
only: a name is never resolved to decide, so DNS cannot move a name into an allowed range after the check.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from exporter.errors import UsageError
from exporter.scrape.discovery import Discovery, Found
from exporter.scrape.targets import TargetPool
from exporter.sources.address import AddressError, TargetAddress, target_address

DEFAULT_MODULE = "default"
ALLOW_FLAG = "--probe-allow"
_NAME = re.compile(r"(?:\*|(?:\*\.)?[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)")
_MODULE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SHOWN = 200  # characters of a refused target repeated in the answer


@dataclass(frozen=True, slots=True)
class _Pattern:
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None
    name: str | None
    port: int | None

    def matches(self, address: TargetAddress) -> bool:
        if self.port is not None and address.port != self.port:
            return False
        if address.ip is not None:
            return self.network is not None and address.ip.version == self.network.version and \
                address.ip in self.network  # fmt: skip
        if self.name is None:
            return False
        if self.name == "*":
            return True
        if self.name.startswith("*."):
            return address.host.endswith(self.name[1:])
        return address.host == self.name


@dataclass(frozen=True, slots=True)
class ProbeAllow:
    """The ``--probe-allow`` patterns; empty allows nothing."""

    patterns: tuple[_Pattern, ...] = ()
    texts: tuple[str, ...] = ()

    @classmethod
    def parse(cls, texts: Iterable[str]) -> ProbeAllow:
        """Read the patterns; UsageError names the one that is not a pattern."""
        items = [text.strip() for text in texts if text.strip()]
        return cls(tuple(_parse(text) for text in items), tuple(items))

    def allows(self, address: TargetAddress) -> bool:
        return any(pattern.matches(address) for pattern in self.patterns)


def _parse(text: str) -> _Pattern:
    where = f"{ALLOW_FLAG} {text!r}"
    host, port_text = text, None
    if text.startswith("["):
        close = text.find("]")
        rest = text[close + 1 :] if close > 0 else "?"
        if close < 0 or (rest and not rest.startswith(":")):
            raise UsageError(f"{where}: expected [IPv6 address or CIDR] or [..]:PORT")
        host, port_text = text[1:close], rest[1:] if rest else None
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    port = None
    if port_text is not None:
        if not (port_text.isdigit() and 0 < int(port_text) < 65536):
            raise UsageError(f"{where}: port {port_text!r} is not a number between 1 and 65535")
        port = int(port_text)
    try:
        network = ipaddress.ip_network(host, strict=False)
    except ValueError:
        pass
    else:
        return _Pattern(network, None, port)
    name = host.lower()
    if ":" in name or "/" in name or not _NAME.fullmatch(name) or ".." in name:
        raise UsageError(f"{where}: not a host name, *.domain, *, IP address or CIDR (IPv6 with a port: "
                         "[fd00::/8]:8080)")
    return _Pattern(None, name, port)


class ProbeRefused(Exception):
    """A probe that is not answered with a scrape: ``status`` (400 or 403) and the plain-text ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Prober:
    """What ``/probe`` and ``/discovery`` need: the pool of probed targets, the policy, and the cluster's nodes
    (``discovery``; None without ``--discovery-url``)."""

    def __init__(self, pool: TargetPool, allow: ProbeAllow, discovery: Discovery | None = None) -> None:
        self.pool = pool
        self.allow = allow
        self.discovery = discovery

    def admit(self, target: str | None, module: str | None) -> tuple[TargetAddress, str]:
        """The target's address and the module to read it with, or ProbeRefused saying why not."""
        if not target:
            raise ProbeRefused(400, "Bad request: give the target to probe, /probe?target=http://HOST:PORT "
                               "(&module=NAME).")
        module = module or DEFAULT_MODULE
        if module not in self.pool.modules:
            names = ", ".join(sorted(self.pool.modules))
            raise ProbeRefused(400, f"Bad request: unknown module {module[:64]!r}; the modules are {names} "
                               "(--config is 'default', --module NAME=FILE adds one).")
        try:
            address = target_address(target)
        except AddressError as exc:
            raise ProbeRefused(400, f"Bad request: target {target[:_SHOWN]!r}: {exc}.") from None
        if self.allow.allows(address):
            return address, module
        if self.discovery is not None and self.discovery.knows(address):
            return address, module
        found = (f" or that /discovery found among the nodes of {self.discovery.lister.description}"
                 if self.discovery is not None else "")
        hint = "" if self.discovery is not None else "; --discovery-url lets it read the nodes a coordinator lists"
        raise ProbeRefused(403, f"Forbidden: target {target[:_SHOWN]!r} is not allowed. /probe reads only targets "
                           f"whose host matches {ALLOW_FLAG} (PJE_PROBE_ALLOW: host names, *.domain, IP addresses "
                           f"and CIDRs, each with an optional :PORT){found}{hint}.")


def connector_check(registry: TargetAddress, allow: ProbeAllow) -> Callable[[str, int], str | None]:
    """What a probed JMX target's connector address must be: the registry's own host, or one ``--probe-allow``
    admits. The registry names the connector's host itself (the server's ``java.rmi.server.hostname``): unchecked, a
    registry the policy admits could send the probe, and the JMX credentials, anywhere."""

    def check(host: str, port: int) -> str | None:
        try:
            address: TargetAddress | None = target_address(f"jmx://{f'[{host}]' if ':' in host else host}:{port}")
        except AddressError:
            address = None
        if address is not None and (address.host == registry.host or allow.allows(address)):
            return None
        shown = address.netloc if address is not None else repr(f"{host}:{port}"[:_SHOWN])
        return (f"the RMI registry at {registry.netloc} names {shown} as its JMX connector, which is neither the "
                f"probed host nor allowed by {ALLOW_FLAG}, so nothing was sent there: allow it ({ALLOW_FLAG} "
                f"{address.host if address is not None else 'HOST'}), or set -Djava.rmi.server.hostname="
                f"{registry.host} on the server")

    return check


def check_module_name(name: str) -> str:
    if not _MODULE_NAME.fullmatch(name):
        raise UsageError(f"--module {name!r}: a module name is 1-64 letters, digits, '_' or '-'")
    if name == DEFAULT_MODULE:
        raise UsageError(f"--module {name}: '{DEFAULT_MODULE}' is the --config file; give the module another name")
    return name


def discovery_groups(found: Sequence[Found]) -> list[dict[str, Any]]:
    """Prometheus HTTP SD target groups, one per node: its probe target, and what is known about it as labels.

    ``coordinator``, ``node_id`` and ``node_version`` stay on every series (``node_version`` rather than
    ``version``, a label the exporter's own build info carries); whether the node failed and its URI are meta labels,
    for relabelling, since a label that changes would start new series.
    """
    groups = []
    for item in found:
        node = item.node
        labels = {"coordinator": "true" if node.coordinator else "false"}
        if node.node_id:
            labels["node_id"] = node.node_id
        if node.version:
            labels["node_version"] = node.version
        labels["__meta_presto_node_failed"] = "true" if node.failed else "false"
        labels["__meta_presto_node_uri"] = node.uri
        groups.append({"targets": [item.target], "labels": labels})
    return groups


def discovery_body(found: Sequence[Found]) -> bytes:
    return orjson.dumps(discovery_groups(found))
