"""How to reach and authenticate to a coordinator over HTTP(S): settings built once by the caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """The REST source's settings. Secrets never appear in ``repr``.

    ``password`` sends Basic auth (with ``user``); otherwise ``bearer_token_file`` names a file whose token is sent
    as ``Authorization: Bearer`` and re-read when the file changes. ``ca_bundle`` replaces the default trust store
    (certifi's, or ``REQUESTS_CA_BUNDLE``); ``verify_tls=False`` turns verification off. ``parallelism`` bounds how
    many beans are fetched at once.
    """

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
