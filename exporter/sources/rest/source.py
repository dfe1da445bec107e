"""Read MBeans from a coordinator's airlift ``/v1/jmx/mbean`` endpoint over HTTP(S)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from exporter.config.model import Config
from exporter.records.mbeans import MBean
from exporter.sources import airlift
from exporter.sources.base import BeanRequest, Snapshot, SourceError
from exporter.sources.resolver import BoundedResolver
from exporter.sources.rest.client import Answer, HttpError
from exporter.sources.rest.coordinator import DEFAULT_USER, Coordinator, redact, server_base, status_message
from exporter.sources.rest.settings import HttpSettings

__all__ = ["DEFAULT_USER", "MBEAN_PATH", "JmxHttpGone", "RestSource", "base_url", "redact"]

log = logging.getLogger(__name__)

MBEAN_PATH = "/v1/jmx/mbean"
# Trino 480 and later no longer serve /v1/jmx: what works instead.
USE_OTHER_SOURCE = ("read its /metrics instead (--source native; the default, --source auto, switches to it by "
                    "itself when /metrics answers OpenMetrics), or its MBeans over JMX: --target jmx://HOST:9080, "
                    "with jmx.rmiregistry.port=9080 in the server's config.properties")
_MISSING_BEAN_STATUSES = frozenset({404, 500})  # airlift answers 500 for an unknown ObjectName; some proxies 404


class JmxHttpGone(SourceError):
    """The server has no ``/v1/jmx`` at all (every request answered 404), as Trino 480 and later."""


def base_url(target: str) -> str:
    """Normalise a target URL to the server's base (``http://host:port``), accepting a pasted full endpoint URL."""
    return server_base(target, MBEAN_PATH)


class RestSource:
    """The REST source for one coordinator (implements :class:`exporter.sources.base.Source`); safe to call from
    several threads at once. Named beans are fetched one request each, ``parallelism`` at a time."""

    def __init__(self, target: str, settings: HttpSettings | None = None, resolver: BoundedResolver | None = None):
        self.settings = settings or HttpSettings()
        self.base = base_url(target)
        self.description = self.base
        self.http = Coordinator(self.base, self.settings, "application/json", log, resolver)
        self.client = self.http.client

    def fetch(self, request: BeanRequest, deadline: float) -> Snapshot:
        """Fetch the requested beans (each by name) or the whole list."""
        if request.object_names is None:
            return self._fetch_all(deadline)
        return self._fetch_named(request.object_names, deadline)

    def config_reloaded(self, config: Config) -> None:
        """The REST source's settings come from the command line only."""

    def close(self) -> None:
        self.http.close()

    def _fetch_all(self, deadline: float) -> Snapshot:
        url = self.base + MBEAN_PATH
        try:
            answer = self.client.get(MBEAN_PATH, deadline, self.http.auth_header())
        except HttpError as exc:
            raise SourceError(f"{url}: {exc}") from None
        if answer.status == 404:
            raise JmxHttpGone(f"{url}: HTTP 404: this server does not serve /v1/jmx (Trino 480 and later removed it); "
                              f"{USE_OTHER_SOURCE}")
        if answer.status != 200:
            raise SourceError(status_message(answer.status, url, answer.body, self.http.secrets()))
        beans, problems = airlift.read_bean_list(answer.body, url)
        return Snapshot(tuple(beans), len(answer.body), 1, tuple(problems))

    def _fetch_named(self, names: tuple[str, ...], deadline: float) -> Snapshot:
        if not names:
            return Snapshot(())
        paths = [f"{MBEAN_PATH}/{quote(name, safe='')}" for name in names]
        results: list[_Named | SourceError | None] = [None] * len(names)
        auth = self.http.auth_header()
        secrets = self.http.secrets()  # after the token file was read
        for index, answer in self.client.get_many(paths, deadline, auth):
            url = self.base + paths[index]
            if isinstance(answer, HttpError):
                results[index] = SourceError(f"{url}: {answer}")
                continue
            try:
                results[index] = _decode(url, answer, secrets)
            except SourceError as exc:
                results[index] = exc
        beans: list[MBean] = []
        problems: list[str] = []
        size = 0
        first_missing: str | None = None
        server_errors = 0
        not_found = 0
        for result in results:
            if isinstance(result, SourceError):
                raise result
            assert result is not None  # get_many answers every path
            size += result.size
            if result.missing is not None:
                first_missing = first_missing or result.missing
                server_errors += result.server_error
                not_found += result.not_found
            elif result.bean is not None:
                beans.append(result.bean)
            elif result.problem is not None:
                problems.append(result.problem)
        if not beans:
            if not_found == len(names):
                raise JmxHttpGone(f"{self.base}: none of the {len(names)} requested MBeans exists on the target: each "
                                  "answered HTTP 404, as a server without /v1/jmx does (Trino 480 and later removed "
                                  f"it); {USE_OTHER_SOURCE}")
            if server_errors == len(names):
                raise SourceError(
                    f"{self.base}: none of the {len(names)} requested MBeans could be read: each answered with a "
                    f"server error ({first_missing})"
                )
            cause = problems[0] if problems else f"each answered {first_missing}" if first_missing else None
            why = f" ({cause})" if cause else ""
            raise SourceError(f"{self.base}: none of the {len(names)} requested MBeans exists on the target{why}")
        return Snapshot(tuple(beans), size, len(names), tuple(problems))


@dataclass(frozen=True, slots=True)
class _Named:
    """One bean's answer: the bean, or why it is missing, or why it could not be read."""

    size: int
    bean: MBean | None = None
    missing: str | None = None
    problem: str | None = None
    server_error: bool = False  # missing, or broken: an HTTP 500 that does not say the bean is unknown
    not_found: bool = False  # HTTP 404: airlift answers 500 for an unknown bean, so the route itself may be gone


def _decode(url: str, answer: Answer, secrets: Sequence[str]) -> _Named:
    """One bean's answer: a missing bean is not an error, a broken answer is, and an unreadable bean is skipped."""
    if answer.status in _MISSING_BEAN_STATUSES:
        why = status_message(answer.status, "", answer.body, secrets).removeprefix(": ")
        unknown = answer.status == 404 or b"InstanceNotFoundException" in answer.body[:1000]
        return _Named(len(answer.body), missing=why, server_error=not unknown, not_found=answer.status == 404)
    if answer.status != 200:
        raise SourceError(status_message(answer.status, url, answer.body, secrets))
    document: Any = airlift.loads(answer.body, url)
    if not isinstance(document, dict):
        raise SourceError(f"{url}: expected a JSON object for one MBean, got {type(document).__name__}")
    try:
        return _Named(len(answer.body), bean=airlift.parse_bean(document))
    except SourceError as exc:
        return _Named(len(answer.body), problem=f"{url}: {exc}")
