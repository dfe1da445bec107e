"""Which rule patterns cannot tell one numeric value from another (so their verdicts can be reused).

A rule sees ``P: V``: ``P`` is ``domain<props><attrKeys>attrName`` and ``V`` is the value's Java text. For a number
or a boolean, ``V`` is built from ``0-9 . E -`` or is one of ``NaN``, ``Infinity``, ``-Infinity``, ``true``,
``false``; it never holds a space, a colon or a line terminator.

The argument: let the pattern ``X`` end, at its top level, with an unquantified literal text ``T`` (as
``...><>(.+):`` ends with ``:`` and ``...><>Count`` with ``><>Count``). Every match of ``X`` then ends with ``T``.
If ``T`` holds no space and cannot occur inside any ``V``, no occurrence of ``T`` can end inside ``V`` (one that
starts before ``V`` would contain the space of the ``": "`` separator), so every match of ``X`` lies within
``P + ": "``. Every path the regex engine explores that reaches into ``V`` therefore fails whatever ``V`` is, the
first path that succeeds is the same for every ``V``, and so are the verdict and the captured groups (hence the
name, labels, help and a ``value`` template). The wrapper's trailing ``.*$`` accepts any ``V`` of this alphabet.

Constructs that could peek past the end of the match or make the choice among paths depend on what they consumed
(lookarounds, atomic groups, possessive quantifiers, inline flags such as comments mode or case folding) make a
pattern count as value-dependent; so do top-level alternation and a pattern without such a literal tail (except
the capture-free match-anything patterns ``.*`` and the like, and no pattern at all). That is conservative: a
value-dependent rule is only slower (its verdicts are remembered per full match string instead).
"""

from __future__ import annotations

_VALUE_CHARS = frozenset("0123456789.E-")
_VALUE_WORDS = ("NaN", "-Infinity", "true", "false")
# Match every string without a line terminator and capture nothing: the value cannot change the verdict.
_MATCH_ANYTHING = frozenset({".*", ".+", ".*?", "^.*$", "^.*", ".*$"})


def literal_tail(pattern: str) -> str | None:
    """The unquantified literal text every match of the Java ``pattern`` ends with, or None when unsure."""
    atoms: list[str | None] = []  # a character for a plain top-level literal, None for anything else
    depth = 0
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= n:
                return None
            nxt = pattern[i + 1]
            if nxt == "Q":
                end = pattern.find("\\E", i + 2)
                quoted = pattern[i + 2 :] if end < 0 else pattern[i + 2 : end]
                atoms.extend(quoted if depth == 0 else [None] * len(quoted))
                i = n if end < 0 else end + 2
                continue
            if nxt.isalnum():  # \d, \b, \p{..}, \u0041, \1 ...: a class, an assertion or a coded character
                atoms.append(None)
                i = _skip_escape(pattern, i + 1)
                if i < 0:
                    return None
                continue
            atoms.append(nxt if depth == 0 else None)
            i += 2
            continue
        if ch == "[":
            i = _skip_class(pattern, i)
            if i < 0:
                return None
            atoms.append(None)
            continue
        if ch == "(":
            if pattern.startswith("(?", i):
                if pattern.startswith("(?:", i):
                    i += 3
                elif pattern.startswith("(?<", i) and i + 3 < n and pattern[i + 3].isalpha():
                    close = pattern.find(">", i)
                    if close < 0:
                        return None
                    i = close + 1
                else:
                    return None  # lookaround, atomic group, inline flags
            else:
                i += 1
            depth += 1
            continue
        if ch == ")":
            depth -= 1
            if depth < 0:
                return None
            atoms.append(None)
            i += 1
            continue
        if ch == "|":
            if depth == 0:
                return None
            i += 1
            continue
        if ch in "*+?{":
            if ch == "{":
                close = pattern.find("}", i)
                if close < 0 or not _is_count(pattern[i + 1 : close]):
                    return None
                i = close + 1
            else:
                i += 1
            if i < n and pattern[i] == "+":
                return None  # possessive
            if i < n and pattern[i] == "?":
                i += 1
            if not atoms:
                return None
            atoms[-1] = None
            continue
        atoms.append(None if ch in ".^$" or depth else ch)
        i += 1
    if depth != 0:
        return None
    tail: list[str] = []
    for atom in reversed(atoms):
        if atom is None:
            break
        tail.append(atom)
    return "".join(reversed(tail)) or None


