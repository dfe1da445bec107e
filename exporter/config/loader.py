"""Load a jmx_exporter YAML configuration into frozen, typed objects, once.

Every key jmx_exporter 1.x knows is recognised. Keys that this exporter does not act on (``httpServer``,
``metricCustomizers``, ``startDelaySeconds`` ...) are accepted with a warning in ``Config.warnings``; keys nobody
knows are errors that suggest the closest known key. Regexes, replacement strings, ObjectNames and numbers are
all checked here, so a bad rule fails the load instead of a scrape. ``str(ConfigError)`` is the whole message:
``rules.yml:14: rules[3]: unknown key 'patern' (did you mean 'pattern'?)``.

See docs/configuration.md for every key.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from exporter.config.javaregex import (
    JavaPattern,
    JavaRegexError,
    Replacement,
    ReplacementError,
    compile_java,
    compile_replacement,
)
from exporter.config.model import Config, ConfigError, MetricType, Rule
from exporter.config.yamlnodes import LocatedError, NodeAccess, join, line_of, located
from exporter.records.javanum import double_to_string, parse_double
from exporter.records.objectname import ObjectNameError, ObjectNamePattern, parse_object_name

# The ObjectNames jmx_exporter excludes for ``excludeJvmMetrics: true``.
JVM_OBJECT_NAMES = (
    "com.sun.management:*",
    "com.sun.management.jmxremote:*",
    "java.lang:*",
    "java.nio:*",
    "java.util.logging:*",
    "javax.management:*",
    "javax.management.remote:*",
    "jdk.internal:*",
    "jdk.management:*",
    "jdk.management.jfr:*",
    "sun.management:*",
)
_PATTERN_PREFIX = "^.*(?:"
_PATTERN_SUFFIX = ").*$"

_IGNORED_TOP_KEYS = {
    "startDelaySeconds": "is accepted but not used: this exporter serves metrics as soon as it starts",
    "autoExcludeObjectNameAttributes": "is accepted but has no effect here (it only saves JMX reads in jmx_exporter)",
    "metricCustomizers": "(attributesAsLabels, extraMetrics) is not supported; the section is ignored",
    "httpServer": "is not used: configure the listener on the command line",
    "openTelemetry": "is not supported; the section is ignored",
}
_TOP_KEYS = (
    "hostPort",
    "jmxUrl",
    "username",
    "password",
    "ssl",
    "lowercaseOutputName",
    "lowercaseOutputLabelNames",
    "inferCounterTypeFromName",
    "includeObjectNames",
    "excludeObjectNames",
    "whitelistObjectNames",
    "blacklistObjectNames",
    "includeObjectNameAttributes",
    "excludeObjectNameAttributes",
    "excludeJvmMetrics",
    "rules",
    *_IGNORED_TOP_KEYS,
)
_RULE_KEYS = ("pattern", "name", "value", "valueFactor", "labels", "help", "type", "attrNameSnakeCase", "cache")


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read and parse a configuration file; raise ConfigError."""
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(source, None, "", f"cannot read the file: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(source, line, "", f"not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x})") from None
    return parse_config(text, source, environ)


def parse_config(text: str, source_name: str, environ: Mapping[str, str] | None = None) -> Config:
    """Parse configuration text; ``source_name`` names it in messages; ``environ`` resolves ``${VAR}``."""
    return _Reader(source_name, os.environ if environ is None else environ).config(text)


