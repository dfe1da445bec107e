"""Java's text forms of numbers: ``Double.toString``, ``Float.toString`` and ``Double.valueOf``.

jmx_exporter matches rules against ``String.valueOf(value)`` and parses a rule's ``value`` with ``Double.valueOf``,
so the exact Java spellings matter: ``100.0`` not ``100``, ``1.573285945111E9`` not ``1573285945.111``, ``NaN`` and
``Infinity``. Digits follow JDK 19+ (the shortest decimal that reads back as the same double, which is what Python's
``repr`` gives); older JDKs print a longer form for a few values.
"""

from __future__ import annotations

import math
import re
import struct
from decimal import Decimal

_JAVA_DOUBLE = re.compile(
    r"""[+-]?(?:
        NaN
      | Infinity
      | (?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?
      | 0[xX](?:[0-9a-fA-F]+\.?|[0-9a-fA-F]*\.[0-9a-fA-F]+)[pP][+-]?[0-9]+[fFdD]?
    )""",
    re.VERBOSE,
)
_JAVA_TRIM = "".join(chr(c) for c in range(0x21))  # String.trim() strips every char <= U+0020


def double_to_string(value: float) -> str:
    """``Double.toString(value)``."""
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0.0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    text = repr(value)
    if len("".join(map(str, Decimal(text).as_tuple().digits)).rstrip("0")) == 1:
        # One significant digit: Java picks the closest decimal of one *or two* digits (4.9E-324, not 5.0E-324).
        text = f"{value:.1e}"
    return _format(text, abs(value))


def float_to_string(value: float) -> str:
    """``Float.toString((float) value)``: the shortest digits that read back as the same 32-bit float."""
    try:
        single = struct.unpack("<f", struct.pack("<f", value))[0]
    except OverflowError:
        single = math.copysign(math.inf, value)
    if single != single or single in (math.inf, -math.inf) or single == 0.0:
        return double_to_string(single)
    for precision in range(1, 10):
        text = f"{single:.{precision}e}"
        if struct.unpack("<f", struct.pack("<f", float(text)))[0] == single:
            return _format(text, abs(single))
    return _format(repr(single), abs(single))  # pragma: no cover - 9 digits always round-trip


def _format(digits_text: str, magnitude: float) -> str:
    """Lay out a decimal the way Java does: plain for 1e-3 <= |x| < 1e7, else ``d.dddE<exp>``."""
    sign, digits, exponent = Decimal(digits_text).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    # Decimal exponent of the first significant digit.
    point = len(digits) + int(exponent) - 1
    prefix = "-" if sign else ""
    if 1e-3 <= magnitude < 1e7:
        if point >= 0:
            whole = text[: point + 1].ljust(point + 1, "0")
            fraction = text[point + 1 :] or "0"
            return f"{prefix}{whole}.{fraction}"
        return f"{prefix}0.{'0' * (-point - 1)}{text}"
    return f"{prefix}{text[0]}.{text[1:] or '0'}E{point}"


def int_to_string(value: int) -> str:
    """``Long.toString`` / ``BigInteger.toString``."""
    return str(value)


def parse_double(text: str) -> float | None:
    """``Double.valueOf(text)``, or None where Java throws NumberFormatException."""
    body = text.strip(_JAVA_TRIM)
    if not _JAVA_DOUBLE.fullmatch(body):
        return None
    if body[-1] in "fFdD" and not body.endswith("NaN") and not body.endswith("Infinity"):
        body = body[:-1]
    if "x" in body or "X" in body:
        return float.fromhex(body)
    return float(body)


def to_double(value: int | float) -> float:
    """``Number.doubleValue()``: integers too large for a double become an infinity instead of failing."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf
