"""Read MBeans from a coordinator's airlift ``/v1/jmx/mbean`` endpoint over HTTP(S)."""

from __future__ import annotations

import base64
import logging
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import urllib3

from exporter.config.model import Config
from exporter.records.mbeans import MBean
from exporter.sources import airlift
from exporter.sources.base import BeanRequest, Snapshot, SourceError
from exporter.sources.resolver import BoundedResolver
from exporter.sources.rest.client import Answer, HttpClient, HttpError
from exporter.sources.rest.settings import HttpSettings

log = logging.getLogger(__name__)

MBEAN_PATH = "/v1/jmx/mbean"
# Sent in the user header when no user and no credentials are given: Trino and PrestoSQL >= 337 answer 401 over plain
# HTTP without a user, and any name does.
DEFAULT_USER = "presto-jmx-exporter"
# Trino 480 and later no longer serve /v1/jmx.
_USE_JMX = ("read its MBeans over JMX instead: --target jmx://HOST:9080, with jmx.rmiregistry.port=9080 in the "
            "server's config.properties")
_MISSING_BEAN_STATUSES = frozenset({404, 500})  # airlift answers 500 for an unknown ObjectName; some proxies 404


class _TokenFile:
    """A bearer token read from a file and re-read when the file changes (projected Secrets rotate in place)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stamp: tuple[int, int] | None = None
        self._token = ""
        self._problem: str | None = None  # why the token as last read cannot be sent

    @property
    def last(self) -> str:
        """The token as last read ("" before the first read)."""
        return self._token

    def token(self) -> str:
        """The token; checked when the file is read, not on every call."""
        try:
            stat = self._path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp != self._stamp:
                self._token = self._path.read_text(encoding="utf-8").strip()
                self._problem = self._check(self._token)
                self._stamp = stamp
        except OSError as exc:
            raise SourceError(f"cannot read the bearer token file {self._path}: {exc.strerror}") from None
        if self._problem:
            raise SourceError(self._problem)
        return self._token

    def _check(self, token: str) -> str | None:
        if not token:
            return f"the bearer token file {self._path} is empty"
        if not token.isascii() or not token.isprintable() or " " in token:
            return (f"the bearer token file {self._path} holds more than one token, or a character a header cannot "
                    "carry: put the token alone on one line (printable ASCII, no spaces)")
        return None


def base_url(target: str) -> str:
    """Normalise a target URL to the server's base (``http://host:port``), accepting a pasted full endpoint URL."""
    url = target.rstrip("/")
    if url.endswith(MBEAN_PATH):
        url = url[: -len(MBEAN_PATH)]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {target!r}")
    return url


