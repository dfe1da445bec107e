"""gzip of /metrics answers: one standard gzip member from either backend, and the fast one where it is installed."""

from __future__ import annotations

import gzip
import importlib.util
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from exporter.output import compression

ROOT = Path(__file__).resolve().parent.parent
TEXT = b"".join(
    b'# HELP java_lang_Memory_HeapMemoryUsage_used java.lang:type=Memory\n'
    b'java_lang_Memory_HeapMemoryUsage_used{pool="p%d"} %d.0\n' % (i, i * 7919) for i in range(20_000)
)


@pytest.mark.parametrize("backend", sorted(compression.BACKENDS))
@pytest.mark.parametrize("data", [b"", b"x", TEXT], ids=["empty", "one-byte", "exposition"])
def test_each_backend_writes_one_gzip_member_of_the_data(backend: str, data: bytes) -> None:
    body = compression.BACKENDS[backend].compress(data, compression.LEVEL, wbits=compression.GZIP_WBITS)
    assert body[:2] == b"\x1f\x8b"  # the gzip magic: Content-Encoding: gzip, not a zlib stream
    assert gzip.decompress(body) == data
    reader = zlib.decompressobj(zlib.MAX_WBITS | 16)
    assert reader.decompress(body) == data
    assert reader.eof and reader.unused_data == b""


def test_the_fast_backend_is_used_where_it_is_installed() -> None:
    if importlib.util.find_spec("isal") is None:
        pytest.skip("python-isal has no wheel for this platform (the dependency's markers leave it out)")
    assert compression.BACKEND == "isal"
    assert gzip.decompress(compression.gzip_body(TEXT)) == TEXT
    assert len(compression.gzip_body(TEXT)) < len(TEXT) // 10


def test_without_isal_zlib_does_the_job() -> None:
    code = (
        "import sys, gzip; sys.modules['isal'] = None\n"  # as if no wheel had been installed
        "from exporter.output import compression\n"
        "print(compression.BACKEND, sorted(compression.BACKENDS), gzip.decompress(compression.gzip_body(b'abc')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "zlib ['zlib'] b'abc'"
