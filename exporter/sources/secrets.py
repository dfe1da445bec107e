"""Secrets kept in files (Kubernetes Secrets mounted as files), read when a source needs them."""

from __future__ import annotations

from pathlib import Path

from exporter.errors import UsageError


def read_secret_file(path: str | Path, what: str) -> str:
    """The file's text without surrounding whitespace; UsageError naming the file when it is unreadable or empty."""
    try:
        value = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UsageError(f"cannot read the {what} file {path}: {exc.strerror}") from None
    if not value:
        raise UsageError(f"the {what} file {path} is empty")
    return value
