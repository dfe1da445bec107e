"""Self-signed certificates for TLS tests, made by the openssl binary; a test without one is skipped."""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
from pathlib import Path

import pytest


def self_signed(directory: Path, name: str, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """``name.pem`` and ``name.key`` in ``directory``: a certificate for ``host`` (an address or a DNS name)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make test certificates")
    try:
        ipaddress.ip_address(host)
        san = f"IP:{host}"
    except ValueError:
        san = f"DNS:{host}"
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={host}",
         "-addext", f"subjectAltName={san}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key
