"""Everything a source factory needs besides the configuration file: built once by the caller, never changed."""

from __future__ import annotations

from dataclasses import dataclass, field

from exporter.sources.jmx.settings import JmxClientSettings
from exporter.sources.rest.settings import HttpSettings

HTTP_SOURCES = ("auto", "rest", "native", "passthrough")


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """``target`` is what to read (a URL, a dump file, a JMX URL); None takes the config's ``jmxUrl``/``hostPort``
    and follows it when the config is reloaded. ``http`` applies to http(s) targets, ``jmx`` to JMX targets.
    ``http_source`` says what an http(s) target is read through: ``rest`` (``/v1/jmx/mbean``), ``native`` (Trino's
    ``/metrics``) or ``auto`` (REST, then native once the server shows it has no ``/v1/jmx``); ``passthrough`` reads
    ``/metrics`` too, for its families as they are (:func:`exporter.sources.factory.open_family_source`), and opens
    no MBean source."""

    target: str | None = None
    http_source: str = "auto"
    http: HttpSettings = field(default_factory=HttpSettings)
    jmx: JmxClientSettings = field(default_factory=JmxClientSettings)
