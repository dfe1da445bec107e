"""Before the JVM tries: can the RMI registry's address be reached within the connect timeout, name lookup included?

The JVM's own name lookup and connect are bounded only by the scrape watchdog, so a DNS server that does not answer
would hold every connect attempt for glibc's 10 s. Resolving and connecting from Python first, through the same
bounded resolver as the REST source, turns that and a closed port into a prompt failure that names the cause. The
JVM then resolves the name again: quickly, since it just answered. (The connector's own address comes inside the
registry's stub and is the JVM's to resolve.)
"""

from __future__ import annotations

from exporter.sources.resolver import BoundedResolver, create_connection

_RESOLVER = BoundedResolver()  # shared: a hanging lookup costs one thread per host, not one per connect attempt


def unreachable(host: str, port: int, timeout: float, resolver: BoundedResolver = _RESOLVER) -> str | None:
    """Why nothing can be reached at ``host:port`` within ``timeout`` seconds; None when something accepts there."""
    try:
        with create_connection(resolver, (host, port), timeout):
            return None
    except TimeoutError:
        return f"timed out after {timeout:g}s"
    except OSError as exc:
        return (exc.strerror or str(exc) or type(exc).__name__).lower()


# A request any HTTP server answers at once; an RMI registry reads its first four bytes as the protocol's magic
# number, finds them wrong and closes the connection without a word.
_HTTP_PROBE = b"HEAD / HTTP/1.0\r\nUser-Agent: presto-jmx-exporter\r\n\r\n"


def http_status_line(host: str, port: int, timeout: float, resolver: BoundedResolver = _RESOLVER) -> str | None:
    """The status line ``host:port`` answers an HTTP request with (it is an HTTP port, not JMX/RMI), else None."""
    try:
        with create_connection(resolver, (host, port), timeout) as sock:
            sock.settimeout(min(timeout, 2.0))
            sock.sendall(_HTTP_PROBE)
            head = b""
            while b"\n" not in head and len(head) < 200:
                chunk = sock.recv(200)
                if not chunk:
                    break
                head += chunk
    except OSError:
        return None
    if not head.startswith(b"HTTP/"):
        return None
    return head.split(b"\n", 1)[0].decode("latin-1").strip()
