"""Read MBean records from Trino's own OpenMetrics endpoint, ``/metrics`` (airlift's openmetrics module).

Trino 480 and later no longer serve ``/v1/jmx``; every Trino node serves ``/metrics``, behind the same
authentication as the Web UI (``X-Trino-User`` over HTTP, the configured authenticators over HTTPS), so this source
takes exactly the REST source's settings (:class:`exporter.sources.rest.coordinator.Coordinator`).

What it asks for: when every requested bean comes with its attributes (a rule file's ``includeObjectNameAttributes``)
just their metrics, by name (``name[]``, repeated, split over several requests so that no request line grows past
what Jetty accepts); otherwise the whole ``/metrics``, from which it keeps the requested beans. The answer becomes the
same MBean records the other sources give, as :mod:`exporter.sources.native.names` maps the names back.

For ``--source passthrough`` it gives the families themselves (:meth:`NativeSource.fetch_families`), asked for by the
same ``name[]`` in the same requests, with the same credentials and the same failures.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from urllib.parse import urlencode

from exporter.config.model import Config
from exporter.records.mbeans import MBean
from exporter.records.metrics import MetricFamily
from exporter.sources.base import BeanRequest, FamilyRequest, FamilySnapshot, Snapshot, SourceError
from exporter.sources.native.names import Mapper, Wanted, guess_object_name, wanted_beans
from exporter.sources.native.openmetrics import parse
from exporter.sources.resolver import BoundedResolver
from exporter.sources.rest.client import Answer, HttpError
from exporter.sources.rest.coordinator import Coordinator, server_base, status_message
from exporter.sources.rest.settings import HttpSettings

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
ACCEPT = "application/openmetrics-text; version=1.0.0, text/plain; version=0.0.4; q=0.5"
# The name[] parameters of one request, in characters: Jetty refuses a request whose head passes 8 KiB.
MAX_QUERY = 6000
PROBE_NAME = "presto_jmx_exporter_probe"
NOT_OPENMETRICS = "HTTP 200, but not OpenMetrics (no # EOF line)"
NOT_SERVED = ("this server has no /metrics: Trino serves it (airlift's OpenMetrics), prestodb and PrestoSQL do "
              "not; read those with --source rest")


class NativeSource:
    """The native source for one Trino node (implements :class:`exporter.sources.base.Source`); safe to call from
    several threads at once."""

    def __init__(self, target: str, settings: HttpSettings | None = None, resolver: BoundedResolver | None = None):
        self.settings = settings or HttpSettings()
        self.base = server_base(target, METRICS_PATH)
        self.description = self.base + METRICS_PATH
        self.http = Coordinator(self.base, self.settings, ACCEPT, log, resolver)

    def fetch(self, request: BeanRequest, deadline: float) -> Snapshot:
        """The requested beans' metrics by name when their attributes are listed, else the whole ``/metrics``."""
        if request.object_names is None:
            families, size, requests = self._get([()], deadline)
            return Snapshot(tuple(guessed_beans(families)), size, requests)
        if not request.object_names:
            return Snapshot(())
        wanted = wanted_beans(request.object_names, dict(request.attributes))
        mapper = Mapper(wanted)
        everything = any(bean.attributes is None for bean in wanted)
        queries: list[tuple[str, ...]] = [()] if everything else chunks(mapper.names())
        families, size, requests = self._get(queries, deadline)
        return Snapshot(tuple(mapper.records(families)), size, requests)

    def fetch_families(self, request: FamilyRequest, deadline: float) -> FamilySnapshot:
        """The families of ``/metrics`` as the server wrote them: every one, or those the server gives for
        ``request.names``. Each family comes once (the first answer that has it wins: two ``name[]`` requests can
        both carry one), in the server's order. An answer without its ``# EOF`` line (cut short, or not airlift's)
        fails the fetch: re-serving part of it would pass for all of it."""
        if request.names is not None and not request.names:
            return FamilySnapshot()
        queries: list[tuple[str, ...]] = [()] if request.names is None else chunks(request.names)
        families, size, requests = self._get(queries, deadline, whole=True)
        unique: dict[str, MetricFamily] = {}
        for family in families:
            unique.setdefault(family.name, family)
        return FamilySnapshot(tuple(unique.values()), size, requests)

    def probe(self, deadline: float) -> str | None:
        """None when ``/metrics`` answers OpenMetrics (asked for one name nothing has), else what it answered."""
        path = _path((PROBE_NAME,))
        try:
            answer = self.http.client.get(path, deadline, self.http.auth_header())
        except (HttpError, SourceError) as exc:
            return str(exc)
        if answer.status != 200:
            return status_message(answer.status, "", answer.body, self.http.secrets()).removeprefix(": ")
        try:
            parse(answer.body.decode("utf-8", "replace"), METRICS_PATH)
        except SourceError as exc:
            return str(exc).removeprefix(METRICS_PATH + ": ")
        if not answer.body.rstrip().endswith(b"# EOF"):
            return NOT_OPENMETRICS
        return None

    def config_reloaded(self, config: Config) -> None:
        """The native source's settings come from the command line only."""

    def close(self) -> None:
        self.http.close()

    def _get(
        self, queries: Sequence[tuple[str, ...]], deadline: float, whole: bool = False
    ) -> tuple[list[MetricFamily], int, int]:
        """The families of the answers to ``queries``, their bytes and how many requests; ``whole``: an answer
        without its ``# EOF`` line fails."""
        paths = [_path(names) for names in queries]
        url = self.base + METRICS_PATH
        auth = self.http.auth_header()
        secrets = self.http.secrets()
        answers: list[Answer | HttpError | None] = [None] * len(paths)
        for index, answer in self.http.client.get_many(paths, deadline, auth):
            answers[index] = answer
        families: list[MetricFamily] = []
        size = 0
        for answer in answers:
            if isinstance(answer, HttpError):
                raise SourceError(f"{url}: {answer}")
            assert answer is not None  # get_many answers every path
            size += len(answer.body)
            if answer.status == 404:
                raise SourceError(f"{url}: HTTP 404: {NOT_SERVED}")
            if answer.status != 200:
                raise SourceError(status_message(answer.status, url, answer.body, secrets))
            families += parse(answer.body.decode("utf-8", "replace"), url)
            if whole and not answer.body.rstrip().endswith(b"# EOF"):
                raise SourceError(f"{url}: {NOT_OPENMETRICS}: cut short, or not Trino's /metrics (a proxy's answer?)")
        return families, size, len(paths)


def _path(names: Sequence[str]) -> str:
    if not names:
        return METRICS_PATH
    return METRICS_PATH + "?" + urlencode([("name[]", name) for name in names])


def chunks(names: Sequence[str], limit: int = MAX_QUERY) -> list[tuple[str, ...]]:
    """The names in groups whose ``name[]=...`` parameters stay under ``limit`` characters (at least one each)."""
    groups: list[tuple[str, ...]] = []
    current: list[str] = []
    used = 0
    for name in names:
        cost = len(urlencode([("name[]", name)])) + 1
        if current and used + cost > limit:
            groups.append(tuple(current))
            current, used = [], 0
        current.append(name)
        used += cost
    if current:
        groups.append(tuple(current))
    return groups


def guessed_beans(families: list[MetricFamily]) -> list[MBean]:
    """Every family whose name has a bean's shape, under the bean its name suggests (no bean was listed)."""
    names: dict[str, Wanted] = {}
    for family in families:
        object_name = guess_object_name(family.name)
        if object_name is not None and object_name not in names:
            try:
                names[object_name] = Wanted.of(object_name)
            except ValueError:
                continue
    return Mapper(names.values()).records(families)
