"""Command-line options shared by the subcommands, each with an environment variable so a container needs no args."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

from exporter.errors import UsageError
from exporter.sources.jmx.settings import JmxClientSettings
from exporter.sources.rest.settings import HttpSettings
from exporter.sources.secrets import read_secret_file
from exporter.sources.settings import HTTP_SOURCES, SourceSettings

ENV_PREFIX = "PJE_"
DEFAULT_SCRAPE_TIMEOUT = 8.0


def env_name(option: str) -> str:
    """``--bearer-token-file`` -> ``PJE_BEARER_TOKEN_FILE``."""
    return ENV_PREFIX + option.lstrip("-").replace("-", "_").upper()


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def add(parser: argparse.ArgumentParser, option: str, help_text: str, **kwargs: object) -> None:
    """Add an option whose default comes from its environment variable, and say so in --help.

    A value from the environment is checked here, with the variable named (UsageError): argparse would blame the
    option, after its usage text, and never check a default against ``choices``.
    """
    variable = env_name(option)
    default = kwargs.pop("default", None)
    from_env = os.environ.get(variable)
    value: object = default
    if kwargs.get("action") == "store_true":
        value = False if from_env is None else _env_flag(variable, from_env, option)
    elif from_env is not None:
        value = _env_value(variable, from_env, option, kwargs)
    shown = f"; default {default}" if default is not None and default is not False else ""
    parser.add_argument(option, default=value, help=f"{help_text} [env {variable}{shown}]", **kwargs)  # type: ignore[arg-type]


def _env_flag(variable: str, text: str, option: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise UsageError(f"{variable}={text!r} is not true or false: use 1/0, true/false, yes/no or on/off "
                     f"(it sets {option})")


def _env_value(variable: str, text: str, option: str, kwargs: dict[str, object]) -> object:
    convert = kwargs.get("type")
    value: object = text
    if callable(convert):
        try:
            value = convert(text)
        except (TypeError, ValueError):
            kind = {float: "a number", int: "a whole number"}.get(convert, "valid")  # type: ignore[call-overload]
            raise UsageError(f"{variable}={text!r} is not {kind} (it sets {option})") from None
    choices = kwargs.get("choices")
    if choices is not None and value not in choices:  # type: ignore[operator]
        listed = ", ".join(map(str, choices))  # type: ignore[call-overload]
        raise UsageError(f"{variable}={text!r} is not one of {listed} (it sets {option})")
    return value


def add_config_argument(parser: argparse.ArgumentParser, required: bool = True) -> None:
    add(parser, "--config", "jmx_exporter-format YAML rule file (e.g. rules/trino.yml)", metavar="FILE")
    parser.set_defaults(config_required=required)


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """Where to read MBeans from and how to authenticate."""
    group = parser.add_argument_group(
        "target", "HTTP(S) targets are reached through HTTP_PROXY / HTTPS_PROXY when set, except hosts in NO_PROXY; "
        "redirects are not followed")
    add(group, "--target", "coordinator base URL (http(s)://host:port), a saved /v1/jmx/mbean JSON file or /metrics "
        "answer, or a JMX "
        "URL (service:jmx:rmi:///jndi/rmi://host:port/jmxrmi or jmx://host:port); defaults to the config's "
        "hostPort/jmxUrl, followed when the config is reloaded", metavar="TARGET")
    add(group, "--source", "how an http(s) target is read: rest (airlift's /v1/jmx/mbean: prestodb, PrestoSQL, "
        "Trino up to 479), native (Trino's own OpenMetrics /metrics, the only one Trino 480 and later serve), "
        "auto (rest, switching to native by itself when /v1/jmx answers 404 and /metrics answers OpenMetrics), or "
        "passthrough (serve and scrape only: Trino's /metrics re-served as Trino writes it, names, types and HELP "
        "unchanged, no rules, with the exporter's own metrics and its auth towards Trino; the config's "
        "passthrough.names picks the families)", default="auto", choices=HTTP_SOURCES)
    add(group, "--user", "user name sent in the user header (and as the Basic auth user when a password is set); "
        "without it and without credentials, presto-jmx-exporter is sent")
    add(group, "--user-header", "header that carries the user name; X-Presto-User for servers that use it",
        default="X-Trino-User", metavar="NAME")
    add(group, "--password-file", "file holding the coordinator password for Basic auth (PJE_PASSWORD works too)",
        metavar="FILE")
    add(group, "--bearer-token-file", "file holding a bearer token (JWT); re-read when it changes", metavar="FILE")
    add(group, "--ca-bundle", "CA certificates (PEM) to verify the coordinator's TLS certificate", metavar="FILE")
    add(group, "--insecure-skip-verify", "do not verify the coordinator's TLS certificate", action="store_true")
    add(group, "--client-cert", "client certificate (PEM) for mutual TLS", metavar="FILE")
    add(group, "--client-key", "private key (PEM) of the client certificate", metavar="FILE")
    add(group, "--connect-timeout", "seconds to wait for a connection to the target, name lookup included",
        default=2.0, type=float)
    add(group, "--scrape-timeout", "upper bound in seconds on one whole scrape (Prometheus gives up after 10s); "
        "without it, the config's scrapeTimeoutSeconds when it has one", default=DEFAULT_SCRAPE_TIMEOUT, type=float,
        action=_Given)
    parser.set_defaults(scrape_timeout_given=env_name("--scrape-timeout") in os.environ)
    add(group, "--max-body-bytes", "most bytes one scrape reads from the target, all its answers together",
        default=64 * 1024 * 1024, type=int)
    add(group, "--discovery-interval", "seconds between reads of the whole bean list when the rules do not name "
        "their beans; 0 reads everything on every scrape", default=300.0, type=float, metavar="SECONDS")
    jmx = parser.add_argument_group("JMX targets (pip install 'presto-jmx-exporter[jmx]')")
    add(jmx, "--jmx-username", "JMX user name (overrides the config's username)")
    add(jmx, "--jmx-password-file", "file holding the JMX password (overrides the config's password; read again "
        "when the config file is reloaded)", metavar="FILE")
    add(jmx, "--jmx-ssl", "reach the RMI registry and connector over TLS (like the config's ssl: true)",
        action="store_true")
    options_env = os.environ.get(env_name("--jvm-option"))
    jmx.add_argument("--jvm-option", action="append", metavar="FLAG",
                     default=options_env.split() if options_env else None,
                     help="extra flag for the embedded JVM, e.g. -Djavax.net.ssl.trustStore=/path; repeatable "
                     "[env PJE_JVM_OPTION, space-separated]")


class _Given(argparse.Action):
    """Stores the value and notes that it was given (``<dest>_given``): a default may then yield to the config."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:  # fmt: skip
        setattr(namespace, self.dest, values)
        setattr(namespace, self.dest + "_given", True)


