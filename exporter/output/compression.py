"""gzip for ``/metrics`` answers: ISA-L's deflate when python-isal is installed, else zlib's.

Prometheus asks for gzip on every scrape, and an export-everything answer is megabytes of text, which ISA-L
compresses several times faster than zlib at level 1, to a body no larger. Both write one standard gzip member that
any client reads. python-isal is a dependency wherever it ships wheels (see pyproject.toml);
elsewhere zlib does the same job more slowly.
"""

from __future__ import annotations

import zlib
from types import ModuleType

try:
    from isal import isal_zlib
except ImportError:  # no wheel for this platform: zlib it is
    isal_zlib = None

LEVEL = 1  # the fastest level of either library (ISA-L's level 0 is no faster here, and 20% bigger)
GZIP_WBITS = 31  # 16 + 15: a gzip header and trailer around a deflate stream with a 32 KiB window

BACKENDS: dict[str, ModuleType] = {"zlib": zlib, **({"isal": isal_zlib} if isal_zlib is not None else {})}
BACKEND = "isal" if isal_zlib is not None else "zlib"


def gzip_body(data: bytes) -> bytes:
    """``data`` as one gzip member."""
    return BACKENDS[BACKEND].compress(data, LEVEL, wbits=GZIP_WBITS)  # type: ignore[no-any-return]
