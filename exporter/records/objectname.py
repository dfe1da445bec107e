"""JMX ObjectName parsing and pattern matching, with the semantics of ``javax.management.ObjectName``.

An ObjectName is ``domain:key=value[,key=value...]``. Values are either unquoted, or quoted (``"a,b"``) with the
quotes kept as part of the value, as JMX does. A pattern may use ``*`` and ``?`` in the domain and in values, and a
trailing ``*`` in the key list (``java.lang:type=Memory,*``) to accept extra keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

Properties = tuple[tuple[str, str], ...]

_KEY_FORBIDDEN = frozenset(':=,*?"\n')


class ObjectNameError(ValueError):
    """The text is not a valid ObjectName or ObjectName pattern."""


def _split_properties(text: str) -> list[str]:
    """Split the key list at commas that are outside quoted values."""
    parts: list[str] = []
    start = 0
    i = 0
    in_quote = False
    while i < len(text):
        ch = text[i]
        if in_quote:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_quote = False
        elif ch == '"':
            in_quote = True
        elif ch == ",":
            parts.append(text[start:i])
            start = i + 1
        i += 1
    if in_quote:
        raise ObjectNameError(f"unterminated quoted value in {text!r}")
    parts.append(text[start:])
    return parts


def _check_value(value: str, key: str, allow_wildcards: bool) -> bool:
    """Validate one property value; return True when it is a value pattern."""
    if value.startswith('"'):
        if len(value) < 2 or not value.endswith('"') or (value.endswith('\\"') and not value.endswith('\\\\"')):
            raise ObjectNameError(f"badly quoted value for key {key!r}: {value}")
        body = value[1:-1]
        wildcard = bool(re.search(r'(?<!\\)[*?]', body))
    else:
        # An unquoted value may be empty, as javax.management.ObjectName allows ("a:name=" has name="").
        bad = set(value) & set(',=:"\n')
        if bad:
            raise ObjectNameError(f"invalid character {sorted(bad)[0]!r} in value for key {key!r}")
        wildcard = "*" in value or "?" in value
    if wildcard and not allow_wildcards:
        raise ObjectNameError(f"wildcard in value for key {key!r} is only allowed in a pattern")
    return wildcard


def _parse(text: str, allow_wildcards: bool) -> tuple[str, Properties, bool, bool]:
    """Return (domain, properties, property_list_pattern, has_value_pattern)."""
    if not isinstance(text, str) or not text:
        raise ObjectNameError("an ObjectName must be a non-empty string")
    colon = text.find(":")
    if colon < 0:
        raise ObjectNameError(f"{text!r} has no ':' between domain and key properties")
    domain, rest = text[:colon], text[colon + 1 :]
    if "\n" in domain:
        raise ObjectNameError(f"invalid character in domain of {text!r}")
    if not allow_wildcards and ("*" in domain or "?" in domain):
        raise ObjectNameError(f"wildcard in domain of {text!r} is only allowed in a pattern")
    if rest == "":
        raise ObjectNameError(f"{text!r} has no key properties")
    props: list[tuple[str, str]] = []
    list_pattern = False
    value_pattern = False
    seen: set[str] = set()
    for part in _split_properties(rest):
        if part == "*":
            if not allow_wildcards:
                raise ObjectNameError(f"'*' in the key list of {text!r} is only allowed in a pattern")
            if list_pattern:
                raise ObjectNameError(f"'*' appears twice in the key list of {text!r}")
            list_pattern = True
            continue
        eq = part.find("=")
        if eq <= 0:
            what = "an empty key property" if part == "" else f"key property {part!r} without '='"
            raise ObjectNameError(f"{text!r} has {what}")
        key, value = part[:eq], part[eq + 1 :]
        if set(key) & _KEY_FORBIDDEN:
            raise ObjectNameError(f"invalid key {key!r} in {text!r}")
        if key in seen:
            raise ObjectNameError(f"key {key!r} appears twice in {text!r}")
        seen.add(key)
        value_pattern |= _check_value(value, key, allow_wildcards)
        props.append((key, value))
    if not props and not list_pattern:
        raise ObjectNameError(f"{text!r} has no key properties")
    return domain, tuple(props), list_pattern, value_pattern


@lru_cache(maxsize=4096)
def parse_object_name(text: str) -> tuple[str, Properties]:
    """Parse a concrete ObjectName into its domain and key properties in registration order."""
    domain, props, _, _ = _parse(text, allow_wildcards=False)
    return domain, props


@dataclass(frozen=True, slots=True)
class ObjectNamePattern:
    """A compiled ObjectName pattern (a concrete name is a pattern that matches only itself)."""

    text: str
    domain: str
    properties: Properties
    property_list_pattern: bool
    is_pattern: bool
    _domain_re: re.Pattern[str] | None
    _value_res: tuple[tuple[str, str, re.Pattern[str] | None], ...]

    @classmethod
    def parse(cls, text: str) -> ObjectNamePattern:
        """Compile ``text``; raise ObjectNameError when it is not a valid ObjectName pattern."""
        domain, props, list_pattern, value_pattern = _parse(text, allow_wildcards=True)
        domain_re = _domain_wildcard(domain)
        value_res = tuple((k, v, _value_wildcard(v)) for k, v in props)
        is_pattern = list_pattern or value_pattern or domain_re is not None
        return cls(text, domain, props, list_pattern, is_pattern, domain_re, value_res)

    def matches(self, domain: str, properties: Properties) -> bool:
        """Whether the ObjectName with this domain and key properties is matched by the pattern."""
        if self._domain_re is not None:
            if not self._domain_re.fullmatch(domain):
                return False
        elif domain != self.domain:
            return False
        if not self.property_list_pattern and len(properties) != len(self.properties):
            return False
        have = dict(properties)
        for key, value, value_re in self._value_res:
            actual = have.get(key)
            if actual is None:
                return False
            if value_re is None:
                if actual != value:
                    return False
            elif not value_re.fullmatch(actual):
                return False
        return True


def canonical_key(domain: str, properties: Properties) -> tuple[str, frozenset[tuple[str, str]]]:
    """A key under which two names that differ only in key order compare equal, as ObjectName.equals does."""
    return domain, frozenset(properties)


def _domain_wildcard(domain: str) -> re.Pattern[str] | None:
    if "*" not in domain and "?" not in domain:
        return None
    return _glob(domain)


def _value_wildcard(value: str) -> re.Pattern[str] | None:
    if value.startswith('"'):
        if not re.search(r'(?<!\\)[*?]', value[1:-1]):
            return None
    elif "*" not in value and "?" not in value:
        return None
    return _glob(value, quoted=value.startswith('"'))


def _glob(pattern: str, quoted: bool = False) -> re.Pattern[str]:
    """Compile a JMX wildcard (``*`` any run, ``?`` one character; ``\\*`` literal inside quotes)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if quoted and ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i : i + 2]))
            i += 2
            continue
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)
