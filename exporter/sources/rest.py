"""Read MBeans from a coordinator's airlift ``/v1/jmx/mbean`` endpoint over HTTP(S)."""

from __future__ import annotations

import base64
import logging
import os
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from exporter.mbeans import MBean
from exporter.sources import airlift
from exporter.sources.base import BeanRequest, Snapshot, SourceError
from exporter.sources.http_pool import HttpError, HttpPool
from exporter.sources.listing import BeanListing

log = logging.getLogger(__name__)

MBEAN_PATH = "/v1/jmx/mbean"
_MISSING_BEAN_STATUSES = frozenset({404, 500})  # airlift answers 500 for an unknown ObjectName; some proxies 404


@dataclass(frozen=True)
class HttpOptions:
    """How to reach and authenticate to the coordinator. Secrets never appear in ``repr``."""

    user: str | None = None
    user_header: str = "X-Trino-User"
    password: str | None = field(default=None, repr=False)
    bearer_token_file: Path | None = None
    ca_bundle: str | None = None
    verify_tls: bool = True
    client_cert: str | None = None
    client_key: str | None = None
    connect_timeout: float = 2.0
    max_body_bytes: int = 64 * 1024 * 1024
    parallelism: int = 8


class _TokenFile:
    """A bearer token read from a file and re-read when the file changes (projected Secrets rotate in place)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stamp: tuple[int, int] | None = None
        self._token = ""
        self._problem: str | None = None  # why the token as last read cannot be sent

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
    """A keep-alive HTTP client for one coordinator; safe to call from several threads at once.

    Named beans are fetched one request each, ``parallelism`` at a time on as many kept-alive connections, from
    the calling thread (:mod:`exporter.sources.http_pool`); the coordinator is reached directly, proxy variables
    are not used.
    """

    def __init__(self, target: str, options: HttpOptions | None = None, pool: HttpPool | None = None):
        self.options = options or HttpOptions()
        self.base = base_url(target)
        self.description = self.base
        headers = {"Accept": "application/json", "User-Agent": "presto-jmx-exporter"}
        if self.options.user:
            headers[self.options.user_header] = self.options.user
        if self.options.password is not None:
            pair = f"{self.options.user or ''}:{self.options.password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        self._headers = headers
        if not self.options.verify_tls and self.base.startswith("https:"):
            log.warning("TLS certificate verification of %s is off (--insecure-skip-verify)", self.base)
        self._pool = pool or HttpPool(
            self.base, _tls_context(self.options) if self.base.startswith("https:") else None,
            self.options.connect_timeout, max_idle=max(4, self.options.parallelism * 2),
        )  # fmt: skip
        # A bearer token only when there is no password: Basic auth wins, as it did with requests' session auth.
        token_file = self.options.bearer_token_file if self.options.password is None else None
        self._token = _TokenFile(token_file) if token_file else None

    def fetch(self, request: BeanRequest, deadline: float) -> Snapshot:
        """Fetch the requested beans (each by name, ``parallelism`` requests at a time) or the whole list."""
        if request.object_names is None:
            return self._fetch_all(request, deadline)
        return self._fetch_named(request.object_names, deadline, request.deferred)

    def config_reloaded(self, config: object) -> None:
        """The REST source's settings come from the command line only."""

    def close(self) -> None:
        self._pool.close()

    def _fetch_all(self, request: BeanRequest, deadline: float) -> Snapshot:
        url = self.base + MBEAN_PATH
        status, pieces = self._get_pieces(MBEAN_PATH, deadline)
        if status != 200:
            raise SourceError(_status_message(status, url, b"".join(pieces)))
        listing = BeanListing(pieces, url)
        size = sum(map(len, pieces))
        if request.deferred:
            return Snapshot(bytes_read=size, requests=1, listing=listing)
        beans, problems = listing.parse()
        return Snapshot(tuple(beans), size, 1, tuple(problems))

    def _fetch_named(self, names: tuple[str, ...], deadline: float, deferred: bool) -> Snapshot:
        if not names:
            return Snapshot(())
        paths = [f"{MBEAN_PATH}/{quote(name, safe='')}" for name in names]
        results: list[_Answer | SourceError | None] = [None] * len(names)
        answers = self._pool.get_many(
            paths, self._request_headers(), deadline, self.options.max_body_bytes, self.options.parallelism
        )
        for index, answer in answers:  # each bean is decoded while the others are on their way
            path = paths[index]
            if isinstance(answer, HttpError):
                results[index] = SourceError(f"{self.base}{path}: {answer}")
                continue
            try:
                results[index] = self._decode(path, *answer)
            except SourceError as exc:
                results[index] = exc
        decoded: list[_Answer] = []
        for result in results:
            if isinstance(result, SourceError):
                raise result
            assert result is not None  # get_many answers every path
            decoded.append(result)
        listing = _NamedAnswers(self.base, decoded)
        size = sum(answer.size for answer in decoded)
        if deferred:
            return Snapshot(bytes_read=size, requests=len(names), listing=listing)
        beans, problems = listing.parse()
        return Snapshot(tuple(beans), size, len(names), tuple(problems))

    def _decode(self, path: str, status: int, body: bytes) -> _Answer:
        """One bean's answer: a missing bean is not an error, a broken answer is."""
        if status in _MISSING_BEAN_STATUSES:
            why = "each answered " + _status_message(status, "", body).removeprefix(": ")
            return _Answer(self.base + path, len(body), None, why)
        url = self.base + path
        if status != 200:
            raise SourceError(_status_message(status, url, body))
        document = airlift.loads(body, url)
        if not isinstance(document, dict):
            raise SourceError(f"{url}: expected a JSON object for one MBean, got {type(document).__name__}")
        return _Answer(url, len(body), document, None)

    def _request_headers(self) -> dict[str, str]:
        if self._token is None:
            return self._headers
        return {**self._headers, "Authorization": f"Bearer {self._token.token()}"}

    def _get_pieces(self, path: str, deadline: float) -> tuple[int, list[bytes]]:
        """GET ``path``, bounded by the deadline and the body size cap; the body as the pieces it was read in."""
        try:
            return self._pool.get(path, self._request_headers(), deadline, self.options.max_body_bytes)
        except HttpError as exc:
            raise SourceError(f"{self.base}{path}: {exc}") from None


