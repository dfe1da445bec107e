"""Where a network target points: scheme, host and port, read strictly enough to decide whether it may be read.

:func:`target_address` accepts what ``/probe?target=`` may name: an ``http(s)://HOST[:PORT]`` base URL (a trailing
``/`` allowed, nothing else after the port) and the JMX registry forms ``jmx://HOST:PORT[/NAME]`` and
``service:jmx:rmi:///jndi/rmi://HOST:PORT/NAME``. Anything that would leave room to read a host two ways is refused
rather than guessed at: user info (``user@host``), queries and fragments, percent-escapes, control characters and
non-ASCII text, IPv6 zone ids, and host names that the C resolver would take for an IPv4 address while Python does
not (``2130706433``, ``0x7f.1``, ``127.1``, ``0177.0.0.1``). Names are lower-cased; an IPv4-mapped IPv6 address
(``[::ffff:10.0.0.1]``) is checked as the IPv4 address it reaches.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from exporter.errors import UsageError
from exporter.sources.jmx.settings import is_jmx_target, parse_target

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_HTTP = re.compile(r"^(?P<scheme>https?)://(?P<netloc>[^/?#]*)/?$", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}


class AddressError(ValueError):
    """The target cannot be read unambiguously; ``str()`` says why, fit for an HTTP 400 body."""


@dataclass(frozen=True, slots=True)
class TargetAddress:
    """A target's scheme (``http``, ``https`` or ``jmx``), host (lower-case name, or IP literal without brackets) and
    port; ``ip`` is the address an IP literal reaches (IPv4 for an IPv4-mapped IPv6 literal), None for a name."""

    scheme: str
    host: str
    port: int
    ip: IPAddress | None
    binding: str = ""  # the RMI registry name of a JMX target

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def target(self) -> str:
        """The one spelling of this target: what its per-target state is kept under and what the source reads."""
        if self.scheme == "jmx":
            return f"service:jmx:rmi:///jndi/rmi://{self.netloc}/{self.binding}"
        return f"{self.scheme}://{self.netloc}"


def target_address(text: str) -> TargetAddress:
    """Parse a probe target; AddressError says what is wrong with it."""
    if not text:
        raise AddressError("no target")
    if not text.isascii() or not text.isprintable() or any(c.isspace() for c in text):
        raise AddressError("the target holds spaces, control characters or non-ASCII text")
    if "%" in text:
        raise AddressError("the target holds a percent-escape: give it plainly (one level of URL-encoding, by the "
                           "query string)")
    if "@" in text:
        raise AddressError("the target holds user info (user@host): credentials come from the exporter's options")
    if is_jmx_target(text):
        return _jmx(text)
    match = _HTTP.match(text)
    if match is None:
        if text.lower().startswith(("http://", "https://")):
            raise AddressError("an http(s) target is a base URL, http(s)://HOST[:PORT], with no path, query or "
                               "fragment")
        raise AddressError("not an http(s) or JMX URL (http(s)://HOST:PORT, jmx://HOST:PORT or "
                           "service:jmx:rmi:///jndi/rmi://HOST:PORT/jmxrmi); files cannot be probed")
    scheme = match.group("scheme").lower()
    host, port = _split_netloc(match.group("netloc"), _DEFAULT_PORTS[scheme])
    return _address(scheme, host, port)


def _jmx(text: str) -> TargetAddress:
    try:
        parsed = parse_target(text)
    except UsageError as exc:
        raise AddressError(str(exc)) from None
    if parsed.host is None or parsed.port is None:
        raise AddressError("a JMX target is probed through its RMI registry: jmx://HOST:PORT or "
                           "service:jmx:rmi:///jndi/rmi://HOST:PORT/jmxrmi")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", parsed.binding):
        raise AddressError(f"the RMI registry name {parsed.binding!r} is not a plain name")
    address = _address("jmx", parsed.host, parsed.port)
    return TargetAddress("jmx", address.host, address.port, address.ip, parsed.binding)


def _split_netloc(netloc: str, default_port: int) -> tuple[str, int]:
    if netloc.startswith("["):
        close = netloc.find("]")
        if close < 0:
            raise AddressError("unterminated IPv6 address (a '[' without ']')")
        host, rest = netloc[1:close], netloc[close + 1 :]
        if rest and not rest.startswith(":"):
            raise AddressError(f"unexpected {rest!r} after the IPv6 address")
        port_text = rest[1:] if rest else None
        if not host or ":" not in host:
            raise AddressError(f"[{host}] is not an IPv6 address")
    else:
        host, sep, port_text = netloc.partition(":")
        if ":" in port_text:
            raise AddressError("put an IPv6 address in brackets, e.g. http://[fd00::1]:8080")
        port_text = port_text if sep else None
    if port_text is None:
        return host, default_port
    if not (port_text.isdigit() and len(port_text) <= 5 and 0 < int(port_text) < 65536):
        raise AddressError(f"port {port_text!r} is not a number between 1 and 65535")
    return host, int(port_text)


def _address(scheme: str, host: str, port: int) -> TargetAddress:
    if not host:
        raise AddressError("no host")
    if ":" in host:  # brackets were removed: an IPv6 literal
        if "%" in host:
            raise AddressError("IPv6 zone ids (fe80::1%eth0) are refused")
        try:
            v6 = ipaddress.IPv6Address(host)
        except ValueError:
            raise AddressError(f"[{host}] is not an IPv6 address") from None
        reached: IPAddress = v6.ipv4_mapped or v6
        return TargetAddress(scheme, v6.compressed, port, reached)
    try:
        v4 = ipaddress.IPv4Address(host)
    except ValueError:
        pass
    else:
        return TargetAddress(scheme, str(v4), port, v4)
    name = host.lower()
    labels = name.split(".")
    if len(name) > 253:
        raise AddressError("the host name is longer than 253 characters")
    if not all(_LABEL.fullmatch(label) for label in labels):
        raise AddressError(f"{host!r} is neither an IP address nor a host name (letters, digits, '-' and '.' "
                           "between labels; no trailing dot)")
    if labels[-1].isdigit() or any(label.startswith("0x") for label in labels):
        raise AddressError(f"{host!r} reads as a number, which the resolver may take for an IPv4 address: write "
                           "the address as a.b.c.d")
    return TargetAddress(scheme, name, port, None)
