"""Everything a source factory needs besides the configuration file: built once by the caller, never changed."""

from __future__ import annotations

from dataclasses import dataclass, field

from exporter.sources.jmx.settings import JmxClientSettings
from exporter.sources.rest.settings import HttpSettings


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """``target`` is what to read (a URL, a dump file, a JMX URL); None takes the config's ``jmxUrl``/``hostPort``
    and follows it when the config is reloaded. ``http`` applies to REST targets, ``jmx`` to JMX targets."""

    target: str | None = None
    http: HttpSettings = field(default_factory=HttpSettings)
    jmx: JmxClientSettings = field(default_factory=JmxClientSettings)