class _Reader(NodeAccess):
    """Walks the YAML node tree (for line numbers) and builds the Config."""

    error_class = ConfigError

    def __init__(self, source: str, environ: Mapping[str, str]) -> None:
        super().__init__(source)
        self.environ = environ
        self.warnings: list[tuple[int, str]] = []

    # -- generic node access ---------------------------------------------------------------------------------------

    def warn(self, node: yaml.Node | None, path: str, message: str) -> None:
        self.warnings.append((line_of(node) or 0, located(self.source, line_of(node), path, message)))

    def mapping(self, node: yaml.Node, path: str, what: str = "a mapping") -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """The entries of a mapping node, keyed by string; duplicate keys are errors."""
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, path, f"expected {what}, got {self.kind(node)}")
        own: set[str] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self._loader.construct_object(key_node, deep=True) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                raise self.error(key_node, path, f"keys must be strings, got {self.kind(key_node)}")
            if key in own:
                raise self.error(key_node, join(path, key), f"key '{key}' appears twice")
            own.add(key)
        self._loader.flatten_mapping(node)  # "<<" merge keys: merged entries come first, the node's own win
        entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = self._loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise self.error(key_node, path, f"keys must be strings, got {self.kind(key_node)}")
            entries[key] = (key_node, value_node)
        return entries

    def scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            return _NOT_SCALAR
        return self._loader.construct_object(node, deep=True)

    def string(self, node: yaml.Node, path: str) -> str:
        value = self.scalar(node)
        if isinstance(value, str):
            return value
        hint = f" (quote it: '{node.value}')" if isinstance(node, yaml.ScalarNode) and value is not None else ""
        raise self.error(node, path, f"expected a string, got {self.kind(node)}{hint}")

    def unknown_key(self, key_node: yaml.Node, path: str, key: str, known: tuple[str, ...]) -> LocatedError:
        lowered = {k.lower(): k for k in known}
        guess = lowered.get(key.lower()) or next(iter(difflib.get_close_matches(key, known, n=1, cutoff=0.6)), None)
        hint = f" (did you mean '{guess}'?)" if guess else ""
        return self.error(key_node, path, f"unknown key '{key}'{hint}")

    # -- the document ----------------------------------------------------------------------------------------------

    def config(self, text: str) -> Config:
        root = self.compose(text)
        if root is None:
            raise ConfigError(
                self.source, None, "", "the file is empty (write '{}' to export every MBean in the default format)"
            )
        top = self.mapping(root, "", "a mapping of configuration keys at the top level")
        for key, (key_node, _) in top.items():
            if key not in _TOP_KEYS:
                raise self.unknown_key(key_node, key, key, _TOP_KEYS)
        for key, reason in _IGNORED_TOP_KEYS.items():
            if key in top:
                key_node, value_node = top[key]
                self._check_ignored(key, value_node)
                self.warn(key_node, key, f"jmx_exporter's '{key}' {reason}")
        values: dict[str, Any] = {}
        if "startDelaySeconds" in top:
            values["start_delay_seconds"] = self.scalar(top["startDelaySeconds"][1])
        for key, attr in (
            ("lowercaseOutputName", "lowercase_output_name"),
            ("lowercaseOutputLabelNames", "lowercase_output_label_names"),
            ("inferCounterTypeFromName", "infer_counter_type_from_name"),
            ("excludeJvmMetrics", "exclude_jvm_metrics"),
            ("autoExcludeObjectNameAttributes", "auto_exclude_object_name_attributes"),
        ):
            if key in top:
                values[attr] = self.boolean(top[key][1], key)
        values.update(self._connection(top))
        include = self._object_names(top, "includeObjectNames", "whitelistObjectNames", allow_empty=False)
        exclude = self._object_names(top, "excludeObjectNames", "blacklistObjectNames", allow_empty=True)
        if values.get("exclude_jvm_metrics"):
            exclude += tuple(ObjectNamePattern.parse(name) for name in JVM_OBJECT_NAMES)
        values["include_object_name_attributes"] = self._attribute_map(top, "includeObjectNameAttributes")
        values["exclude_object_name_attributes"] = self._attribute_map(top, "excludeObjectNameAttributes")
        if "rules" in top:
            items = self.sequence(top["rules"][1], "rules", "a list of rules")
            comments = rule_comments(text, top["rules"][1], items)
            rules = tuple(self._rule(index, item, comments[index]) for index, item in enumerate(items))
            implicit = False
        else:
            rules, implicit = (Rule(index=0),), True
        return Config(
            source=self.source,
            rules=rules,
            implicit_default_rule=implicit,
            include_object_names=include,
            exclude_object_names=exclude,
            warnings=tuple(message for _, message in sorted(self.warnings, key=lambda w: w[0])),
            **values,
        )

    def _check_ignored(self, key: str, node: yaml.Node) -> None:
        """Ignored keys must still have the right shape, so a typo there is not silently swallowed."""
        if key == "startDelaySeconds":
            value = self.scalar(node)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise self.error(node, key, f"expected a whole number of seconds >= 0, got {self.kind(node)}")
        elif key == "autoExcludeObjectNameAttributes":
            self.boolean(node, key)
        elif key == "metricCustomizers":
            self.sequence(node, key, "a list of metric customizers")
        else:
            self.mapping(node, key)

    def _connection(self, top: dict[str, tuple[yaml.Node, yaml.Node]]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if "hostPort" in top and "jmxUrl" in top:
            raise self.error(top["jmxUrl"][0], "jmxUrl", "give either hostPort or jmxUrl, not both")
        if "hostPort" in top:
            node = top["hostPort"][1]
            host_port = self.scalar(node)
            if not isinstance(host_port, (str, int)) or isinstance(host_port, bool) or host_port == "":
                raise self.error(node, "hostPort", f"expected host:port, got {self.kind(node)}")
            values["jmx_url"] = f"service:jmx:rmi:///jndi/rmi://{host_port}/jmxrmi"
        elif "jmxUrl" in top:
            values["jmx_url"] = self.string(top["jmxUrl"][1], "jmxUrl")
        if "username" in top:
            node = top["username"][1]
            values["username"] = self._resolve(node, "username", self.string(node, "username"))
        if "password" in top:
            node = top["password"][1]
            values["password"] = self._resolve(node, "password", self._secret(node, "password"))
        if "ssl" in top:
            node = top["ssl"][1]
            if isinstance(node, yaml.MappingNode):
                self.mapping(node, "ssl")
                self.warn(node, "ssl", "the map form of ssl (key and trust stores) is not supported; using ssl: true")
                values["ssl"] = True
            else:
                values["ssl"] = self.boolean(node, "ssl")
        return values

    def _secret(self, node: yaml.Node, path: str) -> str:
        """Like ``string``, but an error never repeats the value: a mistyped password must not reach the logs."""
        value = self.scalar(node)
        if isinstance(value, str):
            return value
        if isinstance(node, yaml.SequenceNode):
            what = "a list"
        elif isinstance(node, yaml.MappingNode):
            what = "a mapping"
        elif value is None:
            what = "nothing (null)"
        elif isinstance(value, bool):
            what = "a boolean"
        elif isinstance(value, (int, float)):
            what = "a number"
        else:
            what = "a value of another type"
        hint = " (quote it; the value is not shown)" if isinstance(node, yaml.ScalarNode) and value is not None else ""
        raise self.error(node, path, f"expected a string, got {what}{hint}")

    def _resolve(self, node: yaml.Node, path: str, value: str) -> str:
        """jmx_exporter's ``${ENV_VAR}`` substitution: the whole (trimmed) value names an environment variable."""
        trimmed = value.strip()
        if not (trimmed.startswith("${") and trimmed.endswith("}")) or trimmed == "${}":
            return value
        name = trimmed[2:-1].strip()
        if not name:
            raise self.error(node, path, f"invalid environment variable name in '{value}'")
        resolved = self.environ.get(name)
        if resolved is None:
            raise self.error(node, path, f"environment variable '{name}' is not set")
        if not resolved.strip():
            raise self.error(node, path, f"environment variable '{name}' is empty")
        return resolved.strip()

    def _object_names(
        self, top: dict[str, tuple[yaml.Node, yaml.Node]], key: str, legacy: str, allow_empty: bool
    ) -> tuple[ObjectNamePattern, ...]:
        if key in top and legacy in top:
            raise self.error(
                top[legacy][0], legacy, f"give either {key} or {legacy} (its old name), not both"
            )
        used = key if key in top else legacy if legacy in top else None
        if used is None:
            return ()
        key_node, node = top[used]
        items = self.sequence(node, used, "a list of ObjectNames")
        if not items and not allow_empty:
            raise self.error(
                key_node, used, "an empty list selects no MBean in jmx_exporter; leave the key out for every MBean"
            )
        patterns: list[ObjectNamePattern] = []
        for index, item in enumerate(items):
            path = f"{used}[{index}]"
            text = self.string(item, path)
            try:
                patterns.append(ObjectNamePattern.parse(text))
            except ObjectNameError as exc:
                raise self.error(item, path, f"invalid ObjectName pattern '{text}': {exc}") from None
        return tuple(patterns)

    def _attribute_map(
        self, top: dict[str, tuple[yaml.Node, yaml.Node]], key: str
    ) -> tuple[tuple[str, tuple[str, ...]], ...]:
        if key not in top:
            return ()
        entries = self.mapping(top[key][1], key, "a mapping of ObjectName to a list of attribute names")
        pairs: list[tuple[str, tuple[str, ...]]] = []
        for name, (name_node, value_node) in entries.items():
            path = join(key, name)
            try:
                parse_object_name(name)
            except ObjectNameError as exc:
                try:
                    pattern = ObjectNamePattern.parse(name)
                except ObjectNameError:
                    raise self.error(name_node, path, f"invalid ObjectName '{name}': {exc}") from None
                if pattern.is_pattern:
                    self.warn(name_node, path, "is a pattern, but jmx_exporter compares these names exactly, so it "
                              "matches no MBean")
            attributes = tuple(
                self.string(item, f"{path}[{i}]")
                for i, item in enumerate(self.sequence(value_node, path, "a list of attribute names"))
            )
            pairs.append((name, attributes))
        return tuple(pairs)

    # -- rules -----------------------------------------------------------------------------------------------------

    def _rule(self, index: int, node: yaml.Node, comments: tuple[tuple[int, str], ...] = ()) -> Rule:
        path = f"rules[{index}]"
        entries = self.mapping(node, path, "a rule (a mapping with pattern, name, labels ...)")
        for key, (key_node, _) in entries.items():
            if key not in _RULE_KEYS:
                raise self.unknown_key(key_node, path, key, _RULE_KEYS)

        def node_of(key: str) -> yaml.Node | None:
            return entries[key][1] if key in entries else None

        fields: dict[str, Any] = {"index": index, "line": line_of(node), "comments": comments}
        compiled = None
        pattern_node = node_of("pattern")
        if pattern_node is not None:
            fields["pattern"] = self._pattern_text(pattern_node, f"{path}.pattern")
            compiled, standalone = self._compile_pattern(pattern_node, f"{path}.pattern", fields["pattern"])
            fields["regex"] = compiled.regex
            if standalone is not None:
                fields["_search"] = standalone.regex
                fields["_literal"] = max(standalone.required_literals, key=len, default=None)
        groups = (compiled.group_count, compiled.group_names) if compiled is not None else None

        name_node = node_of("name")
        if name_node is not None:
            if compiled is None:
                raise self.error(name_node, f"{path}.name", "a rule with a name needs a pattern")
            fields["name"] = self.string(name_node, f"{path}.name")
            fields["_name"] = self._template(name_node, f"{path}.name", fields["name"], groups)
        for key in ("labels", "help"):
            if key in entries and name_node is None:
                raise self.error(entries[key][0], f"{path}.{key}", f"'{key}' needs a 'name' in the same rule")
        help_node = node_of("help")
        if help_node is not None:
            fields["help"] = self.string(help_node, f"{path}.help")
            fields["_help"] = self._template(help_node, f"{path}.help", fields["help"], groups)
        labels_node = node_of("labels")
        if labels_node is not None:
            fields["labels"], fields["_labels"] = self._labels(labels_node, f"{path}.labels", groups)
        value_node = node_of("value")
        if value_node is not None:
            value = self._value_text(value_node, f"{path}.value")
            if value:  # jmx_exporter treats an empty value as no value
                if compiled is None:
                    raise self.error(value_node, f"{path}.value", "a rule with a value needs a pattern")
                template = self._template(value_node, f"{path}.value", value, groups)
                if template.constant is not None and parse_double(template.constant) is None:
                    raise self.error(
                        value_node,
                        f"{path}.value",
                        f"'{value}' is not a number and refers to no group, so every match would be dropped",
                    )
                fields["value"], fields["_value"] = value, template
        factor_node = node_of("valueFactor")
        if factor_node is not None:
            fields["value_factor"] = self._number(factor_node, f"{path}.valueFactor")
        type_node = node_of("type")
        if type_node is not None:
            fields["type"] = self._type(type_node, f"{path}.type")
        for key, attr in (("attrNameSnakeCase", "attr_name_snake_case"), ("cache", "cache")):
            flag_node = node_of(key)
            if flag_node is not None:
                fields[attr] = self.boolean(flag_node, f"{path}.{key}")
        return Rule(**fields)

    def _pattern_text(self, node: yaml.Node, path: str) -> str:
        value = self.scalar(node)
        if value is None or value == "":
            raise self.error(node, path, "the pattern is empty (leave 'pattern' out to match everything)")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.error(node, path, f"expected a regular expression, got {self.kind(node)}")
        return value if isinstance(value, str) else node.value  # jmx_exporter concatenates the raw text

    def _compile_pattern(self, node: yaml.Node, path: str, pattern: str) -> tuple[JavaPattern, JavaPattern | None]:
        wrapped = _PATTERN_PREFIX + pattern + _PATTERN_SUFFIX
        try:
            compiled = compile_java(wrapped)
        except JavaRegexError as exc:
            where = exc.index - len(_PATTERN_PREFIX)
            at = f" at index {where}" if 0 <= where <= len(pattern) else ""
            raise self.error(node, path, f"invalid regular expression '{pattern}': {exc.description}{at}") from None
        try:
            standalone = compile_java(pattern)  # its search and literals are cheap necessary conditions
        except JavaRegexError:
            standalone = None  # only valid once wrapped (e.g. an unbalanced ')'): run the full match only
        return compiled, standalone

    def _template(
        self, node: yaml.Node, path: str, text: str, groups: tuple[int, Mapping[str, int]] | None
    ) -> Replacement:
        count, names = groups if groups is not None else (0, {})
        try:
            return compile_replacement(text, count, names)
        except ReplacementError as exc:
            raise self.error(node, path, f"bad replacement '{text}': {exc}") from None

    def _labels(
        self, node: yaml.Node, path: str, groups: tuple[int, Mapping[str, int]] | None
    ) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[Replacement, Replacement], ...]]:
        entries = self.mapping(node, path, "a mapping of label name to value")
        pairs: list[tuple[str, str, Replacement, Replacement]] = []
        for name in sorted(entries):
            key_node, value_node = entries[name]
            label_path = join(path, name)
            value = self.string(value_node, label_path)
            pairs.append(
                (
                    name,
                    value,
                    self._template(key_node, label_path, name, groups),
                    self._template(value_node, label_path, value, groups),
                )
            )
        return tuple((n, v) for n, v, _, _ in pairs), tuple((nt, vt) for _, _, nt, vt in pairs)

    def _value_text(self, node: yaml.Node, path: str) -> str:
        value = self.scalar(node)
        if isinstance(value, str):
            return value
        if isinstance(value, bool) or value is None or value is _NOT_SCALAR:
            raise self.error(node, path, f"expected a number or a string with group references, got "
                             f"{self.kind(node)}")
        if isinstance(value, float):
            return double_to_string(value)
        if isinstance(value, int):
            return str(value)
        raise self.error(node, path, f"expected a number, got {self.kind(node)}")

    def _number(self, node: yaml.Node, path: str) -> float:
        value = self.scalar(node)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            parsed = parse_double(value)
            if parsed is not None:
                return parsed
        raise self.error(node, path, f"expected a number, got {self.kind(node)}")

    def _type(self, node: yaml.Node, path: str) -> MetricType:
        value = self.scalar(node)
        names = {"GAUGE": MetricType.GAUGE, "COUNTER": MetricType.COUNTER, "UNTYPED": MetricType.UNTYPED,
                 "UNKNOWN": MetricType.UNTYPED}
        if isinstance(value, str) and value in names:
            return names[value]
        hint = ""
        if isinstance(value, str) and value.upper() in names:
            hint = f" (write it in upper case: {value.upper()})"
        shown = f"'{value}'" if isinstance(value, str) else self.kind(node)
        raise self.error(node, path, f"type must be GAUGE, COUNTER or UNTYPED, not {shown}{hint}")


