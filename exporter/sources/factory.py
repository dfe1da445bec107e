"""Pick and open the source a target names: REST or native (Trino's /metrics) for http(s) URLs, JMX for JMX URLs,
a dump for a file; or, for the pass-through mode, the source of Trino's /metrics families as they are."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from exporter.config.model import Config
from exporter.errors import UsageError
from exporter.sources.base import FamilySource, Source
from exporter.sources.jmx.settings import config_target, is_jmx_target
from exporter.sources.settings import SourceSettings


def open_source(settings: SourceSettings, config: Config | None) -> Source:
    """The source for ``settings.target`` (or the config's hostPort/jmxUrl); problems raise UsageError."""
    if settings.http_source == "passthrough":
        raise UsageError(
            "--source passthrough re-serves Trino's /metrics without rules, for serve and scrape only; "
            "this command reads MBeans: use --source native (or auto)"
        )
    target = settings.target or config_target(config)
    if not target:
        raise UsageError("no target: give --target (a URL, a dump file or a JMX URL) or hostPort/jmxUrl in the config")
    if target.startswith(("http://", "https://")):
        return _http_source(target, settings)
    if settings.http_source != "auto":
        raise UsageError(f"--source {settings.http_source} reads an http(s) target; {target!r} is not one "
                         "(leave --source at auto for JMX URLs and dump files)")
    if is_jmx_target(target):
        from exporter.sources.jmx.source import open_jmx_source  # JPype is loaded only for JMX targets

        return open_jmx_source(settings.target, settings.jmx, config)
    path = Path(target)
    if not path.is_file():
        raise UsageError(f"target {target!r} is neither an http(s) URL, a JMX URL, nor an existing dump file")
    from exporter.sources.dump import DumpSource

    return DumpSource(path)


def _http_source(target: str, settings: SourceSettings) -> Source:
    if urlsplit(target).password is not None:
        # The target URL shows up on the landing page and in logs; a password in it would leak there.
        raise UsageError("--target: do not put a password in the URL; use --password-file or PJE_PASSWORD")
    try:
        if settings.http_source == "native":
            from exporter.sources.native.source import NativeSource

            return NativeSource(target, settings.http)
        if settings.http_source == "rest":
            from exporter.sources.rest.source import RestSource

            return RestSource(target, settings.http)
        from exporter.sources.auto import AutoSource

        return AutoSource(target, settings.http)
    except ValueError as exc:
        raise UsageError(f"--target: {exc}") from None


def open_family_source(settings: SourceSettings) -> FamilySource:
    """The source of ``--source passthrough``: the families of Trino's ``/metrics`` at ``settings.target`` (an
    http(s) URL), with the HTTP settings every HTTP source takes; problems raise UsageError."""
    target = settings.target
    if not target:
        raise UsageError("no target: --source passthrough needs --target, the coordinator's http(s)://host:port")
    if not target.startswith(("http://", "https://")):
        raise UsageError(f"--source passthrough reads Trino's /metrics over http(s); {target!r} is not an http(s) URL")
    if urlsplit(target).password is not None:
        raise UsageError("--target: do not put a password in the URL; use --password-file or PJE_PASSWORD")
    from exporter.sources.native.source import NativeSource

    try:
        return NativeSource(target, settings.http)
    except ValueError as exc:
        raise UsageError(f"--target: {exc}") from None
