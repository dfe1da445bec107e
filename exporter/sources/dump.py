"""Read MBeans from a saved ``/v1/jmx/mbean`` JSON file, or a saved ``/metrics`` answer of Trino (OpenMetrics
text), for offline runs and rule development."""

from __future__ import annotations

from pathlib import Path

from exporter.config.model import Config
from exporter.records.mbeans import MBean
from exporter.records.metrics import MetricFamily
from exporter.records.objectname import canonical_key, parse_object_name
from exporter.sources import airlift
from exporter.sources.base import BeanRequest, Snapshot, SourceError
from exporter.sources.native import openmetrics
from exporter.sources.native.names import Mapper, wanted_beans
from exporter.sources.native.source import guessed_beans


class DumpSource:
    """A dump file, re-parsed only when it changes on disk. A file that starts with ``#`` is a saved ``/metrics``
    answer: its metrics map back to the requested beans as the native source maps them."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.description = str(self.path)
        self._stamp: tuple[int, int] | None = None
        self._cached: Snapshot | None = None
        self._families: list[MetricFamily] | None = None

    def fetch(self, request: BeanRequest, deadline: float) -> Snapshot:
        snapshot = self._load()
        if self._families is not None:
            if request.object_names is None:
                beans = guessed_beans(self._families)
            else:
                mapper = Mapper(wanted_beans(request.object_names, dict(request.attributes)))
                beans = mapper.records(self._families)
            return Snapshot(tuple(_by_name(beans)), snapshot.bytes_read, snapshot.requests)
        if request.object_names is None:
            return snapshot
        wanted = {canonical_key(*parse_object_name(name)) for name in request.object_names}
        beans = tuple(bean for bean in snapshot.beans if canonical_key(bean.domain, bean.properties) in wanted)
        return Snapshot(beans, snapshot.bytes_read, snapshot.requests, snapshot.problems)

    def is_openmetrics(self) -> bool:
        """Whether the file is a saved ``/metrics`` answer (its records depend on the bean names asked for)."""
        self._load()
        return self._families is not None

    def config_reloaded(self, config: Config) -> None:
        """A dump reads nothing from the config."""

    def close(self) -> None:
        self._cached = None
        self._families = None

    def _load(self) -> Snapshot:
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            if self._cached is not None and stamp == self._stamp:
                return self._cached
            body = self.path.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read dump file {self.path}: {exc.strerror}") from None
        if body.lstrip()[:1] == b"#":
            self._families = openmetrics.parse(body.decode("utf-8", "replace"), str(self.path))
            self._cached = Snapshot((), len(body), 1)
            self._stamp = stamp
            return self._cached
        self._families = None
        if body.lstrip()[:1] == b"{":  # a single-bean dump (/v1/jmx/mbean/{name})
            beans, problems = airlift.parse_bean_list([airlift.loads(body, str(self.path))], str(self.path))
        else:
            beans, problems = airlift.read_bean_list(body, str(self.path))
        self._cached = Snapshot(tuple(_by_name(beans)), len(body), 1, tuple(problems))
        self._stamp = stamp
        return self._cached


def _by_name(beans: list[MBean]) -> list[MBean]:
    """Stable order, so two runs over the same file print the same exposition."""
    return sorted(beans, key=lambda bean: bean.object_name)
