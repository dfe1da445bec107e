"""The nodes of a cluster, as its coordinator's failure detector lists them, and what each node says about itself.

``GET /v1/node`` on the coordinator lists the failure detector's view of every other node (``/v1/node/failed`` the
ones it considers failed); each entry's ``uri`` is the URI the detector pings, the node's base URI plus
``/v1/status``. Trino and PrestoSQL >= 337 serve both as management resources (the coordinator's credentials are
sent, as for ``/v1/jmx``). Each node's own ``GET /v1/status`` (public, so no credentials are sent) says its node id,
version and whether it is a coordinator; where it does not answer, ``/v1/info`` says the version and the role.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from exporter.sources import airlift
from exporter.sources.address import AddressError, target_address
from exporter.sources.base import SourceError
from exporter.sources.resolver import BoundedResolver
from exporter.sources.rest.client import Answer, HttpClient, HttpError
from exporter.sources.rest.coordinator import Coordinator, server_base, status_message
from exporter.sources.rest.settings import HttpSettings

log = logging.getLogger(__name__)

NODES_PATH = "/v1/node"
FAILED_PATH = "/v1/node/failed"
STATUS_PATH = "/v1/status"
INFO_PATH = "/v1/info"
# A node's status answer is a few hundred bytes; the node lists of a large cluster a few hundred kilobytes.
_MAX_STATUS_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class Node:
    """One node: its base URI (``http(s)://host:port``), whether it is the coordinator that was asked or another one,
    whether the failure detector considers it failed, and its node id and version where it said them."""

    uri: str
    coordinator: bool
    failed: bool = False
    node_id: str | None = None
    version: str | None = None


@dataclass(frozen=True, slots=True)
class _Said:
    node_id: str | None = None
    version: str | None = None
    coordinator: bool | None = None


class NodeLister:
    """Reads the node list of the coordinator at ``url`` (``http(s)://host:port``), with ``settings``' credentials;
    ValueError for a URL that is not one."""

    def __init__(self, url: str, settings: HttpSettings, resolver: BoundedResolver | None = None) -> None:
        self.coordinator = Coordinator(server_base(url), settings, "application/json", log, resolver)
        verify: bool | str = (settings.ca_bundle or True) if settings.verify_tls else False
        cert = (settings.client_cert, settings.client_key) if settings.client_cert else None
        # Absolute URLs, any node: no base URL, and no credentials (/v1/status and /v1/info are public).
        self._nodes_client = HttpClient(
            "", {"Accept": "application/json", "User-Agent": "presto-jmx-exporter"}, verify=verify, client_cert=cert,
            connect_timeout=settings.connect_timeout, max_body=_MAX_STATUS_BYTES, parallelism=settings.parallelism,
            resolver=resolver,
        )  # fmt: skip

    @property
    def description(self) -> str:
        return self.coordinator.base

    def nodes(self, deadline: float) -> tuple[tuple[Node, ...], tuple[str, ...]]:
        """The coordinator itself and every node it lists, with what each said about itself, and the problems met
        on the way (a node list entry that is not a URI, a node that did not say who it is). SourceError when the
        coordinator's node list cannot be read."""
        problems: list[str] = []
        listed = self._uris(self._get_json(NODES_PATH, deadline), NODES_PATH, problems)
        failed = set(self._uris(self._get_json(FAILED_PATH, deadline), FAILED_PATH, problems))
        own = _base_uri(self.coordinator.base) or self.coordinator.base
        uris = [own, *(uri for uri in dict.fromkeys(listed) if uri != own)]
        said = self._ask(uris, deadline, problems)
        nodes = []
        for uri in uris:
            about = said.get(uri, _Said())
            is_coordinator = uri == own or bool(about.coordinator)
            nodes.append(Node(uri, is_coordinator, uri in failed, about.node_id, about.version))
        return tuple(nodes), tuple(problems)

    def close(self) -> None:
        self.coordinator.close()
        self._nodes_client.close()

    def _get_json(self, path: str, deadline: float) -> Any:
        """GET ``path`` from the coordinator with its credentials; SourceError, secret-free, unless 200 with JSON."""
        url = self.coordinator.base + path
        try:
            answer = self.coordinator.client.get(path, deadline, self.coordinator.auth_header())
        except HttpError as exc:
            raise SourceError(f"{url}: {exc}") from None
        if answer.status != 200:
            raise SourceError(status_message(answer.status, url, answer.body, self.coordinator.secrets()))
        return airlift.loads(answer.body, url)

    def _uris(self, document: Any, path: str, problems: list[str]) -> list[str]:
        if not isinstance(document, list):
            raise SourceError(f"{self.coordinator.base}{path}: expected a JSON list of nodes, got "
                              f"{type(document).__name__}")  # fmt: skip
        uris = []
        for entry in document:
            uri = entry.get("uri") if isinstance(entry, dict) else None
            base = _base_uri(uri) if isinstance(uri, str) else None
            if base is None:
                problems.append(f"{self.coordinator.base}{path}: skipped an entry whose uri is not an http(s) node "
                                f"URI: {str(uri)[:100]!r}")  # fmt: skip
                continue
            uris.append(base)
        return uris

    def _ask(self, uris: Sequence[str], deadline: float, problems: list[str]) -> dict[str, _Said]:
        """What each node's /v1/status says (its /v1/info where the status does not answer), asked all at once."""
        said: dict[str, _Said] = {}
        unanswered: list[str] = []
        for index, answer in self._nodes_client.get_many([uri + STATUS_PATH for uri in uris], deadline):
            about = _status(answer)
            if about is None:
                unanswered.append(uris[index])
            else:
                said[uris[index]] = about
        if unanswered and time.monotonic() < deadline:
            for index, answer in self._nodes_client.get_many([uri + INFO_PATH for uri in unanswered], deadline):
                about = _info(answer)
                if about is not None:
                    said[unanswered[index]] = about
                else:
                    why = str(answer) if isinstance(answer, HttpError) else f"HTTP {answer.status}"
                    problems.append(f"{unanswered[index]}: neither {STATUS_PATH} nor {INFO_PATH} answered ({why}): "
                                    "its node id and version are not known")  # fmt: skip
        return said


def _base_uri(uri: str) -> str | None:
    """``http://10.0.0.5:8080/v1/status`` -> ``http://10.0.0.5:8080``; None when it is not an http(s) node URI."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    try:
        return target_address(f"{parts.scheme}://{parts.netloc}").target
    except AddressError:
        return None


def _json_object(answer: Answer | HttpError) -> dict[str, Any] | None:
    if isinstance(answer, HttpError) or answer.status != 200:
        return None
    try:
        document = orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value and value.isprintable() and len(value) <= 200 else None


def _version(document: dict[str, Any]) -> str | None:
    version = document.get("nodeVersion")
    return _text(version.get("version")) if isinstance(version, dict) else None


def _status(answer: Answer | HttpError) -> _Said | None:
    document = _json_object(answer)
    if document is None or _text(document.get("nodeId")) is None:
        return None
    coordinator = document.get("coordinator")
    return _Said(_text(document.get("nodeId")), _version(document), coordinator if isinstance(coordinator, bool)
                 else None)  # fmt: skip


def _info(answer: Answer | HttpError) -> _Said | None:
    document = _json_object(answer)
    if document is None:
        return None
    coordinator = document.get("coordinator")
    return _Said(None, _version(document), coordinator if isinstance(coordinator, bool) else None)
