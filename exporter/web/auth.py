"""Basic auth for the exporter's own endpoint: salted PBKDF2 password hashes read from a users file.

The users file has one ``user:hash`` per line (``#`` comments and blank lines allowed); make a hash with
``presto-jmx-exporter hash-password``. Plain-text passwords are refused. A verified (user, password) pair is
remembered by its SHA-256 so that a scrape every few seconds does not pay for PBKDF2 each time.

Every other check costs a PBKDF2 verification, which anyone who can reach the port can ask for. Only a few run at
once; a check that finds them all taken for longer than a short wait raises :class:`VerificationBusy` unverified,
so guessing clients cannot hold the CPU the scrapes need.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from exporter.errors import UsageError

SCHEME = "pbkdf2_sha256"
DEFAULT_ITERATIONS = 600_000
# One at a time leaves the other cores to the scrapes; the wait lets a few legitimate first checks queue behind it.
MAX_VERIFICATIONS = 1
VERIFICATION_WAIT = 1.0


class VerificationBusy(Exception):
    """No password check came free within the wait; the password was not checked."""


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
    """Whether ``password`` matches a hash made by :func:`hash_password`."""
    iterations, salt, expected = _parse_hash(encoded)
    actual = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return hmac.compare_digest(actual, expected)


@dataclass
class Users:
    """The users allowed to read the endpoint.

    ``verify`` checks a password against a hash; at most ``max_verifications`` of those run at once, and a check
    waits at most ``verification_wait`` seconds for its turn.
    """

    hashes: dict[str, str]
    verify: Callable[[str, str], bool] = field(default=verify_password, repr=False)
    max_verifications: int = MAX_VERIFICATIONS
    verification_wait: float = VERIFICATION_WAIT
    _verified: set[tuple[str, bytes]] = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _dummy: str = field(default="", repr=False)
    _turns: threading.BoundedSemaphore = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._turns = threading.BoundedSemaphore(self.max_verifications)
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
        """Whether ``user`` may read with ``password``; raises :class:`VerificationBusy` if it could not be checked.

        A pair verified before is answered from memory, never waiting for a turn.
        """
        encoded = self.hashes.get(user)
        if encoded is None:
            # As long as a wrong password takes, turn included: which user names exist cannot be read off the clock.
            self._verify(password, self._dummy)
            return False
        key = (user, hashlib.sha256(password.encode("utf-8")).digest())
        with self._lock:
            if key in self._verified:
                return True
        if not self._verify(password, encoded):
            return False
        with self._lock:
            self._verified.add(key)
        return True

    def _verify(self, password: str, encoded: str) -> bool:
        if not self._turns.acquire(timeout=self.verification_wait):
            raise VerificationBusy(f"no password check came free within {self.verification_wait}s (at most "
                                   f"{self.max_verifications} run at once)")
        try:
            return self.verify(password, encoded)
        finally:
            self._turns.release()
