"""Java regular expressions and replacement strings, run on the ``regex`` module.

jmx_exporter rule files hold ``java.util.regex`` patterns and ``Matcher.replaceAll`` replacement strings. This module
translates a Java pattern into an equivalent ``regex`` (version 1 syntax) pattern and parses a replacement string
once, so matching and expansion behave as in Java:

- ``.`` does not match any Java line terminator (``\\n \\r \\u0085 \\u2028 \\u2029``) unless ``(?s)``; ``^``/``$``
  follow Java's rules for ``(?m)`` and ``(?d)``; ``\\w \\d \\s \\b`` and the POSIX classes (``\\p{Alpha}`` ...) are
  ASCII unless ``(?U)``; ``\\p{javaLowerCase}``, ``\\p{IsLatin}``, ``\\p{InGreek}`` ... are mapped to Unicode
  properties; ``\\Q..\\E``, ``\\h``, ``\\v``, ``\\R``, ``\\z``, ``\\Z``, ``\\x{..}``, ``\\cX``, octal ``\\0nn``,
  nested classes ``[a[b]]`` and intersections ``[a-z&&[^q]]``, possessive quantifiers and atomic groups, scoped
  inline flags and comments mode ``(?x)`` are all supported; a back reference to a group that does not exist never
  matches, as in Java.
- A replacement expands ``$n`` (the longest group number that exists), ``${name}``, ``\\x`` (literal x); a group
  that did not take part in the match expands to the empty string.

Known differences: with ``(?i)`` non-ASCII letters are folded too (Java folds only ASCII unless ``(?u)``), and
``\\b{g}`` is not supported. Errors name the construct and its index, like Java's PatternSyntaxException.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import regex

_LINE_TERMINATORS = "\\n\\r\\x85\\u2028\\u2029"
_JAVA_WS = " \t\n\x0b\f\r"
_OCTAL = "01234567"
_HEX = "0123456789abcdefABCDEF"
_GENERAL_CATEGORIES = frozenset(
    [
        "Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Me", "Mc", "Nd", "Nl", "No", "Zs", "Zl", "Zp", "Cc",
        "Cf", "Co", "Cs", "Pd", "Ps", "Pe", "Pc", "Po", "Sm", "Sc", "Sk", "So", "Pi", "Pf", "L", "M",
        "N", "Z", "C", "P", "S", "LC",
    ]
)
# Set bodies (regex V1 set syntax, without the brackets) for Java's ASCII character classes.
_ASCII_SETS = {
    "d": "0-9",
    "w": "a-zA-Z0-9_",
    "s": "\\x20\\t\\n\\x0b\\f\\r",
    "Lower": "a-z",
    "Upper": "A-Z",
    "ASCII": "\\x00-\\x7f",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Alnum": "a-zA-Z0-9",
    "Punct": "\\x21-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7e",
    "Graph": "\\x21-\\x7e",
    "Print": "\\x20-\\x7e",
    "Blank": "\\x20\\t",
    "Cntrl": "\\x00-\\x1f\\x7f",
    "XDigit": "0-9a-fA-F",
    "Space": "\\x20\\t\\n\\x0b\\f\\r",
}
# The same names under (?U) (UNICODE_CHARACTER_CLASS).
_UNICODE_SETS = {
    "d": "\\p{Nd}",
    "w": "\\p{Alphabetic}\\p{Mn}\\p{Me}\\p{Mc}\\p{Nd}\\p{Pc}\\p{Join_Control}",
    "s": "\\p{White_Space}",
    "Lower": "\\p{Lowercase}",
    "Upper": "\\p{Uppercase}",
    "ASCII": "\\x00-\\x7f",
    "Alpha": "\\p{Alphabetic}",
    "Digit": "\\p{Nd}",
    "Alnum": "\\p{Alphabetic}\\p{Nd}",
    "Punct": "\\p{P}",
    "Graph": "\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}",
    "Print": "\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}\\p{Zs}",
    "Blank": "\\p{Zs}\\t",
    "Cntrl": "\\p{Cc}",
    "XDigit": "\\p{Nd}\\p{Hex_Digit}",
    "Space": "\\p{White_Space}",
}
_OTHER_SETS = {
    "h": "\\x20\\t\\xa0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000",
    "v": "\\n\\x0b\\f\\r\\x85\\u2028\\u2029",
}
_IGNORABLE = "\\x00-\\x08\\x0e-\\x1b\\x7f-\\x9f\\p{Cf}"
# java.lang.Character predicates.
_JAVA_PROPERTIES = {
    "javaLowerCase": ("\\p{Lowercase}", False),
    "javaUpperCase": ("\\p{Uppercase}", False),
    "javaWhitespace": ("[\\t\\n\\x0b\\f\\r\\x1c-\\x1f\\p{Zs}\\p{Zl}\\p{Zp}--[\\xa0\\u2007\\u202f]]", False),
    "javaMirrored": ("\\p{Bidi_Mirrored}", False),
    "javaLetter": ("\\p{L}", False),
    "javaDigit": ("\\p{Nd}", False),
    "javaLetterOrDigit": ("\\p{L}\\p{Nd}", False),
    "javaAlphabetic": ("\\p{Alphabetic}", False),
    "javaIdeographic": ("\\p{Ideographic}", False),
    "javaTitleCase": ("\\p{Lt}", False),
    "javaSpaceChar": ("\\p{Zs}\\p{Zl}\\p{Zp}", False),
    "javaISOControl": ("\\x00-\\x1f\\x7f-\\x9f", False),
    "javaDefined": ("\\p{Cn}", True),
    "javaIdentifierIgnorable": (_IGNORABLE, False),
    "javaJavaIdentifierStart": ("\\p{L}\\p{Nl}\\p{Sc}\\p{Pc}", False),
    "javaJavaIdentifierPart": ("\\p{L}\\p{Nl}\\p{Sc}\\p{Pc}\\p{Nd}\\p{Mn}\\p{Mc}" + _IGNORABLE, False),
    "javaUnicodeIdentifierStart": ("\\p{ID_Start}", False),
    "javaUnicodeIdentifierPart": ("\\p{ID_Continue}" + _IGNORABLE, False),
}
# Binary properties Java accepts after "Is" (matched case-insensitively, "_" optional).
_BINARY_PROPERTIES = {
    "ALPHABETIC": ("\\p{Alphabetic}", False),
    "IDEOGRAPHIC": ("\\p{Ideographic}", False),
    "LETTER": ("\\p{L}", False),
    "LOWERCASE": ("\\p{Lowercase}", False),
    "UPPERCASE": ("\\p{Uppercase}", False),
    "TITLECASE": ("\\p{Lt}", False),
    "PUNCTUATION": ("\\p{P}", False),
    "CONTROL": ("\\p{Cc}", False),
    "WHITESPACE": ("\\p{White_Space}", False),
    "DIGIT": ("\\p{Nd}", False),
    "HEXDIGIT": ("\\p{Hex_Digit}", False),
    "JOINCONTROL": ("\\p{Join_Control}", False),
    "NONCHARACTERCODEPOINT": ("\\p{Noncharacter_Code_Point}", False),
    "ASSIGNED": ("\\p{Cn}", True),
    "EMOJI": ("\\p{Emoji}", False),
    "EMOJIPRESENTATION": ("\\p{Emoji_Presentation}", False),
    "EMOJIMODIFIER": ("\\p{Emoji_Modifier}", False),
    "EMOJIMODIFIERBASE": ("\\p{Emoji_Modifier_Base}", False),
    "EMOJICOMPONENT": ("\\p{Emoji_Component}", False),
    "EXTENDEDPICTOGRAPHIC": ("\\p{Extended_Pictographic}", False),
}


class JavaRegexError(ValueError):
    """A Java pattern that Java would reject, or that this translation does not support."""

    def __init__(self, description: str, pattern: str, index: int) -> None:
        super().__init__(f"{description} near index {index} of {pattern!r}")
        self.description = description
        self.pattern = pattern
        self.index = index


class ReplacementError(ValueError):
    """A replacement string that Java's Matcher would reject for this pattern."""