class RestSource:
    """The REST source for one coordinator (implements :class:`exporter.sources.base.Source`); safe to call from
    several threads at once. Named beans are fetched one request each, ``parallelism`` at a time."""

    def __init__(self, target: str, settings: HttpSettings | None = None, resolver: BoundedResolver | None = None):
        self.settings = settings or HttpSettings()
        self.base = base_url(target)
        self.description = self.base
        headers = {"Accept": "application/json", "User-Agent": "presto-jmx-exporter"}
        user = self.settings.user
        if user is None and self.settings.password is None and self.settings.bearer_token_file is None:
            user = DEFAULT_USER
        if user:
            headers[self.settings.user_header] = user
        self._basic = ""
        if self.settings.password is not None:
            pair = f"{self.settings.user or ''}:{self.settings.password}".encode()
            self._basic = base64.b64encode(pair).decode("ascii")
            headers["Authorization"] = "Basic " + self._basic
        if self.settings.password is not None and self.base.startswith("http:"):
            log.warning("the password for %s is sent over plain HTTP, readable on the network: use https", self.base)
        if not self.settings.verify_tls and self.base.startswith("https:"):
            log.warning("TLS certificate verification of %s is off (--insecure-skip-verify)", self.base)
            # Said once here; urllib3 would say it again on every request.
            warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
        verify: bool | str = (self.settings.ca_bundle or True) if self.settings.verify_tls else False
        cert = (self.settings.client_cert, self.settings.client_key) if self.settings.client_cert else None
        self.client = HttpClient(
            self.base, headers, verify=verify, client_cert=cert, connect_timeout=self.settings.connect_timeout,
            max_body=self.settings.max_body_bytes, parallelism=self.settings.parallelism, resolver=resolver,
        )  # fmt: skip
        # A bearer token only when there is no password: Basic auth wins.
        token_file = self.settings.bearer_token_file if self.settings.password is None else None
        self._token = _TokenFile(token_file) if token_file else None

    def fetch(self, request: BeanRequest, deadline: float) -> Snapshot:
        """Fetch the requested beans (each by name) or the whole list."""
        if request.object_names is None:
            return self._fetch_all(deadline)
        return self._fetch_named(request.object_names, deadline)

    def get_json(self, path: str, deadline: float) -> Any:
        """GET ``path`` (from the server's root) with the source's credentials and decode the JSON answer; anything
        but a 200 with JSON raises SourceError, secret-free."""
        url = self.base + path
        try:
            answer = self.client.get(path, deadline, self._auth_header())
        except HttpError as exc:
            raise SourceError(f"{url}: {exc}") from None
        if answer.status != 200:
            raise SourceError(_status_message(answer.status, url, answer.body, self._secrets()))
        return airlift.loads(answer.body, url)

    def config_reloaded(self, config: Config) -> None:
        """The REST source's settings come from the command line only."""

    def close(self) -> None:
        self.client.close()

    def _fetch_all(self, deadline: float) -> Snapshot:
        url = self.base + MBEAN_PATH
        try:
            answer = self.client.get(MBEAN_PATH, deadline, self._auth_header())
        except HttpError as exc:
            raise SourceError(f"{url}: {exc}") from None
        if answer.status == 404:
            raise SourceError(f"{url}: HTTP 404: this server does not serve /v1/jmx (Trino 480 and later removed it); "
                              f"{_USE_JMX}")
        if answer.status != 200:
            raise SourceError(_status_message(answer.status, url, answer.body, self._secrets()))
        beans, problems = airlift.parse_bean_list(airlift.loads(answer.body, url), url)
        return Snapshot(tuple(beans), len(answer.body), 1, tuple(problems))

    def _fetch_named(self, names: tuple[str, ...], deadline: float) -> Snapshot:
        if not names:
            return Snapshot(())
        paths = [f"{MBEAN_PATH}/{quote(name, safe='')}" for name in names]
        results: list[_Named | SourceError | None] = [None] * len(names)
        auth = self._auth_header()
        secrets = self._secrets()  # after the token file was read
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
                raise SourceError(f"{self.base}: none of the {len(names)} requested MBeans exists on the target: each "
                                  "answered HTTP 404, as a server without /v1/jmx does (Trino 480 and later removed "
                                  f"it); {_USE_JMX}")
            if server_errors == len(names):
                raise SourceError(
                    f"{self.base}: none of the {len(names)} requested MBeans could be read: each answered with a "
                    f"server error ({first_missing})"
                )
            cause = problems[0] if problems else f"each answered {first_missing}" if first_missing else None
            why = f" ({cause})" if cause else ""
            raise SourceError(f"{self.base}: none of the {len(names)} requested MBeans exists on the target{why}")
        return Snapshot(tuple(beans), size, len(names), tuple(problems))

    def _secrets(self) -> list[str]:
        """What must never be repeated from an upstream's answer: the password, its Basic header, the token."""
        secrets = [self._basic, self.settings.password or ""]
        if self._token is not None:
            secrets.append(self._token.last)
        return [secret for secret in secrets if secret]

    def _auth_header(self) -> dict[str, str] | None:
        if self._token is None:
            return None
        return {"Authorization": f"Bearer {self._token.token()}"}


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
        why = _status_message(answer.status, "", answer.body, secrets).removeprefix(": ")
        unknown = answer.status == 404 or b"InstanceNotFoundException" in answer.body[:1000]
        return _Named(len(answer.body), missing=why, server_error=not unknown, not_found=answer.status == 404)
    if answer.status != 200:
        raise SourceError(_status_message(answer.status, url, answer.body, secrets))
    document: Any = airlift.loads(answer.body, url)
    if not isinstance(document, dict):
        raise SourceError(f"{url}: expected a JSON object for one MBean, got {type(document).__name__}")
    try:
        return _Named(len(answer.body), bean=airlift.parse_bean(document))
    except SourceError as exc:
        return _Named(len(answer.body), problem=f"{url}: {exc}")


# What an upstream that echoes the request (a proxy, an error page) may repeat of our credentials.
_CREDENTIAL_HEADER = re.compile(r"(?i)\b((?:proxy-)?authorization|cookie|x-trino-extra-credential)\s*[:=]\s*[^\r\n,;]*")
# A scheme and a token-like word (a digit or one of +/=. in it): "Basic authentication ..." is Trino's own text.
_CREDENTIAL = re.compile(r"(?i)\b(basic|bearer)\s+(?=[\w~+/=.-]*[0-9+/=.])[\w~+/=.-]{4,}")


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """``text`` without what looks like a credential, nor any of ``secrets``: it may be logged and shown."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    text = _CREDENTIAL_HEADER.sub(lambda m: f"{m.group(1)}: <redacted>", text)
    return _CREDENTIAL.sub(lambda m: f"{m.group(1)} <redacted>", text)


def _status_message(status: int, url: str, body: bytes, secrets: Sequence[str] = ()) -> str:
    hint = ""
    if status == 401:
        hint = (" (the server wants credentials: --user with --password-file, or --bearer-token-file; PrestoSQL "
                "reads the user from X-Presto-User: --user-header X-Presto-User)")
    elif status == 403:
        hint = " (the user lacks permission to read system information: grant it, or --user one that has it)"
    first_line = body[:300].decode("utf-8", "replace").strip().splitlines()
    detail = f": {redact(first_line[0], secrets)[:200]}" if first_line else ""
    return f"{url}: HTTP {status}{hint}{detail}"

