"""Basic auth for the exporter's own endpoint: salted PBKDF2 password hashes read from a users file.

The users file has one ``user:hash`` per line (``#`` comments and blank lines allowed); make a hash with
``presto-jmx-exporter hash-password``. Plain-text passwords are refused. A verified (user, password) pair is
remembered by its SHA-256 so that a scrape every few seconds does not pay for PBKDF2 each time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from exporter.errors import UsageError

SCHEME = "pbkdf2_sha256"
DEFAULT_ITERATIONS = 600_000


def hash_password(password: str, iterations: int = DEFAULT_ITERATIONS, salt: bytes | None = None) -> str:
    """``pbkdf2_sha256$<iterations>$<salt>$<hash>`` with a random 16-byte salt."""
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{SCHEME}${iterations}${_b64(salt)}${_b64(digest)}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _parse_hash(encoded: str) -> tuple[int, bytes, bytes]:
    scheme, iterations, salt, digest = encoded.split("$")
    if scheme != SCHEME or not iterations.isdigit():
        raise ValueError(scheme)
    return int(iterations), base64.b64decode(salt, validate=True), base64.b64decode(digest, validate=True)


def verify_password(password: str, encoded: str) -> bool:
    iterations, salt, expected = _parse_hash(encoded)
    actual = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return hmac.compare_digest(actual, expected)


@dataclass
class Users:
    """The users allowed to read the endpoint."""

    hashes: dict[str, str]
    _verified: set[tuple[str, bytes]] = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _dummy: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        # A hash like the users' own (the iterations of the first), checked for names that are not in the file.
        iterations = _parse_hash(next(iter(self.hashes.values())))[0] if self.hashes else DEFAULT_ITERATIONS
        self._dummy = hash_password(os.urandom(16).hex(), iterations)

    @classmethod
    def load(cls, path: str | Path) -> Users:
        """Read a users file; a malformed line stops the program with the file and line named."""
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise UsageError(f"cannot read the users file {path}: {exc.strerror}") from None
        hashes: dict[str, str] = {}
        for number, line in enumerate(lines, start=1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            user, sep, encoded = text.partition(":")
            if not sep or not user:
                raise UsageError(f"{path}:{number}: expected 'user:hash'")
            try:
                _parse_hash(encoded)
            except (ValueError, TypeError):
                raise UsageError(
                    f"{path}:{number}: the password of {user!r} is not a {SCHEME} hash (plain text is refused; "
                    "make one with 'presto-jmx-exporter hash-password')"
                ) from None
            hashes[user] = encoded
        if not hashes:
            raise UsageError(f"{path}: no users")
        return cls(hashes)

    def check(self, user: str, password: str) -> bool:
        encoded = self.hashes.get(user)
        if encoded is None:
            # As long as a wrong password takes: which user names exist cannot be read off the clock.
            verify_password(password, self._dummy)
            return False
        key = (user, hashlib.sha256(password.encode("utf-8")).digest())
        with self._lock:
            if key in self._verified:
                return True
        if not verify_password(password, encoded):
            return False
        with self._lock:
            self._verified.add(key)
        return True
