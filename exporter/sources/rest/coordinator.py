"""One coordinator over HTTP(S) as every HTTP source reaches it: the user header, Basic auth or a bearer token, TLS,
the kept-alive client, and failures said without secrets and with the option that fixes them.

The REST source (``/v1/jmx/mbean``) and the native source (Trino's ``/metrics``) share it, so both send the same
credentials and read the same settings.
"""

from __future__ import annotations

import base64
import logging
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import urllib3

from exporter.sources.base import SourceError
from exporter.sources.resolver import BoundedResolver
from exporter.sources.rest.client import HttpClient
from exporter.sources.rest.settings import HttpSettings

# Sent in the user header when no user and no credentials are given: Trino and PrestoSQL >= 337 answer 401 over plain
# HTTP without a user, and any name does.
DEFAULT_USER = "presto-jmx-exporter"


class TokenFile:
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


def server_base(target: str, endpoint: str = "") -> str:
    """A target URL as the server's base (``http://host:port``), accepting a pasted ``endpoint`` URL too."""
    url = target.rstrip("/")
    if endpoint and url.endswith(endpoint):
        url = url[: -len(endpoint)]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {target!r}")
    return url


class Coordinator:
    """The HTTP side of one coordinator: ``client`` for the GETs, ``auth_header()`` for each call (a bearer token
    read again when its file changes), ``secrets()`` for redaction. Warnings about the settings go to ``log``."""

    def __init__(self, base: str, settings: HttpSettings, accept: str, log: logging.Logger,
                 resolver: BoundedResolver | None = None) -> None:  # fmt: skip
        self.base = base
        self.settings = settings
        headers = {"Accept": accept, "User-Agent": "presto-jmx-exporter"}
        user = settings.user
        if user is None and settings.password is None and settings.bearer_token_file is None:
            user = DEFAULT_USER
        if user:
            headers[settings.user_header] = user
        self._basic = ""
        if settings.password is not None:
            pair = f"{settings.user or ''}:{settings.password}".encode()
            self._basic = base64.b64encode(pair).decode("ascii")
            headers["Authorization"] = "Basic " + self._basic
        if settings.password is not None and base.startswith("http:"):
            log.warning("the password for %s is sent over plain HTTP, readable on the network: use https", base)
        if not settings.verify_tls and base.startswith("https:"):
            log.warning("TLS certificate verification of %s is off (--insecure-skip-verify)", base)
            # Said once here; urllib3 would say it again on every request.
            warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
        verify: bool | str = (settings.ca_bundle or True) if settings.verify_tls else False
        cert = (settings.client_cert, settings.client_key) if settings.client_cert else None
        self.client = HttpClient(
            base, headers, verify=verify, client_cert=cert, connect_timeout=settings.connect_timeout,
            max_body=settings.max_body_bytes, parallelism=settings.parallelism, resolver=resolver,
        )  # fmt: skip
        # A bearer token only when there is no password: Basic auth wins.
        token_file = settings.bearer_token_file if settings.password is None else None
        self._token = TokenFile(token_file) if token_file else None

    def auth_header(self) -> dict[str, str] | None:
        """The per-request Authorization header (a bearer token), or None when the session's headers say it all."""
        if self._token is None:
            return None
        return {"Authorization": f"Bearer {self._token.token()}"}

    def secrets(self) -> list[str]:
        """What must never be repeated from an upstream's answer: the password, its Basic header, the token."""
        secrets = [self._basic, self.settings.password or ""]
        if self._token is not None:
            secrets.append(self._token.last)
        return [secret for secret in secrets if secret]

    def close(self) -> None:
        self.client.close()


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


def status_message(status: int, url: str, body: bytes, secrets: Sequence[str] = ()) -> str:
    """``URL: HTTP <status>``, the option that fixes a 401 or 403, and the first line of the answer, redacted."""
    hint = ""
    if status == 401:
        hint = (" (the server wants credentials: --user with --password-file, or --bearer-token-file; PrestoSQL "
                "reads the user from X-Presto-User: --user-header X-Presto-User)")
    elif status == 403:
        hint = " (the user lacks permission to read system information: grant it, or --user one that has it)"
    first_line = body[:300].decode("utf-8", "replace").strip().splitlines()
    detail = f": {redact(first_line[0], secrets)[:200]}" if first_line else ""
    return f"{url}: HTTP {status}{hint}{detail}"