@dataclass(frozen=True, slots=True)
class JavaPattern:
    """A compiled Java pattern: the ``regex`` object plus Java's view of its groups."""

    source: str
    translated: str
    regex: regex.Pattern[str]
    group_count: int
    group_names: Mapping[str, int]
    required_literals: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Flags:
    i: bool = False  # CASE_INSENSITIVE
    d: bool = False  # UNIX_LINES
    m: bool = False  # MULTILINE
    s: bool = False  # DOTALL
    u: bool = False  # UNICODE_CASE
    x: bool = False  # COMMENTS
    U: bool = False  # UNICODE_CHARACTER_CLASS


@dataclass(slots=True)
class _Frame:
    flags: _Flags
    start: int  # index in the output where the group's text starts
    lookaround: bool = False


@dataclass(slots=True)
class _Set:
    """A character class as a regex V1 set body; ``negated`` means "everything but"."""

    body: str
    negated: bool = False

    def outside(self) -> str:
        return f"[{'^' if self.negated else ''}{self.body}]"

    def inside(self) -> str:
        return f"[^{self.body}]" if self.negated else self.body


@dataclass(slots=True)
class _Translator:
    pattern: str
    pos: int = 0
    out: list[str] = field(default_factory=list)
    frames: list[_Frame] = field(default_factory=list)
    group_count: int = 0
    group_names: dict[str, int] = field(default_factory=dict)
    total_groups: int = 0
    atom_start: int | None = None  # output index of the last quantifiable atom
    atom_is_lookaround: bool = False
    quantified: bool = False  # the last atom already carries a quantifier
    # Literal text every match must contain: runs of plain characters at the top level (for a cheap pre-check).
    runs: list[str] = field(default_factory=list)
    current_run: list[str] = field(default_factory=list)
    literal_ok: bool = True
    last_literal: bool = False

    @property
    def flags(self) -> _Flags:
        return self.frames[-1].flags

    def error(self, description: str, index: int | None = None) -> JavaRegexError:
        return JavaRegexError(description, self.pattern, self.pos if index is None else index)

    def run(self) -> str:
        self.total_groups = _count_groups(self.pattern)
        self.frames.append(_Frame(_Flags(), 0))
        p = self.pattern
        while self.pos < len(p):
            if self._skip_comment_or_space():
                continue
            ch = p[self.pos]
            if ch == "\\":
                self._escape()
            elif ch == "[":
                self.pos += 1
                self._atom(self._class().outside())
            elif ch == "(":
                self._open_group()
            elif ch == ")":
                self._close_group()
            elif ch == "|":
                self.pos += 1
                self.out.append("|")
                self.atom_start = None
                if len(self.frames) == 1:
                    self.literal_ok = False
            elif ch == ".":
                self.pos += 1
                self._atom(self._dot())
            elif ch == "^":
                self.pos += 1
                self.out.append(self._caret())
                self.atom_start = None
                self._end_run()
            elif ch == "$":
                self.pos += 1
                self.out.append(self._dollar())
                self.atom_start = None
                self._end_run()
            elif ch in "*+?":
                self._quantifier(ch)
            elif ch == "{":
                self._braces()
            else:
                self.pos += 1
                self._atom(_literal(ord(ch)), char=ch)
        if len(self.frames) > 1:
            raise self.error("Unclosed group", len(p))
        self._end_run()
        return "".join(self.out)

    # -- lexical helpers -------------------------------------------------------------------------------------------

    def _skip_comment_or_space(self) -> bool:
        if not self.flags.x:
            return False
        p = self.pattern
        ch = p[self.pos]
        if ch in _JAVA_WS:
            self.pos += 1
            return True
        if ch == "#":
            ends = "\n" if self.flags.d else "\n\r\x85\u2028\u2029"
            while self.pos < len(p) and p[self.pos] not in ends:
                self.pos += 1
            return True
        return False

    def _peek(self) -> str:
        """The next significant character (skipping whitespace and comments in comments mode), or ''."""
        while self.pos < len(self.pattern) and self._skip_comment_or_space():
            pass
        return self.pattern[self.pos] if self.pos < len(self.pattern) else ""

    def _atom(self, text: str, lookaround: bool = False, char: str | None = None) -> None:
        self.atom_start = len(self.out)
        self.atom_is_lookaround = lookaround
        self.quantified = False
        self.out.append(text)
        if char is not None and len(self.frames) == 1 and not self.flags.i:
            self.current_run.append(char)
            self.last_literal = True
        else:
            self._end_run()

    def _end_run(self) -> None:
        if self.current_run:
            self.runs.append("".join(self.current_run))
            self.current_run = []
        self.last_literal = False

    def required_literals(self) -> tuple[str, ...]:
        """Texts that every match contains (case-sensitively), or () when that cannot be told simply."""
        return tuple(self.runs) if self.literal_ok else ()

    # -- quantifiers -----------------------------------------------------------------------------------------------

    def _prepare_quantifier(self, what: str, optional: bool) -> None:
        if self.atom_start is None or self.quantified:
            raise self.error(f"Dangling meta character '{what}'")
        if self.last_literal:
            if optional:  # the quantified character may be absent: it is not required
                self.current_run.pop()
            self._end_run()
        if self.atom_is_lookaround:
            # Java allows a quantified lookaround; regex wants a group around it.
            self.out[self.atom_start :] = ["(?:", *self.out[self.atom_start :], ")"]
        self.quantified = True
        self.atom_is_lookaround = False

    def _quantifier(self, ch: str) -> None:
        self._prepare_quantifier(ch, optional=ch != "+")
        self.pos += 1
        self.out.append(ch + self._modifier())

    def _modifier(self) -> str:
        nxt = self._peek()
        if nxt in ("?", "+"):
            self.pos += 1
            return nxt
        return ""

    def _braces(self) -> None:
        start = self.pos
        p = self.pattern
        self.pos += 1
        low = self._digits()
        if low == "":
            raise self.error("Illegal repetition", start)
        high: str | None = low
        if self.pos < len(p) and p[self.pos] == ",":
            self.pos += 1
            high = self._digits() or None
        if self.pos >= len(p) or p[self.pos] != "}":
            raise self.error("Unclosed counted closure", self.pos)
        self.pos += 1
        if high is not None and int(high) < int(low):
            raise self.error("Illegal repetition range", self.pos - 1)
        if self.quantified and self.atom_start is not None:
            self._modifier()  # Java ignores a counted repetition stacked on a quantifier: a{2}{3} is a{2}
            return
        self._prepare_quantifier("{", optional=int(low) == 0)
        body = low if high == low and "," not in p[start : self.pos] else f"{low},{high or ''}"
        self.out.append("{" + body + "}" + self._modifier())

    def _digits(self) -> str:
        p = self.pattern
        begin = self.pos
        while self.pos < len(p) and p[self.pos] in "0123456789":
            self.pos += 1
        return p[begin : self.pos]

    # -- groups ----------------------------------------------------------------------------------------------------

    def _open_group(self) -> None:
        self._end_run()
        p = self.pattern
        start = self.pos
        self.pos += 1
        flags = self.flags
        lookaround = False
        if p.startswith("?", self.pos):
            self.pos += 1
            nxt = p[self.pos] if self.pos < len(p) else ""
            if nxt == ":":
                self.pos += 1
                text = "(?:"
            elif nxt in ("=", "!"):
                self.pos += 1
                text, lookaround = "(?" + nxt, True
            elif nxt == ">":
                self.pos += 1
                text = "(?>"
            elif nxt == "<":
                self.pos += 1
                nxt2 = p[self.pos] if self.pos < len(p) else ""
                if nxt2 in ("=", "!"):
                    self.pos += 1
                    text, lookaround = "(?<" + nxt2, True
                else:
                    name = self._group_name(">")
                    if name in self.group_names:
                        raise self.error(f"Named capturing group <{name}> is already defined")
                    self.group_count += 1
                    self.group_names[name] = self.group_count
                    text = f"(?P<{name}>"
            else:
                new_flags, closed = self._inline_flags(start)
                prefix = _case_flag(flags, new_flags)
                if closed:
                    self.frames[-1].flags = new_flags
                    if prefix:
                        self.out.append(f"(?{prefix})")
                    return
                self.frames.append(_Frame(new_flags, len(self.out)))
                self.out.append(f"(?{prefix}:")
                self.atom_start = None
                return
        else:
            self.group_count += 1
            text = "("
        self.frames.append(_Frame(flags, len(self.out), lookaround))
        self.out.append(text)
        self.atom_start = None

    def _group_name(self, terminator: str) -> str:
        p = self.pattern
        begin = self.pos
        while self.pos < len(p) and (p[self.pos].isascii() and p[self.pos].isalnum()):
            self.pos += 1
        name = p[begin : self.pos]
        if not name or not name[0].isalpha():
            raise self.error("capturing group name does not start with a Latin letter")
        if self.pos >= len(p) or p[self.pos] != terminator:
            raise self.error(f"named capturing group is missing trailing '{terminator}'")
        self.pos += 1
        return name

    def _inline_flags(self, start: int) -> tuple[_Flags, bool]:
        """Parse ``idmsuxU-idmsuxU`` up to ``)`` (closed=True) or ``:``."""
        p = self.pattern
        flags = self.flags
        on = True
        while self.pos < len(p):
            ch = p[self.pos]
            self.pos += 1
            if ch == ")":
                return flags, True
            if ch == ":":
                return flags, False
            if ch == "-" and on:
                on = False
                continue
            if ch not in "idmsuxU":
                raise self.error("Unknown inline modifier", self.pos - 1)
            flags = replace(flags, **{ch: on})
            if ch == "U" and on:
                flags = replace(flags, u=True)
        raise self.error("Unknown group type", start)

    def _close_group(self) -> None:
        if len(self.frames) == 1:
            raise self.error("Unmatched closing ')'")
        self.pos += 1
        frame = self.frames.pop()
        self.out.append(")")
        self.atom_start = frame.start
        self.atom_is_lookaround = frame.lookaround
        self.quantified = False

    # -- anchors and dot -------------------------------------------------------------------------------------------

    def _dot(self) -> str:
        flags = self.flags
        if flags.s:
            return "(?s:.)"
        return "[^\\n]" if flags.d else f"[^{_LINE_TERMINATORS}]"

    def _caret(self) -> str:
        flags = self.flags
        if not flags.m:
            return "^"
        if flags.d:
            return "(?:\\A|(?<=\\n)(?!\\Z))"
        return "(?:\\A|(?:(?<=[\\n\\x85\\u2028\\u2029])|(?<=\\r)(?!\\n))(?!\\Z))"

    def _dollar(self) -> str:
        flags = self.flags
        if flags.m:
            if flags.d:
                return "(?=\\n|\\Z)"
            return f"(?=[{_LINE_TERMINATORS}]|\\Z)(?!(?<=\\r)\\n)"
        if flags.d:
            return "(?=\\n?\\Z)"
        return f"(?=(?:\\r\\n|[{_LINE_TERMINATORS}])?\\Z)"

    # -- escapes ---------------------------------------------------------------------------------------------------

    def _escape(self) -> None:
        p = self.pattern
        start = self.pos
        self.pos += 1
        if self.pos >= len(p):
            raise self.error("Unexpected internal error", len(p))
        ch = p[self.pos]
        if ch in "123456789":
            self._back_reference()
            return
        if ch == "Q":
            self.pos += 1
            end = p.find("\\E", self.pos)
            quoted = p[self.pos :] if end < 0 else p[self.pos : end]
            self.pos = len(p) if end < 0 else end + 2
            for c in quoted:
                self._atom(_literal(ord(c)), char=c)
            return
        if ch == "k":
            self.pos += 1
            if not p.startswith("<", self.pos):
                raise self.error("\\k is not followed by '<' for named capturing group")
            self.pos += 1
            name = self._group_name(">")
            if name not in self.group_names:
                raise self.error(f"named capturing group <{name}> does not exist")
            self._atom(f"(?P={name})")
            return
        anchors = {"b": None, "B": None, "A": "\\A", "G": "\\G", "z": "\\Z", "Z": self._java_big_z()}
        if ch in anchors:
            self.pos += 1
            if ch in "bB":
                if p.startswith("{", self.pos):
                    raise self.error("\\b{g} (grapheme boundary) is not supported", start)
                text = _word_boundary(self.flags.U, ch == "B")
            else:
                text = anchors[ch]  # type: ignore[assignment]
            self.out.append(text)  # type: ignore[arg-type]
            self.atom_start = None
            self._end_run()
            return
        if ch == "R":
            self.pos += 1
            self._atom("(?>\\r\\n|[\\n\\x0b\\f\\r\\x85\\u2028\\u2029])")
            return
        if ch == "X":
            self.pos += 1
            self._atom("\\X")
            return
        item = self._class_escape(start, in_class=False)
        if isinstance(item, _Set):
            self._atom(item.outside())
        else:
            self._atom(_literal(item), char=chr(item))

    def _java_big_z(self) -> str:
        if self.flags.d:
            return "(?=\\n?\\Z)"
        return f"(?=(?:\\r\\n|[{_LINE_TERMINATORS}])?\\Z)"

    def _back_reference(self) -> None:
        """Java takes the longest group number that exists so far (the first digit always counts)."""
        p = self.pattern
        number = int(p[self.pos])
        self.pos += 1
        while self.pos < len(p) and p[self.pos].isdigit() and p[self.pos].isascii():
            candidate = number * 10 + int(p[self.pos])
            if candidate > self.group_count:
                break
            number = candidate
            self.pos += 1
        if number > self.total_groups:
            self._atom("(?!)")  # Java compiles it, and it never matches
        else:
            self._atom(f"(?:\\g<{number}>)")

    def _class_escape(self, start: int, in_class: bool) -> int | _Set:
        """An escape that stands for one character (its code point) or a set of characters."""
        p = self.pattern
        ch = p[self.pos]
        self.pos += 1
        simple = {"t": 9, "n": 10, "r": 13, "f": 12, "a": 7, "e": 27}
        if ch in simple:
            return simple[ch]
        if ch in "dDwWsS":
            table = _UNICODE_SETS if self.flags.U else _ASCII_SETS
            return _Set(table[ch.lower()], ch.isupper())
        if ch in "hHvV":
            return _Set(_OTHER_SETS[ch.lower()], ch.isupper())
        if ch in "pP":
            return self._property(ch == "P", start)
        if ch == "0":
            return self._octal(start)
        if ch == "c":
            if self.pos >= len(p):
                raise self.error("Illegal control escape sequence", start)
            self.pos += 1
            return ord(p[self.pos - 1]) ^ 64
        if ch == "x":
            return self._hex_escape(start)
        if ch == "u":
            return self._unicode_escape(start)
        if ch == "N":
            return self._named_char(start)
        if (ch.isalpha() and ch.isascii()) or (in_class and ch.isdigit()):
            raise self.error("Illegal/unsupported escape sequence", start + 1)
        return ord(ch)

    def _octal(self, start: int) -> int:
        p = self.pattern
        digits = ""
        while self.pos < len(p) and p[self.pos] in _OCTAL and len(digits) < 3:
            if len(digits) == 2 and digits[0] > "3":
                break
            digits += p[self.pos]
            self.pos += 1
        if not digits:
            raise self.error("Illegal octal escape sequence", self.pos)
        return int(digits, 8)

    def _hex_escape(self, start: int) -> int:
        p = self.pattern
        if p.startswith("{", self.pos):
            end = p.find("}", self.pos)
            digits = p[self.pos + 1 : end] if end > 0 else ""
            if not digits or any(c not in _HEX for c in digits) or int(digits, 16) > 0x10FFFF:
                raise self.error("Illegal hexadecimal escape sequence", start)
            self.pos = end + 1
            return int(digits, 16)
        digits = p[self.pos : self.pos + 2]
        if len(digits) != 2 or any(c not in _HEX for c in digits):
            raise self.error("Illegal hexadecimal escape sequence", start)
        self.pos += 2
        return int(digits, 16)

    def _unicode_escape(self, start: int) -> int:
        p = self.pattern
        digits = p[self.pos : self.pos + 4]
        if len(digits) != 4 or any(c not in _HEX for c in digits):
            raise self.error("Illegal Unicode escape sequence", start)
        self.pos += 4
        code = int(digits, 16)
        if 0xD800 <= code <= 0xDBFF and p.startswith("\\u", self.pos):
            low = p[self.pos + 2 : self.pos + 6]
            if len(low) == 4 and all(c in _HEX for c in low) and 0xDC00 <= int(low, 16) <= 0xDFFF:
                self.pos += 6
                return 0x10000 + ((code - 0xD800) << 10) + (int(low, 16) - 0xDC00)
        return code

    def _named_char(self, start: int) -> int:
        p = self.pattern
        end = p.find("}", self.pos)
        if not p.startswith("{", self.pos) or end < 0:
            raise self.error("Unclosed character name escape sequence", start)
        name = p[self.pos + 1 : end]
        self.pos = end + 1
        try:
            return ord(unicodedata.lookup(name))
        except KeyError:
            raise self.error(f"Unknown character name [{name}]", start) from None

    def _property(self, negated: bool, start: int) -> _Set:
        p = self.pattern
        if p.startswith("{", self.pos):
            end = p.find("}", self.pos)
            if end < 0:
                raise self.error("Unclosed character family", start)
            name = p[self.pos + 1 : end]
            self.pos = end + 1
        else:
            if self.pos >= len(p):
                raise self.error("Illegal character family escape sequence", start)
            name = p[self.pos]
            self.pos += 1
        body, invert = self._property_body(name, start)
        return _Set(body, negated != invert)

    def _property_body(self, name: str, start: int) -> tuple[str, bool]:
        """The set body for ``\\p{name}`` and whether it must be inverted."""
        unicode_classes = self.flags.U
        if "=" in name:
            key, _, value = name.partition("=")
            kinds = {"script": "Script", "sc": "Script", "block": "Block", "blk": "Block",
                     "general_category": "gc", "gc": "gc"}
            kind = kinds.get(key.lower())
            if kind is None:
                raise self.error(f"Unknown Unicode property {{name={key}, value={value}}}", start)
            return self._checked(f"\\p{{{kind}={value}}}", name, start), False
        if name in _ASCII_SETS and name not in "dws":
            return (_UNICODE_SETS if unicode_classes else _ASCII_SETS)[name], False
        if name in _JAVA_PROPERTIES:
            return _JAVA_PROPERTIES[name]
        if name in _GENERAL_CATEGORIES:
            return f"\\p{{{name}}}", False
        if name == "LD":
            return "\\p{L}\\p{Nd}", False
        if name == "L1":
            return "\\x00-\\xff", False
        if name == "all":
            return "\\x00-\\U0010ffff", False
        if name.startswith("In") and len(name) > 2:
            return self._checked(f"\\p{{Block={name[2:]}}}", name, start), False
        if name.startswith("Is") and len(name) > 2:
            rest = name[2:]
            if rest in _GENERAL_CATEGORIES:
                return f"\\p{{{rest}}}", False
            binary = _BINARY_PROPERTIES.get(rest.upper().replace("_", ""))
            if binary is not None:
                return binary
            if rest in _ASCII_SETS and rest not in "dws":
                return (_UNICODE_SETS if unicode_classes else _ASCII_SETS)[rest], False
            return self._checked(f"\\p{{Script={rest}}}", name, start), False
        raise self.error(f"Unknown character property name {{{name}}}", start)

    def _checked(self, text: str, name: str, start: int) -> str:
        try:
            regex.compile(text, regex.V1)
        except regex.error:
            raise self.error(f"Unknown character property name {{{name}}}", start) from None
        return text

    # -- character classes -----------------------------------------------------------------------------------------

    def _class(self) -> _Set:
        """Parse a Java class after its ``[``; nested classes are unions, ``&&`` intersects."""
        p = self.pattern
        start = self.pos - 1
        negated = False
        if p.startswith("^", self.pos):
            negated = True
            self.pos += 1
        operands: list[str] = []
        items: list[str] = []
        while True:
            if self.pos >= len(p):
                raise self.error("Unclosed character class", len(p) - 1)
            if self._skip_comment_or_space():
                continue
            ch = p[self.pos]
            if ch == "]" and (items or operands):
                self.pos += 1
                break
            if ch == "[":
                self.pos += 1
                items.append(self._class().outside())
                continue
            if ch == "&" and p.startswith("&&", self.pos):
                self.pos += 2
                operands.append("".join(items))
                items = []
                continue
            if ch == "\\" and p.startswith("\\Q", self.pos):
                self.pos += 2
                end = p.find("\\E", self.pos)
                quoted = p[self.pos :] if end < 0 else p[self.pos : end]
                self.pos = len(p) if end < 0 else end + 2
                items.extend(_set_char(ord(c)) for c in quoted)
                continue
            first = self._class_single()
            if isinstance(first, _Set):
                items.append(first.inside())
                continue
            items.append(self._maybe_range(first))
        operands.append("".join(items))
        operands = [op for op in operands if op] or [""]
        body = "&&".join(operands) if len(operands) > 1 else operands[0]
        if not body:
            raise self.error("Unclosed character class", start)
        return _Set(body, negated)

    def _class_single(self) -> int | _Set:
        p = self.pattern
        ch = p[self.pos]
        if ch == "\\":
            start = self.pos
            self.pos += 1
            if self.pos >= len(p):
                raise self.error("Unclosed character class", len(p) - 1)
            return self._class_escape(start, in_class=True)
        self.pos += 1
        return ord(ch)

    def _maybe_range(self, low: int) -> str:
        p = self.pattern
        if p.startswith("-", self.pos) and self.pos + 1 < len(p) and p[self.pos + 1] not in "[]":
            dash = self.pos
            self.pos += 1
            high = self._class_single()
            if isinstance(high, _Set) or high < low:
                raise self.error("Illegal character range", dash + 1)
            return f"{_set_char(low)}-{_set_char(high)}"
        return _set_char(low)


