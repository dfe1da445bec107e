"""One JMX connection with its bean catalogue: turns a BeanRequest into a Snapshot.

Call only on a thread attached to the running JVM.
"""

from __future__ import annotations

import time

from exporter.records.mbeans import MBean
from exporter.sources.base import BeanRequest, Snapshot
from exporter.sources.jmx.catalog import BeanCatalog
from exporter.sources.jmx.connect import ConnectionLost, connect
from exporter.sources.jmx.read import BeanGone, read_bean
from exporter.sources.jmx.settings import JmxSettings


class OutOfTime(Exception):
    """The deadline passed in the middle of a read."""


class NothingFound(Exception):
    """None of the literally named beans exists on the target."""


class Session:
    """An open connection (``connect`` raises ConnectFailed) and what is cached on it."""

    def __init__(self, settings: JmxSettings, epoch: int) -> None:
        self.epoch = epoch
        self.connection = connect(settings)
        self.catalog = BeanCatalog(self.connection)

    def read(self, request: BeanRequest, deadline: float) -> Snapshot:
        """Read the requested beans; raise ConnectionLost, OutOfTime or NothingFound."""
        connection = self.connection
        if connection.changes.connection_failed:
            raise ConnectionLost(f"the JMX connection to {connection.target.address} failed")
        calls_before = connection.calls
        layouts, found_problems = self.catalog.select(request)
        problems = list(found_problems)
        beans: list[MBean] = []
        for done, layout in enumerate(layouts):
            if time.monotonic() > deadline:
                raise OutOfTime(f"read {done} of {len(layouts)} MBeans before the scrape deadline")
            try:
                beans.append(read_bean(connection, layout, problems))
            except BeanGone:
                self.catalog.forget(layout)
        if request.object_names and not beans:
            raise NothingFound(f"none of the {len(request.object_names)} requested MBeans exists on the target")
        return Snapshot(tuple(beans), 0, connection.calls - calls_before, tuple(problems))

    def close(self) -> None:
        self.connection.close()
