"""Read MBeans from a coordinator's airlift ``/v1/jmx/mbean`` endpoint over HTTP(S)."""

from __future__ import annotations

import base64
import logging
import os
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
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

    def token(self) -> str:
        try:
            stat = self._path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp != self._stamp:
                self._token = self._path.read_text(encoding="utf-8").strip()
                self._stamp = stamp
        except OSError as exc:
            raise SourceError(f"cannot read the bearer token file {self._path}: {exc.strerror}") from None
        if not self._token:
            raise SourceError(f"the bearer token file {self._path} is empty")
        return self._token


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

    Named beans are fetched one request each, ``parallelism`` at a time, over kept-alive connections
    (:mod:`exporter.sources.http_pool`); the coordinator is reached directly, proxy variables are not used.
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
        self._workers = ThreadPoolExecutor(max_workers=self.options.parallelism, thread_name_prefix="rest-fetch")

    def fetch(self, request: BeanRequest, deadline: float) -> Snapshot:
        """Fetch the requested beans (each by name, in parallel) or the whole list."""
        if request.object_names is None:
            return self._fetch_all(request, deadline)
        return self._fetch_named(request.object_names, deadline)

    def config_reloaded(self, config: object) -> None:
        """The REST source's settings come from the command line only."""

    def close(self) -> None:
        self._workers.shutdown(wait=False, cancel_futures=True)
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

    def _fetch_named(self, names: tuple[str, ...], deadline: float) -> Snapshot:
        if not names:
            return Snapshot(())
        if len(names) == 1:  # no thread hand-off for a single bean
            results = [self._outcome(names[0], deadline)]
        else:
            futures = [self._workers.submit(self._outcome, name, deadline) for name in names]
            results = []
            for future in futures:
                try:
                    results.append(future.result(timeout=max(0.0, deadline - time.monotonic()) + 1.0))
                except TimeoutError:
                    results.append(SourceError(f"{self.base}: timed out waiting for per-bean fetches"))
        beans: list[MBean] = []
        problems: list[str] = []
        total = 0
        first_missing: str | None = None
        for result in results:
            if isinstance(result, SourceError):
                raise result
            bean, size, problem, missing = result
            total += size
            if bean is not None:
                beans.append(bean)
            elif problem:
                problems.append(problem)
            elif first_missing is None:
                first_missing = missing
        if not beans:
            cause = problems[0] if problems else first_missing
            why = f" ({cause})" if cause else ""
            raise SourceError(f"{self.base}: none of the {len(names)} requested MBeans exists on the target{why}")
        return Snapshot(tuple(beans), total, len(names), tuple(problems))

    def _outcome(self, name: str, deadline: float) -> tuple[MBean | None, int, str | None, str | None] | SourceError:
        try:
            return self._fetch_one(name, deadline)
        except SourceError as exc:
            return exc

    def _fetch_one(self, name: str, deadline: float) -> tuple[MBean | None, int, str | None, str | None]:
        """(bean, bytes, problem, why it is missing): a missing bean is not an error, a broken answer is."""
        path = f"{MBEAN_PATH}/{quote(name, safe='')}"
        status, body = self._get(path, deadline)
        if status in _MISSING_BEAN_STATUSES:
            return None, len(body), None, "each answered " + _status_message(status, "", body).removeprefix(": ")
        url = self.base + path
        if status != 200:
            raise SourceError(_status_message(status, url, body))
        document = airlift.loads(body, url)
        if not isinstance(document, dict):
            raise SourceError(f"{url}: expected a JSON object for one MBean, got {type(document).__name__}")
        try:
            return airlift.parse_bean(document), len(body), None, None
        except SourceError as exc:
            return None, len(body), f"{url}: {exc}", None

    def _get(self, path: str, deadline: float) -> tuple[int, bytes]:
        """GET ``path`` and read the whole body, bounded by the deadline and the body size cap."""
        status, pieces = self._get_pieces(path, deadline)
        return status, b"".join(pieces)

    def _get_pieces(self, path: str, deadline: float) -> tuple[int, list[bytes]]:
        """``_get``, with the body as the pieces it was read in."""
        headers = self._headers
        if self._token is not None:
            headers = {**headers, "Authorization": f"Bearer {self._token.token()}"}
        try:
            return self._pool.get(path, headers, deadline, self.options.max_body_bytes)
        except HttpError as exc:
            raise SourceError(f"{self.base}{path}: {exc}") from None


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

