"""Read MBeans from a coordinator's airlift ``/v1/jmx/mbean`` endpoint over HTTP(S)."""

from __future__ import annotations

import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from exporter.mbeans import MBean
from exporter.sources import airlift
from exporter.sources.base import BeanRequest, Snapshot, SourceError

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
    """A pooled HTTP client for one coordinator; safe to call from several threads at once."""

    def __init__(self, target: str, options: HttpOptions | None = None, session: requests.Session | None = None):
        self.options = options or HttpOptions()
        self.base = base_url(target)
        self.description = self.base
        self._session = session or requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(4, self.options.parallelism * 2), max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers["Accept"] = "application/json"
        self._session.headers["User-Agent"] = "presto-jmx-exporter"
        if self.options.user:
            self._session.headers[self.options.user_header] = self.options.user
        if self.options.password is not None:
            self._session.auth = (self.options.user or "", self.options.password)
        # Passed on every request: a session-level setting loses to REQUESTS_CA_BUNDLE from the environment.
        self._verify: bool | str = (self.options.ca_bundle or True) if self.options.verify_tls else False
        if self.options.client_cert:
            cert = self.options.client_cert
            self._session.cert = (cert, self.options.client_key) if self.options.client_key else cert
        if not self.options.verify_tls:
            # Said once here instead of urllib3's warning on every request.
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            log.warning("TLS certificate verification of %s is off (--insecure-skip-verify)", self.base)
        self._token = _TokenFile(self.options.bearer_token_file) if self.options.bearer_token_file else None
        self._pool = ThreadPoolExecutor(max_workers=self.options.parallelism, thread_name_prefix="rest-fetch")

    def fetch(self, request: BeanRequest, deadline: float) -> Snapshot:
        """Fetch the requested beans (each by name, in parallel) or the whole list."""
        if request.object_names is None:
            return self._fetch_all(deadline)
        return self._fetch_named(request.object_names, deadline)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._session.close()

    def _fetch_all(self, deadline: float) -> Snapshot:
        url = self.base + MBEAN_PATH
        status, body = self._get(url, deadline)
        if status != 200:
            raise SourceError(_status_message(status, url, body))
        beans, problems = airlift.parse_bean_list(airlift.loads(body, url), url)
        return Snapshot(tuple(beans), len(body), 1, tuple(problems))

    def _fetch_named(self, names: tuple[str, ...], deadline: float) -> Snapshot:
        if not names:
            return Snapshot(())
        futures = [self._pool.submit(self._fetch_one, name, deadline) for name in names]
        beans: list[MBean] = []
        problems: list[str] = []
        total = 0
        missing = 0
        first_error: SourceError | None = None
        for future in futures:
            try:
                bean, size, problem = future.result(timeout=max(0.0, deadline - time.monotonic()) + 1.0)
            except SourceError as exc:
                first_error = first_error or exc
                continue
            except TimeoutError:
                first_error = first_error or SourceError(f"{self.base}: timed out waiting for per-bean fetches")
                continue
            total += size
            if bean is not None:
                beans.append(bean)
            else:
                missing += 1
                if problem:
                    problems.append(problem)
        if first_error is not None:
            raise first_error
        if not beans:
            raise SourceError(f"{self.base}: none of the {len(names)} requested MBeans exists on the target")
        return Snapshot(tuple(beans), total, len(names), tuple(problems))

    def _fetch_one(self, name: str, deadline: float) -> tuple[MBean | None, int, str | None]:
        url = f"{self.base}{MBEAN_PATH}/{quote(name, safe='')}"
        status, body = self._get(url, deadline)
        if status in _MISSING_BEAN_STATUSES:
            return None, len(body), None
        if status != 200:
            raise SourceError(_status_message(status, url, body))
        document = airlift.loads(body, url)
        if not isinstance(document, dict):
            raise SourceError(f"{url}: expected a JSON object for one MBean, got {type(document).__name__}")
        try:
            return airlift.parse_bean(document), len(body), None
        except SourceError as exc:
            return None, len(body), f"{url}: {exc}"

    def _get(self, url: str, deadline: float) -> tuple[int, bytes]:
        """GET ``url`` and read the whole body, bounded by the deadline and the body size cap."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise SourceError(f"{url}: no time left in the scrape budget")
        headers = {}
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token.token()}"
        try:
            response = self._session.get(
                url,
                headers=headers,
                stream=True,
                verify=self._verify,
                timeout=(min(self.options.connect_timeout, remaining), remaining),
            )
        except requests.RequestException as exc:
            raise SourceError(f"{url}: {describe_request_error(exc)}") from None
        try:
            return response.status_code, self._read(response, url, deadline)
        finally:
            response.close()

    def _read(self, response: requests.Response, url: str, deadline: float) -> bytes:
        limit = self.options.max_body_bytes
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise SourceError(f"{url}: body of {int(declared)} bytes exceeds the cap of {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=256 * 1024):
                size += len(chunk)
                if size > limit:
                    raise SourceError(f"{url}: body exceeds the cap of {limit} bytes")
                if time.monotonic() > deadline:
                    raise SourceError(f"{url}: timed out while reading the body")
                chunks.append(chunk)
        except requests.RequestException as exc:
            raise SourceError(f"{url}: {describe_request_error(exc)} while reading the body") from None
        return b"".join(chunks)


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")


def describe_request_error(exc: requests.RequestException) -> str:
    """A short cause for a requests failure, without urllib3's nested reprs."""
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS error: " + _innermost(exc)
    if isinstance(exc, (requests.exceptions.ConnectTimeout,)):
        return "timed out connecting"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "timed out waiting for the response"
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc)
        found = _ERRNO.search(text)
        if found:
            return "cannot connect: " + found.group(1).strip()
        if "RemoteDisconnected" in text or "Connection aborted" in text:
            return "the server closed the connection"
        if "IncompleteRead" in text or "ProtocolError" in text:
            return "the response was cut off"
        return "cannot connect: " + _innermost(exc)
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the response was cut off"
    return _innermost(exc)


def _innermost(exc: BaseException) -> str:
    while exc.__context__ is not None and exc.__context__ is not exc:
        exc = exc.__context__
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]


def _status_message(status: int, url: str, body: bytes) -> str:
    hint = ""
    if status == 401:
        hint = " (set --user, or a password/token: Trino and PrestoSQL >= 337 need X-Trino-User over HTTP)"
    elif status == 403:
        hint = " (the user lacks permission to read system information)"
    first_line = body[:300].decode("utf-8", "replace").strip().splitlines()
    detail = f": {first_line[0][:200]}" if first_line else ""
    return f"{url}: HTTP {status}{hint}{detail}"