def _skip_escape(pattern: str, at: int) -> int:
    """Index just past the alphanumeric escape whose letter is at ``at``, or -1 when it is cut off."""
    letter = pattern[at]
    i = at + 1
    n = len(pattern)
    if letter in "pPNk" or (letter == "x" and pattern.startswith("{", i)):
        if i >= n or pattern[i] not in "{<":
            return i if letter in "pP" and i < n else -1  # \pL: one letter
        close = pattern.find("}" if pattern[i] == "{" else ">", i)
        return -1 if close < 0 else close + 1
    width = {"x": 2, "u": 4, "c": 1}.get(letter)
    if width is not None:
        return i + width if i + width <= n else -1
    if letter == "0":
        while i < n and i < at + 4 and pattern[i] in "01234567":
            i += 1
        return i
    if letter.isdigit():  # a back reference: Java reads as many digits as make a group number
        while i < n and pattern[i].isdigit():
            i += 1
    return i


def _skip_class(pattern: str, start: int) -> int:
    """Index just past the character class opening at ``start`` (nested classes included), or -1."""
    depth = 0
    i = start
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            depth += 1
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            if i < n and pattern[i] == "]":  # a leading ']' is a literal
                i += 1
            continue
        if ch == "]":
            depth -= 1
            i += 1
            if depth == 0:
                return i
            continue
        i += 1
    return -1


def _is_count(text: str) -> bool:
    low, _, high = text.partition(",")
    return low.isdigit() and (high == "" or high.isdigit())


def _may_occur_in_value(text: str) -> bool:
    if all(ch in _VALUE_CHARS for ch in text):
        return True
    return any(text in word for word in _VALUE_WORDS)


# Letters a value's text can end a piece of: its characters (see the module doc) and those of NaN, Infinity, true and
# false.
_VALUE_LETTERS = _VALUE_CHARS | frozenset("".join(_VALUE_WORDS))
# Tails that match every value's text, whatever it is: what a rule captures of the value does not decide whether it
# matches.
_VALUE_EATERS = ("(.*)", "(.+)", "(.*?)", "(.+?)", "(?:.*)", "(?:.+)", ".*", ".+", ".*?", ".+?", "")


def value_tail(pattern: str) -> str | None:
    """The tail from ``_VALUE_EATERS`` ("" for none) that makes ``pattern`` match-blind without being value-blind,
    or None when it does not. Only that tail can capture anything of the value (see :func:`match_blind`)."""
    for eater in _VALUE_EATERS:
        if pattern.endswith(eater):
            # An escaped first character of the tail leaves a lone backslash, which literal_tail refuses.
            tail = literal_tail(pattern[: len(pattern) - len(eater)])
            return eater if tail is not None and tail[-1] not in _VALUE_LETTERS else None
    return None


def match_blind(pattern: str | None) -> bool:
    """Whether a rule with this pattern matches, or not, the same for every numeric or boolean value, though what it
    captures may differ (so whether a bean exports can be decided from one value; see :func:`value_blind` for when
    the whole verdict can).

    Such a pattern is a value-blind one, or ``R`` followed by one tail from ``_VALUE_EATERS`` (or none) where ``R``
    ends in a literal whose last character no value's text holds (``...><>(.+): (.*)`` is ``...><>(.+): `` and
    ``(.*)``).
    Every match of ``R`` then ends before the value (a match ending inside it would end with a character of the
    value), so whether ``R`` matches depends on the rest of the string only, and the tail matches whatever follows.
    """
    return value_blind(pattern) or value_tail(pattern) is not None  # type: ignore[arg-type]


def value_blind(pattern: str | None) -> bool:
    """Whether a rule with this pattern decides the same for every numeric or boolean value (see module doc)."""
    if pattern is None or pattern in _MATCH_ANYTHING:
        return True
    tail = literal_tail(pattern)
    if tail is None:
        return False
    if any(ch in tail for ch in " \n\r\x85\u2028\u2029"):
        return False
    return not _may_occur_in_value(tail)