def given_scrape_timeout(args: argparse.Namespace) -> float | None:
    """The scrape timeout the command line sets (--scrape-timeout, PJE_SCRAPE_TIMEOUT), or None when it leaves it
    to the config's ``scrapeTimeoutSeconds`` (else DEFAULT_SCRAPE_TIMEOUT)."""
    return float(args.scrape_timeout) if getattr(args, "scrape_timeout_given", True) else None


def check_numbers(args: argparse.Namespace) -> None:
    """Refuse values that would make every scrape fail, at start-up rather than at the first scrape."""
    for option, minimum, inclusive in (
        ("connect_timeout", 0.0, False),
        ("scrape_timeout", 0.0, False),
        ("max_body_bytes", 0, False),
        ("min_interval", 0.0, True),
        ("discovery_interval", 0.0, True),
    ):
        value = getattr(args, option, None)
        if value is None:
            continue
        in_range = value >= minimum if inclusive else value > minimum  # NaN fails both
        if not in_range or value != value or value == float("inf"):
            flag = "--" + option.replace("_", "-")
            bound = "zero or more" if inclusive else "more than zero"
            raise UsageError(f"{flag} must be a finite number {bound}, got {value}")


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 token
_HEADER_TEXT = re.compile(r"[\x20-\x7e\xa0-\xff\t]*")  # what a field value may carry, as Latin-1


def source_settings(args: argparse.Namespace) -> SourceSettings:
    """The target options as settings for the source factory, checked once; UsageError names the option."""
    check_numbers(args)
    return SourceSettings(target=args.target or None, http_source=getattr(args, "source", "auto") or "auto",
                          http=_http_settings(args), jmx=_jmx_settings(args))


def _http_settings(args: argparse.Namespace) -> HttpSettings:
    password = None
    if args.password_file:
        password = read_secret_file(args.password_file, "password")
    elif os.environ.get("PJE_PASSWORD"):
        password = os.environ["PJE_PASSWORD"]
    if password is not None and not args.user:
        raise UsageError("a password (--password-file or PJE_PASSWORD) needs --user: Basic auth sends both")
    for option in ("ca_bundle", "client_cert", "client_key", "bearer_token_file"):
        value = getattr(args, option)
        if value and not Path(value).is_file():
            raise UsageError(f"--{option.replace('_', '-')}: no such file: {value}")
    if not _HEADER_NAME.fullmatch(args.user_header or ""):
        raise UsageError(f"--user-header: {args.user_header!r} is not an HTTP header name (e.g. X-Trino-User)")
    if args.user is not None and (not _HEADER_TEXT.fullmatch(args.user) or args.user != args.user.strip()):
        raise UsageError(f"--user: {args.user!r} cannot be sent in an HTTP header: use Latin-1 characters, no line "
                         "breaks or control characters, no leading or trailing spaces")
    return HttpSettings(
        user=args.user,
        user_header=args.user_header,
        password=password,
        bearer_token_file=Path(args.bearer_token_file) if args.bearer_token_file else None,
        ca_bundle=args.ca_bundle,
        verify_tls=not args.insecure_skip_verify,
        client_cert=args.client_cert,
        client_key=args.client_key,
        connect_timeout=args.connect_timeout,
        max_body_bytes=args.max_body_bytes,
    )


def _jmx_settings(args: argparse.Namespace) -> JmxClientSettings:
    return JmxClientSettings(
        username=args.jmx_username or None,
        password_file=Path(args.jmx_password_file) if args.jmx_password_file else None,
        ssl=bool(args.jmx_ssl),
        connect_timeout=args.connect_timeout,
        call_timeout=args.scrape_timeout,
        jvm_options=tuple(args.jvm_option or ()),
    )
