"""`serve`: the long-running sidecar."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from exporter.commands import options, probing
from exporter.commands.common import build_scraper
from exporter.commands.exitcodes import ExitCode
from exporter.errors import UsageError
from exporter.scrape.scraper import SingleFlight
from exporter.web.auth import Users
from exporter.web.probe import Prober
from exporter.web.server import ExporterServer, tls_context

log = logging.getLogger(__name__)

# Seconds in-flight scrapes get to finish after SIGTERM; then the process exits without them.
STOP_GRACE = 5.0

HELP = "serve /metrics, /healthz, /ready and / for Prometheus (the sidecar mode), and /probe and /discovery"
DESCRIPTION = (
    "Serve the target's MBeans as Prometheus metrics. Every GET /metrics fetches from the target (concurrent "
    "scrapes share one fetch) and always answers 200 within --scrape-timeout: a failing target shows as "
    "jmx_scrape_error 1 and presto_jmx_exporter_target_up 0. /healthz says the process is alive, /ready that the "
    "last scrape of the target succeeded. The config file is re-read within a second of a change. SIGTERM stops "
    f"accepting, gives in-flight scrapes up to {STOP_GRACE:g}s to finish and exits 0. GET /probe?target=TARGET "
    "reads another target the same way (blackbox_exporter's pattern), if --probe-allow or /discovery admits it. "
    "With --source passthrough, /metrics and /probe re-serve the families of Trino's own /metrics that the config's "
    "passthrough.names lists, unchanged and without rules, followed by the exporter's own metrics: for Prometheus, "
    "which cannot send Trino's X-Trino-User header, password or token itself."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_config_argument(parser)
    options.add_target_arguments(parser)
    options.add(parser, "--listen", "address to serve on, HOST:PORT ([::]:8081 for IPv6)", default="0.0.0.0:8081",
                metavar="HOST:PORT")
    web = parser.add_argument_group("the exporter's own endpoint")
    options.add(web, "--web-tls-cert", "serve HTTPS with this certificate (PEM)", metavar="FILE")
    options.add(web, "--web-tls-key", "private key (PEM) of --web-tls-cert", metavar="FILE")
    options.add(web, "--web-client-ca", "require client certificates signed by this CA (PEM)", metavar="FILE")
    options.add(web, "--web-users-file", "require Basic auth: a file of 'user:hash' lines (see hash-password); "
                "/healthz stays open for liveness probes", metavar="FILE")
    options.add(parser, "--min-interval", "reuse a scrape result younger than this many seconds (0 = always fetch)",
                default=0.0, type=float, metavar="SECONDS")
    probing.add_arguments(parser)


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "", text
    host = host.strip("[]") or "0.0.0.0"
    if not port.isdigit():
        raise UsageError(f"--listen {text!r}: expected HOST:PORT with a port number")
    if not 0 <= int(port) <= 65535:
        raise UsageError(f"--listen {text!r}: port {int(port)} is out of range (0-65535)")
    return host, int(port)


def run(args: argparse.Namespace) -> int:
    address = parse_listen(args.listen)
    if bool(args.web_tls_cert) != bool(args.web_tls_key) or (args.web_client_ca and not args.web_tls_cert):
        raise UsageError("--web-tls-cert and --web-tls-key go together, and --web-client-ca needs them")
    tls = tls_context(args.web_tls_cert, args.web_tls_key, args.web_client_ca) if args.web_tls_cert else None
    users = Users.load(args.web_users_file) if args.web_users_file else None
    scraper = build_scraper(args, min_interval=args.min_interval)
    try:
        prober = probing.build_prober(args, options.source_settings(args), scraper.watcher)
        server = ExporterServer(address, scraper, users=users, tls=tls, prober=prober)
    except OSError as exc:
        scraper.source.close()
        raise UsageError(f"cannot listen on {args.listen}: {exc.strerror}") from None
    except BaseException:
        scraper.source.close()
        raise
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    server.serve_in_thread()
    scraper.watcher.start()
    probing.start(prober)
    log.info("listening url=%s target=%s modules=%s probe_allow=%s discovery=%s", server.url,
             scraper.source.description, ",".join(sorted(prober.pool.modules)), ",".join(prober.allow.texts) or "-",
             prober.discovery.lister.description if prober.discovery else "-")  # fmt: skip
    stop.wait()
    scraper.watcher.stop()
    probing.stop(prober)
    stopping = threading.Thread(target=_stop, args=(server, scraper, prober), name="stop", daemon=True)
    stopping.start()
    stopping.join(STOP_GRACE)
    if stopping.is_alive():
        log.warning("in-flight scrapes did not finish within %gs of the signal; exiting without them", STOP_GRACE)
        logging.shutdown()
        os._exit(ExitCode.OK)  # the threads still running would hold a normal exit until they end
    log.info("stopped")
    if _jvm_started():
        # A JVM a probe started on a request thread holds the interpreter's exit (JPype waits for the RMI threads it
        # made); everything is closed by now, so leave at once.
        logging.shutdown()
        os._exit(ExitCode.OK)
    return ExitCode.OK


def _jvm_started() -> bool:
    jpype = sys.modules.get("jpype")  # imported only when a JMX target was opened
    return jpype is not None and bool(jpype.isJVMStarted())


def _stop(server: ExporterServer, scraper: SingleFlight, prober: Prober) -> None:
    server.shutdown()  # stop accepting
    server.server_close()  # joins handler threads: in-flight scrapes finish
    scraper.source.close()
    probing.close(prober)