@dataclass(frozen=True, slots=True)
class _Answer:
    """One bean's decoded answer, or why it is missing (``document`` None)."""

    url: str
    size: int
    document: dict[str, Any] | None
    missing: str | None


class _NamedAnswers:
    """The beans of a fetch by name, decoded but not yet parsed into MBeans: a deferred ``Snapshot.listing``, whose
    ``items`` a steady read (:mod:`exporter.steady`) takes the values from."""

    def __init__(self, base: str, answers: list[_Answer]) -> None:
        self._base = base
        self._answers = answers

    def items(self) -> Iterator[dict[str, Any]]:
        """The beans the target has, in the order they were asked for."""
        for answer in self._answers:
            if answer.document is not None:
                yield answer.document

    def parse(self) -> tuple[list[MBean], list[str]]:
        """The beans and a problem for each one that could not be read; SourceError when none could be."""
        beans: list[MBean] = []
        problems: list[str] = []
        for answer in self._answers:
            if answer.document is None:
                continue
            try:
                beans.append(airlift.parse_bean(answer.document))
            except SourceError as exc:
                problems.append(f"{answer.url}: {exc}")
        if not beans:
            first_missing = next((answer.missing for answer in self._answers if answer.missing), None)
            cause = problems[0] if problems else first_missing
            why = f" ({cause})" if cause else ""
            raise SourceError(
                f"{self._base}: none of the {len(self._answers)} requested MBeans exists on the target{why}"
            )
        return beans, problems


def _tls_context(options: HttpOptions) -> ssl.SSLContext:
    """Verification against ``ca_bundle`` (else REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE, else certifi's bundle, as
    requests does), or none with ``verify_tls=False``; plus the client certificate for mutual TLS."""
    if options.verify_tls:
        bundle = options.ca_bundle or os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle is None:
            try:
                import certifi  # requests' bundle, installed with it
            except ImportError:
                certifi = None  # type: ignore[assignment]
            bundle = certifi.where() if certifi is not None else None
        context = ssl.create_default_context(cafile=bundle)
    else:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if options.client_cert:
        context.load_cert_chain(options.client_cert, options.client_key)
    return context


def _status_message(status: int, url: str, body: bytes) -> str:
    hint = ""
    if status == 401:
        hint = " (set --user, or a password/token: Trino and PrestoSQL >= 337 need X-Trino-User over HTTP)"
    elif status == 403:
        hint = " (the user lacks permission to read system information)"
    first_line = body[:300].decode("utf-8", "replace").strip().splitlines()
    detail = f": {first_line[0][:200]}" if first_line else ""
    return f"{url}: HTTP {status}{hint}{detail}"