_NOT_SCALAR = object()
# The line breaks PyYAML counts lines by (str.splitlines knows more, which would shift the line numbers).
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def rule_comments(text: str, sequence: yaml.Node, items: list[yaml.Node]) -> list[tuple[tuple[int, str], ...]]:
    """Each rule's full-line comments, as (line, text after ``#``).

    A rule's comments are those on lines of their own, indented at least as deep as its keys, from its first line to
    the line before the next rule (for the last rule, to the end of the list): a section comment at the list's own
    indentation belongs to no rule. A ``#`` inside a multi-line scalar is text, not a comment.
    """
    starts = [0, *(match.end() for match in _LINE_BREAK.finditer(text))]
    scalars = _multi_line_scalars(sequence)
    found: list[tuple[tuple[int, str], ...]] = []
    for position, node in enumerate(items):
        last = items[position + 1].start_mark.line - 1 if position + 1 < len(items) else sequence.end_mark.line
        comments = []
        for line in range(node.start_mark.line, min(last, len(starts) - 1) + 1):
            end = starts[line + 1] if line + 1 < len(starts) else len(text)
            content = _LINE_BREAK.sub("", text[starts[line]:end])
            stripped = content.lstrip(" \t")
            indent = len(content) - len(stripped)
            at = starts[line] + indent
            if stripped.startswith("#") and indent >= node.start_mark.column and not any(
                start < at < stop for start, stop in scalars
            ):
                comments.append((line + 1, stripped[1:].strip()))
        found.append(tuple(comments))
    return found


def _multi_line_scalars(root: yaml.Node) -> list[tuple[int, int]]:
    """The (start, end) text offsets of the scalars under ``root`` that span more than one line."""
    spans, seen, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:  # an alias may point back up the tree
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            if node.start_mark.line != node.end_mark.line:
                spans.append((node.start_mark.index, node.end_mark.index))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(item for pair in node.value for item in pair)
    return spans


