"""Read YAML documents node by node, so every error names the file, the line and the key path.

Shared by the configuration (:mod:`exporter.config`) and the test-rules files (:mod:`exporter.tooling.testfile`).
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from exporter.records.javanum import double_to_string

_SIMPLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class JavaYamlLoader(yaml.SafeLoader):
    """YAML read as SnakeYAML reads it (jmx_exporter's parser): PyYAML's YAML 1.1 rules, except that a float needs
    neither a dot nor a sign in its exponent (``1e3``, ``1.5e3`` and ``-.5`` are numbers, not strings)."""


_FLOAT_TAG = "tag:yaml.org,2002:float"
JavaYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _FLOAT_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
JavaYamlLoader.add_implicit_resolver(  # after int: this pattern also matches "123", which SnakeYAML reads as an int
    _FLOAT_TAG,
    re.compile(
        r"""^(?:[-+]?(?:\.[0-9]+|[0-9_]+(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?
        |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def java_string(value: Any) -> str:
    """``String.valueOf`` of the object SnakeYAML builds for a YAML value, which is what jmx_exporter makes of a
    ``pattern`` or a ``value`` of another type than a string. Dates print in UTC, as in a JVM whose time zone is
    UTC (a container's usual one)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return double_to_string(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, set)):
        return "[" + ", ".join(java_string(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{java_string(k)}={java_string(v)}" for k, v in value.items()) + "}"
    if isinstance(value, datetime.date):
        moment = utc_datetime(value)
        return (f"{_DAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day:02d} "
                f"{moment:%H:%M:%S} UTC {moment.year}")
    if isinstance(value, bytes):
        return "[B@0"  # a byte[]: Java prints its identity
    return str(value)


def utc_datetime(value: datetime.date) -> datetime.datetime:
    """A YAML date or timestamp as SnakeYAML's java.util.Date: a date is midnight UTC, a time without zone is UTC."""
    if not isinstance(value, datetime.datetime):
        return datetime.datetime(value.year, value.month, value.day, tzinfo=datetime.timezone.utc)
    if value.tzinfo is None:
        return value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(datetime.timezone.utc)


class LocatedError(Exception):
    """A file that cannot be used as given; ``str()`` is ``file:line: key.path: message``."""

    def __init__(self, source: str, line: int | None, path: str, message: str) -> None:
        self.source, self.line, self.path, self.message = source, line, path, message
        super().__init__(located(source, line, path, message))


class FileFormatError(LocatedError):
    """A test-rules file that cannot be used as given."""


def located(source: str, line: int | None, path: str, message: str) -> str:
    """``file:line: key.path: message``, leaving out what is not known."""
    where = f"{source}:{line}" if line is not None else source
    return f"{where}: {path}: {message}" if path else f"{where}: {message}"


def join(path: str, key: str | int) -> str:
    """``tests[0]`` + ``expect`` -> ``tests[0].expect``; odd keys are quoted: ``labels["a b"]``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    part = f".{key}" if _SIMPLE_KEY.fullmatch(key) else f'["{key}"]'
    return part[1:] if not path and part.startswith(".") else path + part


def line_of(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def kind(node: yaml.Node, loader: yaml.SafeLoader) -> str:
    """How a node reads to a user: 'a list', 'a mapping', 'the number 3', 'nothing (null)' ..."""
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    value = loader.construct_object(node, deep=True)
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {node.value}"
    if isinstance(value, (int, float)):
        return f"the number {node.value}"
    if isinstance(value, datetime.date):
        return f"the date {node.value}"
    return f"the string '{value}'" if isinstance(value, str) else f"'{node.value}'"


def compose(
    text: str, source: str, error: type[LocatedError], loader: type[yaml.SafeLoader] = yaml.SafeLoader
) -> yaml.Node | None:
    """The document's root node (None for an empty one); YAML errors raise ``error`` with the line at fault."""
    try:
        return yaml.compose(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = exc.problem or exc.context or "malformed YAML"
        if exc.context and exc.problem and exc.context_mark is not None:
            message += f" ({exc.context} that starts on line {exc.context_mark.line + 1})"
        raise error(source, line, "", f"invalid YAML: {message}") from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise error(source, line, "", f"invalid YAML: {exc.reason} (character #x{exc.character:04x})") from None
    except RecursionError:  # PyYAML composes nested collections recursively
        raise error(source, None, "", "invalid YAML: collections nested too deeply to read") from None


class NodeAccess:
    """The node checks every reader of a document shares; failures raise ``error_class``, located."""

    error_class: type[LocatedError] = LocatedError
    loader_class: type[yaml.SafeLoader] = yaml.SafeLoader

    def __init__(self, source: str) -> None:
        self.source = source
        self._loader = self.loader_class("")

    def compose(self, text: str) -> yaml.Node | None:
        return compose(text, self.source, self.error_class, self.loader_class)

    def error(self, node: yaml.Node | None, path: str, message: str) -> LocatedError:
        return self.error_class(self.source, line_of(node), path, message)

    def construct(self, node: yaml.Node) -> Any:
        return self._loader.construct_object(node, deep=True)

    def kind(self, node: yaml.Node) -> str:
        return kind(node, self._loader)

    def sequence(self, node: yaml.Node, path: str, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, path, f"expected {what}, got {self.kind(node)}")
        return list(node.value)

    def boolean(self, node: yaml.Node, path: str) -> bool:
        value = self.construct(node) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(value, bool):
            return value
        raise self.error(node, path, f"expected true or false, got {self.kind(node)}")


class NodeReader(NodeAccess):
    """Typed access to the nodes of a test-rules file; every failure raises FileFormatError."""

    error_class = FileFormatError

    def mapping(self, node: yaml.Node, path: str, known: Sequence[str] | None = None,
                what: str = "a mapping") -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """A mapping's entries by key; duplicate keys and (with ``known``) unknown keys are errors."""
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, path, f"expected {what}, got {self.kind(node)}")
        entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = self.construct(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                raise self.error(key_node, path, f"keys must be strings, got {self.kind(key_node)}")
            if key in entries:
                raise self.error(key_node, join(path, key), f"key '{key}' appears twice")
            if known is not None and key not in known:
                guess = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                hint = f" (did you mean '{guess[0]}'?)" if guess else f" (known keys: {', '.join(known)})"
                raise self.error(key_node, join(path, key), f"unknown key '{key}'{hint}")
            entries[key] = (key_node, value_node)
        return entries

    def string(self, node: yaml.Node, path: str, what: str = "a string") -> str:
        value = self.construct(node) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(value, str) and value:
            return value
        raise self.error(node, path, f"expected {what}, got {self.kind(node)}")

    def scalar_text(self, node: yaml.Node, path: str) -> str:
        """A scalar as written (``50`` stays ``"50"``, not ``50.0``): label values may be typed unquoted."""
        if not isinstance(node, yaml.ScalarNode) or self.construct(node) is None:
            raise self.error(node, path, f"expected a string, got {self.kind(node)}")
        return str(node.value)


def node_text(text: str, node: yaml.Node) -> str:
    """The source text of ``node`` on the lines it had, dedented: parsing it again reports the same line numbers."""
    lines = text.splitlines(keepends=True)
    start, end = node.start_mark, node.end_mark
    column = start.column
    out = ["\n"] * start.line
    for number in range(start.line, min(end.line, len(lines) - 1) + 1):
        line = lines[number]
        if number == end.line:
            line = line[: end.column]
        if number == start.line:
            line = line[column:]
        else:
            indent = len(line) - len(line.lstrip(" "))
            line = line[min(indent, column):]
        out.append(line)
    return "".join(out)


def read_text(path: Path, source: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FileFormatError(source, None, "", f"cannot read the file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise FileFormatError(source, None, "", "not UTF-8 text") from None