def _count_groups(pattern: str) -> int:
    """Capturing groups in a Java pattern, counted roughly ahead of parsing (for back references)."""
    count = 0
    i = 0
    in_class = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            if pattern.startswith("\\Q", i):
                end = pattern.find("\\E", i + 2)
                i = len(pattern) if end < 0 else end + 2
                continue
            i += 2
            continue
        if ch == "[":
            in_class += 1
        elif ch == "]" and in_class:
            in_class -= 1
        elif ch == "(" and not in_class:
            named = pattern.startswith("?<", i + 1) and i + 3 < len(pattern) and pattern[i + 3] not in "=!"
            if named or not pattern.startswith("?", i + 1):
                count += 1
        i += 1
    return count


def _case_flag(old: _Flags, new: _Flags) -> str:
    """The regex inline flag text for a change of case sensitivity (other flags are translated, not passed)."""
    if old.i == new.i:
        return ""
    return "i" if new.i else "-i"


def _word_boundary(unicode_classes: bool, negated: bool) -> str:
    if unicode_classes:
        return "\\B" if negated else "\\b"
    w = "[a-zA-Z0-9_]"
    if negated:
        return f"(?:(?<={w})(?={w})|(?<!{w})(?!{w}))"
    return f"(?:(?<={w})(?!{w})|(?<!{w})(?={w}))"


