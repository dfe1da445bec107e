"""The ``serve`` options for reading many targets from one exporter (``/probe``, ``/discovery``), and what they
build."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
from pathlib import Path

from exporter.commands import options
from exporter.commands.common import PASSTHROUGH, mode_warnings
from exporter.config.model import Config
from exporter.errors import UsageError
from exporter.scrape.discovery import Discovery
from exporter.scrape.targets import DEFAULT_IDLE, DEFAULT_MAX_TARGETS, TargetPool
from exporter.scrape.watcher import ConfigWatcher
from exporter.sources.address import target_address
from exporter.sources.base import FamilySource, Source
from exporter.sources.factory import open_family_source, open_source
from exporter.sources.jmx.settings import is_jmx_target
from exporter.sources.rest.nodes import NodeLister
from exporter.sources.settings import SourceSettings
from exporter.web.probe import DEFAULT_MODULE, ProbeAllow, Prober, check_module_name, connector_check

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "other targets: /probe?target=TARGET&module=NAME and /discovery",
        "a probe reads TARGET (a URL --target takes) with the credentials above and the module's rule file; "
        "targets outside --probe-allow and the discovered nodes are refused")
    _add_list(group, "--module", "NAME=FILE", "a rule file probes can name with &module=NAME (--config is module "
              "'default'); repeatable [env PJE_MODULE, space-separated]")
    _add_list(group, "--probe-allow", "PATTERN", "targets /probe may read: a host name, *.domain, *, an IP address "
              "or CIDR, each with an optional :PORT ([fd00::/8]:8080 for IPv6); names match names and addresses "
              "match addresses, never resolved; repeatable [env PJE_PROBE_ALLOW, comma- or space-separated]",
              commas=True)
    options.add(group, "--probe-idle", "seconds a probed target's connection, plan and rule memo are kept after its "
                "last probe", default=DEFAULT_IDLE, type=float, metavar="SECONDS")
    options.add(group, "--probe-max-targets", "most probed targets kept at once; past it the least recently probed "
                "is dropped", default=DEFAULT_MAX_TARGETS, type=int, metavar="N")
    options.add(group, "--discovery-url", "coordinator (http(s)://host:port) whose node list /discovery serves as "
                "Prometheus HTTP SD; the nodes it lists may be probed", metavar="URL")
    options.add(group, "--discovery-jmx-port", "discovered targets are jmx://NODE:PORT instead of the nodes' HTTP "
                "URIs, to read every node over JMX", type=int, metavar="PORT")


def _add_list(group: argparse._ArgumentGroup, option: str, metavar: str, help_text: str, commas: bool = False) -> None:
    """A repeatable option whose default is its environment variable's words (and comma-separated items)."""
    text = os.environ.get(options.env_name(option))
    default = (text.replace(",", " ") if commas else text).split() if text else None
    group.add_argument(option, action="append", metavar=metavar, default=default, help=help_text)


def modules(args: argparse.Namespace) -> dict[str, Path]:
    """``--module NAME=FILE`` as a name -> file mapping; UsageError for a malformed or repeated one."""
    found: dict[str, Path] = {}
    for text in args.module or ():
        name, sep, path = text.partition("=")
        if not sep or not path:
            raise UsageError(f"--module {text!r}: expected NAME=FILE")
        if check_module_name(name) in found:
            raise UsageError(f"--module {name}: given twice")
        found[name] = Path(path)
    return found


def build_prober(args: argparse.Namespace, settings: SourceSettings, default: ConfigWatcher) -> Prober:
    """The pool of probed targets over the default module and ``--module``'s, the ``--probe-allow`` policy and the
    ``--discovery-url`` discovery. Bad values raise UsageError, a bad module file ConfigError (exit 2)."""
    if not args.probe_idle > 0 or args.probe_idle == float("inf"):
        raise UsageError(f"--probe-idle must be a finite number more than zero, got {args.probe_idle}")
    if args.probe_max_targets < 1:
        raise UsageError(f"--probe-max-targets must be at least 1, got {args.probe_max_targets}")
    if args.discovery_jmx_port is not None and not 0 < args.discovery_jmx_port < 65536:
        raise UsageError(f"--discovery-jmx-port {args.discovery_jmx_port} is not a port (1-65535)")
    passthrough = settings.http_source == PASSTHROUGH
    if passthrough and args.discovery_jmx_port is not None:
        raise UsageError("--discovery-jmx-port makes the discovered targets JMX URLs, and --source passthrough reads "
                         "Trino's /metrics over http(s)")  # fmt: skip
    allow = ProbeAllow.parse(args.probe_allow or ())
    watchers = {DEFAULT_MODULE: default}
    for name, path in modules(args).items():
        watcher = watchers[name] = ConfigWatcher(path)
        try:
            warnings = [*watcher.config.warnings, *mode_warnings(watcher.config, settings.http_source)]
        except UsageError as exc:
            raise UsageError(f"--module {name}: {exc}") from None
        for warning in warnings:
            log.warning("module %s: %s", name, warning)

    def open_target(target: str, config: Config) -> Source | FamilySource:
        chosen = dataclasses.replace(settings, target=target)
        if passthrough:
            return open_family_source(chosen)
        if is_jmx_target(target):
            check = connector_check(target_address(target), allow)
            chosen = dataclasses.replace(chosen, jmx=dataclasses.replace(settings.jmx, connector_check=check))
        return open_source(chosen, config)

    pool = TargetPool(watchers, open_target, timeout=args.scrape_timeout, min_interval=args.min_interval,
                      discovery_interval=args.discovery_interval, idle=args.probe_idle,
                      max_targets=args.probe_max_targets, passthrough=passthrough)  # fmt: skip
    discovery = None
    if args.discovery_url:
        discovery = Discovery(_node_lister(args.discovery_url, settings), timeout=args.scrape_timeout,
                              jmx_port=args.discovery_jmx_port)  # fmt: skip
    elif args.discovery_jmx_port is not None:
        raise UsageError("--discovery-jmx-port needs --discovery-url")
    return Prober(pool, allow, discovery)


def _node_lister(url: str, settings: SourceSettings) -> NodeLister:
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--discovery-url {url!r}: expected the coordinator's http(s)://host:port")
    if "@" in url:
        raise UsageError("--discovery-url: do not put user info in the URL; use --user and --password-file")
    try:
        return NodeLister(url, settings.http)
    except ValueError as exc:
        raise UsageError(f"--discovery-url: {exc}") from None


def start(prober: Prober) -> None:
    for watcher in prober.pool.modules.values():
        watcher.start()  # the default module's watcher is started by serve already; start() is idempotent


def stop(prober: Prober) -> None:
    for watcher in prober.pool.modules.values():
        watcher.stop()


def close(prober: Prober) -> None:
    prober.pool.close()
    if prober.discovery is not None:
        prober.discovery.close()