def _literal(code: int) -> str:
    """One character as a literal outside a class."""
    ch = chr(code)
    if ch.isascii():
        if ch.isalnum() or ch == "_":
            return ch
        if 0x21 <= code <= 0x7E:
            return "\\" + ch
        return f"\\x{code:02x}"
    if ch.isprintable() and not ch.isspace():
        return ch
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _set_char(code: int) -> str:
    """One character inside a regex V1 set (where ``-``, ``&&``, ``||``, ``~~``, ``--`` are operators)."""
    return _literal(code)


def translate(pattern: str) -> tuple[str, int, dict[str, int]]:
    """Translate a Java pattern; returns (regex pattern text, group count, group names)."""
    translator = _Translator(pattern)
    text = translator.run()
    return text, translator.group_count, dict(translator.group_names)


def compile_java(pattern: str) -> JavaPattern:
    """Compile a Java pattern into a ``regex`` pattern with Java semantics; raise JavaRegexError."""
    translator = _Translator(pattern)
    text = translator.run()
    try:
        compiled = regex.compile(text, regex.V1)
    except regex.error as exc:
        raise JavaRegexError(f"cannot be compiled ({exc})", pattern, 0) from None
    return JavaPattern(
        pattern, text, compiled, translator.group_count, dict(translator.group_names), translator.required_literals()
    )


@dataclass(frozen=True, slots=True)
class Replacement:
    """A parsed Java replacement string: literal text and group numbers, expanded against a match."""

    source: str
    parts: tuple[str | int, ...]

    @property
    def constant(self) -> str | None:
        """The expansion when the string refers to no group, else None."""
        if all(isinstance(part, str) for part in self.parts):
            return "".join(self.parts)  # type: ignore[arg-type]
        return None

    def expand(self, match: regex.Match[str]) -> str:
        """The replacement for ``match``; a group that did not participate expands to the empty string."""
        group = match.group
        return "".join([part if part.__class__ is str else (group(part) or "") for part in self.parts])  # type: ignore[misc]


def compile_replacement(template: str, group_count: int, group_names: Mapping[str, int]) -> Replacement:
    """Parse a Java replacement string for a pattern with these groups; raise ReplacementError as Java would."""
    parts: list[str | int] = []
    literal: list[str] = []
    i = 0
    n = len(template)
    while i < n:
        ch = template[i]
        if ch == "\\":
            i += 1
            if i == n:
                raise ReplacementError("character to be escaped is missing (a trailing '\\')")
            literal.append(template[i])
            i += 1
            continue
        if ch != "$":
            literal.append(ch)
            i += 1
            continue
        i += 1
        if i == n:
            raise ReplacementError("illegal group reference: '$' at the end (write '\\$' for a dollar sign)")
        if template[i] == "{":
            i += 1
            begin = i
            while i < n and template[i].isascii() and template[i].isalnum():
                i += 1
            name = template[begin:i]
            if not name:
                raise ReplacementError("named capturing group has 0 length name")
            if i == n or template[i] != "}":
                raise ReplacementError(f"named capturing group '${{{name}' is missing trailing '}}'")
            if name[0].isdigit():
                raise ReplacementError(f"capturing group name {{{name}}} starts with digit character")
            if name not in group_names:
                known = ", ".join(sorted(group_names)) or "none"
                raise ReplacementError(f"no group with name {{{name}}} (the pattern's named groups: {known})")
            number = group_names[name]
            i += 1
        else:
            if not ("0" <= template[i] <= "9"):
                raise ReplacementError(
                    f"illegal group reference '${template[i]}' (write '\\$' for a dollar sign)"
                )
            number = int(template[i])
            i += 1
            while i < n and "0" <= template[i] <= "9":
                candidate = number * 10 + int(template[i])
                if candidate > group_count:
                    break
                number = candidate
                i += 1
            if number > group_count:
                raise ReplacementError(f"no group {number} (the pattern has {group_count} capturing groups)")
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(number)
    if literal:
        parts.append("".join(literal))
    return Replacement(template, tuple(parts))
