"""Load a jmx_exporter YAML configuration into frozen, typed objects, once.

What jmx_exporter 1.6 loads, this loads, with the same meaning; what it refuses, this refuses. Where jmx_exporter
reads a mistake silently (``includeObjectNames: []``, a ``value`` that is no number, ``type: counter``, an empty
file ...) the file loads as it does there and ``Config.warnings`` says what it means; where jmx_exporter loads a
rule that throws when it is applied (a group the pattern lacks, a ``value`` without a ``pattern``), the rule loads
with a warning and fails the scrape where jmx_exporter's would fail (:class:`exporter.config.model.RuleFailure`).
Keys jmx_exporter knows but this exporter does not act on (``httpServer``, ``startDelaySeconds`` ...) are accepted
with a warning; keys nobody knows are errors that suggest the closest known key (jmx_exporter ignores them; here a
typo must not go unnoticed). One key is this exporter's own, ``passthrough`` (the families ``--source
passthrough`` re-serves), checked as strictly. ``str(ConfigError)`` is the whole message:
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
    ReplacementError,
    compile_java,
    compile_replacement,
)
from exporter.config.model import (
    Config,
    ConfigError,
    ConfigWarning,
    FailingReplacement,
    MetricCustomizer,
    MetricType,
    Passthrough,
    Rule,
    Template,
)
from exporter.config.yamlnodes import JavaYamlLoader, LocatedError, NodeAccess, java_string, join, line_of, utc_datetime
from exporter.records.javanum import parse_double
from exporter.records.mbeans import Attribute, Unsupported
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
_JVM_DOMAINS = tuple(name.split(":")[0] for name in JVM_OBJECT_NAMES)
_PATTERN_PREFIX = "^.*(?:"
_PATTERN_SUFFIX = ").*$"
_JAVA_INT_MAX = 2**31 - 1  # jmx_exporter casts these numbers to Integer

_IGNORED_TOP_KEYS = {
    "startDelaySeconds": "is accepted but not used: this exporter serves metrics as soon as it starts",
    "autoExcludeObjectNameAttributes": "is accepted but has no effect here (it only saves JMX reads in jmx_exporter)",
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
    "metricCustomizers",
    "scrapeTimeoutSeconds",
    "rules",
    *_IGNORED_TOP_KEYS,
    "passthrough",  # this exporter's own (jmx_exporter ignores keys it does not know)
)
_RULE_KEYS = ("pattern", "name", "value", "valueFactor", "labels", "help", "type", "attrNameSnakeCase", "cache")
_SSL_KEYS = ("enabled", "keyStore", "trustStore", "protocols", "ciphers")
_STORE_KEYS = ("filename", "type", "password")
_CUSTOMIZER_KEYS = ("mbeanFilter", "attributesAsLabels", "extraMetrics")
_FILTER_KEYS = ("domain", "properties")
_EXTRA_METRIC_KEYS = ("name", "value", "description")
_PASSTHROUGH_KEYS = ("names",)
# A metric name (Prometheus' [a-zA-Z_:][a-zA-Z0-9_:]*), with * for any run of its characters.
_METRIC_NAME_OR_PATTERN = re.compile(r"[a-zA-Z_:*][a-zA-Z0-9_:*]*")
_TYPES = {"GAUGE": MetricType.GAUGE, "COUNTER": MetricType.COUNTER, "UNTYPED": MetricType.UNTYPED,
          "UNKNOWN": MetricType.UNTYPED}
_FAILS = "jmx_exporter loads this but fails every scrape in which the rule matches"


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read and parse a configuration file; raise ConfigError."""
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(source, None, "", f"cannot read the file: {exc.strerror or exc}") from None
    reader = _Reader(source, os.environ if environ is None else environ)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # jmx_exporter's reader puts U+FFFD in place of what is not UTF-8, and goes on.
        line = data[: exc.start].count(b"\n") + 1
        reader.warn_at(line, "", f"not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x}): read with U+FFFD "
                       "in place of each byte that is not, as jmx_exporter reads it")
        text = data.decode("utf-8", errors="replace")
    return reader.config(text)


def parse_config(text: str, source_name: str, environ: Mapping[str, str] | None = None) -> Config:
    """Parse configuration text; ``source_name`` names it in messages; ``environ`` resolves ``${VAR}``."""
    return _Reader(source_name, os.environ if environ is None else environ).config(text)


Entries = dict[str, tuple[yaml.Node, yaml.Node]]


class _Reader(NodeAccess):
    """Walks the YAML node tree (for line numbers) and builds the Config."""

    error_class = ConfigError
    loader_class = JavaYamlLoader

    def __init__(self, source: str, environ: Mapping[str, str]) -> None:
        super().__init__(source)
        self.environ = environ
        self.warnings: list[ConfigWarning] = []

    # -- generic node access ---------------------------------------------------------------------------------------

    def warn(self, node: yaml.Node | None, path: str, message: str) -> None:
        self.warn_at(line_of(node), path, message)

    def warn_at(self, line: int | None, path: str, message: str) -> None:
        self.warnings.append(ConfigWarning(self.source, line, path, message))

    def mapping(self, node: yaml.Node, path: str, what: str = "a mapping") -> Entries:
        """The entries of a mapping node, keyed by string. A key given twice warns and the last one is used, as in
        jmx_exporter (its YAML parser keeps the last)."""
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, path, f"expected {what}, got {self.kind(node)}")
        own: set[str] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.scalar(key_node)
            if not isinstance(key, str):
                raise self.error(key_node, path, f"keys must be strings, got {self.kind(key_node)}")
            if key in own:
                self.warn(key_node, join(path, key), f"key '{key}' appears twice; the last one is used, as "
                          "jmx_exporter does")
            own.add(key)
        self._loader.flatten_mapping(node)  # "<<" merge keys: merged entries come first, the node's own win
        entries: Entries = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node)
            if not isinstance(key, str):
                raise self.error(key_node, path, f"keys must be strings, got {self.kind(key_node)}")
            entries[key] = (key_node, value_node)
        return entries

    def keyed(self, node: yaml.Node, path: str, known: tuple[str, ...], what: str) -> Entries:
        """A mapping whose keys must be among ``known``."""
        entries = self.mapping(node, path, what)
        for key, (key_node, _) in entries.items():
            if key not in known:
                raise self.unknown_key(key_node, path, key, known)
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

    def optional_string(self, node: yaml.Node, path: str) -> str | None:
        """A string, or None for an empty (null) value: what a Java ``(String)`` cast lets through."""
        return None if self.scalar(node) is None else self.string(node, path)

    def whole_number(self, node: yaml.Node, path: str, minimum: int) -> int:
        value = self.scalar(node)
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= _JAVA_INT_MAX:
            raise self.error(node, path, f"expected a whole number of seconds >= {minimum}, got {self.kind(node)}")
        return value

    def unknown_key(self, key_node: yaml.Node, path: str, key: str, known: tuple[str, ...]) -> LocatedError:
        lowered = {k.lower(): k for k in known}
        guess = lowered.get(key.lower()) or next(iter(difflib.get_close_matches(key, known, n=1, cutoff=0.6)), None)
        hint = f" (did you mean '{guess}'?)" if guess else ""
        return self.error(key_node, path, f"unknown key '{key}'{hint}")

    # -- the document ----------------------------------------------------------------------------------------------

    def config(self, text: str) -> Config:
        root = self.compose(text)
        if root is None or (isinstance(root, yaml.ScalarNode) and self.scalar(root) is None):
            self.warn_at(None, "", "the file is empty: every MBean is exported in the default format, as "
                         "jmx_exporter's collector reads an empty file (its agent and standalone server refuse one)")
            top: Entries = {}
        else:
            top = self.mapping(root, "", "a mapping of configuration keys at the top level")
        for key, (key_node, _) in top.items():
            if key not in _TOP_KEYS:
                raise self.unknown_key(key_node, key, key, _TOP_KEYS)
        for key, reason in _IGNORED_TOP_KEYS.items():
            if key in top:
                key_node, value_node = top[key]
                if key == "startDelaySeconds":
                    self.whole_number(value_node, key, 0)
                elif key == "autoExcludeObjectNameAttributes":
                    self.boolean(value_node, key)
                self.warn(key_node, key, f"jmx_exporter's '{key}' {reason}")
        values: dict[str, Any] = {}
        if "startDelaySeconds" in top:
            values["start_delay_seconds"] = self.scalar(top["startDelaySeconds"][1])
        if "scrapeTimeoutSeconds" in top:
            values["scrape_timeout_seconds"] = self.whole_number(top["scrapeTimeoutSeconds"][1],
                                                                 "scrapeTimeoutSeconds", 1)
        for key, attr in (
            ("lowercaseOutputName", "lowercase_output_name"),
            ("lowercaseOutputLabelNames", "lowercase_output_label_names"),
            ("inferCounterTypeFromName", "infer_counter_type_from_name"),
            ("autoExcludeObjectNameAttributes", "auto_exclude_object_name_attributes"),
        ):
            if key in top:
                values[attr] = self.boolean(top[key][1], key)
        if "excludeJvmMetrics" in top:
            key_node, node = top["excludeJvmMetrics"]
            if self.scalar(node) is None:
                self.warn(key_node, "excludeJvmMetrics", "is empty: read as false, as jmx_exporter reads it")
                values["exclude_jvm_metrics"] = False
            else:
                values["exclude_jvm_metrics"] = self.boolean(node, "excludeJvmMetrics")
        values.update(self._connection(top))
        include, nothing = self._object_names(top, "includeObjectNames", "whitelistObjectNames")
        exclude, _ = self._object_names(top, "excludeObjectNames", "blacklistObjectNames")
        if values.get("exclude_jvm_metrics"):
            self._jvm_includes(top, include)
            exclude += tuple(ObjectNamePattern.parse(name) for name in JVM_OBJECT_NAMES)
        values["include_object_name_attributes"] = self._attribute_map(top, "includeObjectNameAttributes")
        values["exclude_object_name_attributes"] = self._attribute_map(top, "excludeObjectNameAttributes")
        if "metricCustomizers" in top:
            values["metric_customizers"] = self._customizers(top["metricCustomizers"][1])
        if "passthrough" in top:
            values["passthrough"] = self._passthrough(top["passthrough"][1])
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
            include_nothing=nothing,
            exclude_object_names=exclude,
            warnings=tuple(sorted(self.warnings, key=lambda w: w.line or 0)),
            **values,
        )

    def _connection(self, top: Entries) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if "hostPort" in top and "jmxUrl" in top:
            raise self.error(top["jmxUrl"][0], "jmxUrl", "give either hostPort or jmxUrl, not both")
        if "hostPort" in top:
            node = top["hostPort"][1]
            host_port = self.construct(node)
            url = f"service:jmx:rmi:///jndi/rmi://{java_string(host_port)}/jmxrmi"  # Java's string concatenation
            if isinstance(host_port, bool) or not isinstance(host_port, (str, int)) or host_port == "":
                self.warn(node, "hostPort", f"expected host:port, got {self.kind(node)}; jmx_exporter would "
                          f"connect to {url}")
            values["jmx_url"] = url
        elif "jmxUrl" in top:
            values["jmx_url"] = self.string(top["jmxUrl"][1], "jmxUrl")
        for key in ("username", "password"):
            if key in top:
                key_node, node = top[key]
                text = self.optional_string(node, key) if key == "username" else self._secret(node, key)
                if text is None:
                    self.warn(key_node, key, f"is empty: no {key}, as jmx_exporter reads it")
                    text = ""
                values[key] = self._resolve(node, key, text)
        if "ssl" in top:
            values["ssl"] = self._ssl(*top["ssl"])
        return values

    def _ssl(self, key_node: yaml.Node, node: yaml.Node) -> bool:
        """jmx_exporter's ``ssl``: a boolean, or a map with ``enabled`` and key material; anything else is ignored."""
        value = self.scalar(node)
        if isinstance(value, bool):
            return value
        if not isinstance(node, yaml.MappingNode):
            self.warn(key_node, "ssl", f"expected true, false or a mapping, got {self.kind(node)}; jmx_exporter "
                      "ignores it, so the connection is not TLS")
            return False
        entries = self.keyed(node, "ssl", _SSL_KEYS, "a mapping of ssl settings")
        enabled = self.boolean(entries["enabled"][1], "ssl.enabled") if "enabled" in entries else False
        for store in ("keyStore", "trustStore"):
            if store in entries:
                path = f"ssl.{store}"
                store_entries = self.keyed(entries[store][1], path, _STORE_KEYS, "a mapping with filename, type "
                                           "and password")
                # As jmx_exporter reads them: a filename and a password must be strings, a type may be empty.
                if "filename" in store_entries:
                    self.string(store_entries["filename"][1], f"{path}.filename")
                if "type" in store_entries:
                    self.optional_string(store_entries["type"][1], f"{path}.type")
                if "password" in store_entries and self._secret(store_entries["password"][1],
                                                                f"{path}.password") is None:
                    raise self.error(store_entries["password"][1], f"{path}.password", "expected a string, got "
                                     "nothing (null)")
                prefix = "javax.net.ssl." + store
                self.warn(entries[store][0], path, f"is not read here: give the embedded JVM -D{prefix}=<file> "
                          f"(and -D{prefix}Password, -D{prefix}Type) with --jvm-option")
        for key in ("protocols", "ciphers"):
            if key in entries:
                item = entries[key][1]
                if isinstance(item, yaml.SequenceNode):  # jmx_exporter's next release takes a list too
                    for index, entry in enumerate(item.value):
                        self.string(entry, f"ssl.{key}[{index}]")
                else:
                    self.string(item, f"ssl.{key}")
                prop = "jdk.tls.client.protocols" if key == "protocols" else "https.cipherSuites"
                self.warn(entries[key][0], f"ssl.{key}", f"is not read here: give the embedded JVM -D{prop}=... "
                          "with --jvm-option")
        if not enabled:
            self.warn(key_node, "ssl", "the mapping does not say 'enabled: true', so the connection is not TLS "
                      "(as in jmx_exporter)")
        return enabled

    def _secret(self, node: yaml.Node, path: str) -> str | None:
        """Like ``optional_string``, but an error never repeats the value: a mistyped password must not reach the
        logs."""
        value = self.scalar(node)
        if isinstance(value, str) or value is None:
            return value
        if isinstance(node, yaml.SequenceNode):
            what = "a list"
        elif isinstance(node, yaml.MappingNode):
            what = "a mapping"
        elif isinstance(value, bool):
            what = "a boolean"
        elif isinstance(value, (int, float)):
            what = "a number"
        else:
            what = "a value of another type"
        hint = " (quote it; the value is not shown)" if isinstance(node, yaml.ScalarNode) else ""
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

    def _object_names(self, top: Entries, key: str, legacy: str) -> tuple[tuple[ObjectNamePattern, ...], bool]:
        """The patterns of ``key`` (or of its old name), and whether the list was given empty."""
        if key in top and legacy in top:
            self.warn(top[legacy][0], legacy, f"is ignored: {key} is given too, and jmx_exporter then reads only "
                      f"{key} ({legacy} is its old name)")
        used = key if key in top else legacy if legacy in top else None
        if used is None:
            return (), False
        key_node, node = top[used]
        items = self.sequence(node, used, "a list of ObjectNames")
        if not items and used in ("includeObjectNames", "whitelistObjectNames"):
            self.warn(key_node, used, "an empty list selects no MBean, so nothing is exported (as in jmx_exporter); "
                      "leave the key out for every MBean")
        patterns: list[ObjectNamePattern] = []
        for index, item in enumerate(items):
            path = f"{used}[{index}]"
            text = self.string(item, path)
            try:
                patterns.append(ObjectNamePattern.parse(text))
            except ObjectNameError as exc:
                raise self.error(item, path, f"invalid ObjectName pattern '{text}': {exc}") from None
        return tuple(patterns), not items and used in ("includeObjectNames", "whitelistObjectNames")

    def _jvm_includes(self, top: Entries, include: tuple[ObjectNamePattern, ...]) -> None:
        """Warn about include patterns that select JVM beans, which excludeJvmMetrics excludes all the same."""
        used = "includeObjectNames" if "includeObjectNames" in top else "whitelistObjectNames"
        items = self.sequence(top[used][1], used, "a list") if used in top else []
        for index, (pattern, item) in enumerate(zip(include, items, strict=True)):
            if pattern.domain in _JVM_DOMAINS:
                self.warn(item, f"{used}[{index}]", f"'{pattern.text}' selects JVM beans, which excludeJvmMetrics: "
                          "true excludes: they export nothing, as in jmx_exporter 1.6 (its next release exports "
                          "JVM beans an include pattern names)")

    def _attribute_map(self, top: Entries, key: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
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
            attributes: list[str] = []
            for i, item in enumerate(self.sequence(value_node, path, "a list of attribute names")):
                value = self.scalar(item)
                if isinstance(value, str):
                    attributes.append(value)
                else:
                    self.warn(item, f"{path}[{i}]", f"is {self.kind(item)}, not an attribute name: jmx_exporter "
                              "compares it with attribute names, so it selects none (quote it)")
            pairs.append((name, tuple(attributes)))
        return tuple(pairs)

    # -- metric customizers ----------------------------------------------------------------------------------------

    def _customizers(self, node: yaml.Node) -> tuple[MetricCustomizer, ...]:
        return tuple(
            self._customizer(index, item)
            for index, item in enumerate(self.sequence(node, "metricCustomizers", "a list of metric customizers"))
        )

    def _customizer(self, index: int, node: yaml.Node) -> MetricCustomizer:
        path = f"metricCustomizers[{index}]"
        entries = self.keyed(node, path, _CUSTOMIZER_KEYS, "a metric customizer (a mapping with mbeanFilter, "
                             "attributesAsLabels, extraMetrics)")
        filter_node = entries["mbeanFilter"][1] if "mbeanFilter" in entries else None
        if filter_node is None or self.scalar(filter_node) is None:
            raise self.error(node, path, "a metric customizer needs an mbeanFilter (a mapping with a domain and "
                             "optional properties)")
        filter_path = f"{path}.mbeanFilter"
        selector = self.keyed(filter_node, filter_path, _FILTER_KEYS, "a mapping with domain and properties")
        domain = self.optional_string(selector["domain"][1], f"{filter_path}.domain") if "domain" in selector else None
        if domain is None:
            raise self.error(filter_node, filter_path, "needs a domain (the domain of the MBeans to customize, e.g. "
                             "trino.execution)")
        properties: tuple[tuple[str, object], ...] = ()
        failure = None
        if "properties" in selector:
            props_key, props_node = selector["properties"]
            props_path = f"{filter_path}.properties"
            if self.scalar(props_node) is None:
                failure = (f"{props_path} (line {line_of(props_key)}) is empty: jmx_exporter fails the scrape "
                           f"when it meets an MBean of the domain {domain} (leave 'properties' out to select every "
                           "MBean of the domain)")
                self.warn(props_key, props_path, f"is empty: jmx_exporter loads this but fails every scrape that "
                          f"meets an MBean of the domain {domain}; leave 'properties' out to select all of them")
            else:
                pairs = []
                for key, (_, value_node) in self.mapping(props_node, props_path, "a mapping of key property "
                                                                "to value").items():
                    value = self.scalar(value_node)
                    if not isinstance(value, str):
                        self.warn(value_node, join(props_path, key), f"is {self.kind(value_node)}, not a string: "
                                  "jmx_exporter compares it with the MBean's key property, so it matches no MBean "
                                  "(quote it)")
                    pairs.append((key, value))
                properties = tuple(pairs)
        labels_node = entries["attributesAsLabels"][1] if "attributesAsLabels" in entries else None
        metrics_node = entries["extraMetrics"][1] if "extraMetrics" in entries else None
        if labels_node is not None and self.scalar(labels_node) is None:
            labels_node = None
        if metrics_node is not None and self.scalar(metrics_node) is None:
            metrics_node = None
        if labels_node is None and metrics_node is None:
            raise self.error(node, path, "a metric customizer needs attributesAsLabels or extraMetrics (or both)")
        attributes: list[str] = []
        if labels_node is not None:
            labels_path = f"{path}.attributesAsLabels"
            for i, item in enumerate(self.sequence(labels_node, labels_path, "a list of attribute names")):
                value = self.scalar(item)
                if value is None:
                    self.warn(item, f"{labels_path}[{i}]", "is empty: it names no attribute")
                elif not isinstance(value, str):
                    failure = failure or (f"{labels_path}[{i}] (line {line_of(item)}) is {self.kind(item)}, not an "
                                          "attribute name: jmx_exporter fails the scrape when it meets an MBean "
                                          "this customizer selects")
                    self.warn(item, f"{labels_path}[{i}]", f"is {self.kind(item)}, not an attribute name: "
                              "jmx_exporter loads this but fails every scrape that meets an MBean this customizer "
                              "selects (quote it)")
                elif value not in attributes:
                    attributes.append(value)
        metrics: list[Attribute] = []
        if metrics_node is not None:
            metrics_path = f"{path}.extraMetrics"
            for i, item in enumerate(self.sequence(metrics_node, metrics_path, "a list of extra metrics")):
                metrics.append(self._extra_metric(f"{metrics_path}[{i}]", item))
        return MetricCustomizer(index, domain, properties, tuple(attributes), tuple(metrics), failure,
                                line_of(node))

    def _extra_metric(self, path: str, node: yaml.Node) -> Attribute:
        entries = self.keyed(node, path, _EXTRA_METRIC_KEYS, "an extra metric (a mapping with name, value and "
                             "description)")
        name = self.optional_string(entries["name"][1], f"{path}.name") if "name" in entries else None
        if name is None:
            raise self.error(node, path, "an extra metric needs a name")
        value_node = entries["value"][1] if "value" in entries else None
        if value_node is None or self.scalar(value_node) is None:
            raise self.error(node, path, "an extra metric needs a value")
        description = ""
        if "description" in entries:
            description = self.optional_string(entries["description"][1], f"{path}.description") or ""
        value = self.construct(value_node)
        if isinstance(value, bool):
            return Attribute(name, "java.lang.Boolean", value, description)
        if isinstance(value, int):
            return Attribute(name, "java.lang.Integer" if abs(value) <= _JAVA_INT_MAX else "java.lang.Long", value,
                             description)
        if isinstance(value, float):
            return Attribute(name, "java.lang.Double", value, description)
        if hasattr(value, "year"):  # a YAML date: jmx_exporter exports a Date as seconds since the epoch
            return Attribute(name, "java.lang.Double", utc_datetime(value).timestamp(), description)
        self.warn(value_node, f"{path}.value", f"is {self.kind(value_node)}: jmx_exporter exports an extra metric's "
                  "number or boolean; a string only through a rule with a value, anything else never")
        if isinstance(value, str):
            return Attribute(name, "java.lang.String", value, description)
        return Attribute(name, "java.lang.Object", Unsupported(f"the extra metric's value is {self.kind(value_node)}"),
                         description)

    # -- this exporter's own keys ----------------------------------------------------------------------------------

    def _passthrough(self, node: yaml.Node) -> Passthrough:
        """``passthrough.names``: the target's metric names (or ``*`` patterns) that ``--source passthrough``
        re-serves."""
        what = "a mapping with names (the target's metric names to re-serve)"
        entries = self.keyed(node, "passthrough", _PASSTHROUGH_KEYS, what)
        if "names" not in entries:
            raise self.error(node, "passthrough", "needs names: the target's metric names to re-serve ('*' for every "
                             "one)")
        names_node = entries["names"][1]
        items = self.sequence(names_node, "passthrough.names", "a list of metric names")
        if not items:
            raise self.error(names_node, "passthrough.names", "is empty, which would re-serve nothing: list the "
                             "target's metric names ('*' for every one)")
        texts = []
        for index, item in enumerate(items):
            path = f"passthrough.names[{index}]"
            text = self.string(item, path)
            if not _METRIC_NAME_OR_PATTERN.fullmatch(text):
                raise self.error(item, path, f"'{text}' is not a metric name: letters, digits, '_' and ':' (not "
                                 "first a digit), with '*' for any run of them")
            texts.append(text)
        return Passthrough.of(texts)

    # -- rules -----------------------------------------------------------------------------------------------------

    def _rule(self, index: int, node: yaml.Node, comments: tuple[tuple[int, str], ...] = ()) -> Rule:
        path = f"rules[{index}]"
        entries = self.keyed(node, path, _RULE_KEYS, "a rule (a mapping with pattern, name, labels ...)")

        def node_of(key: str) -> yaml.Node | None:
            return entries[key][1] if key in entries else None

        fields: dict[str, Any] = {"index": index, "line": line_of(node), "comments": comments}
        compiled = None
        pattern_node = node_of("pattern")
        if pattern_node is not None:
            fields["pattern"] = self._pattern_text(pattern_node, f"{path}.pattern")
            compiled, standalone = self._compile_pattern(pattern_node, f"{path}.pattern", fields["pattern"])
            fields["regex"] = compiled.regex
            fields["groups"] = compiled.group_count
            if standalone is not None:
                fields["_search"] = standalone.regex
                fields["_literal"] = max(standalone.required_literals, key=len, default=None)
        groups = (compiled.group_count, compiled.group_names) if compiled is not None else None

        name_node = node_of("name")
        if name_node is not None and self.scalar(name_node) is None:
            self.warn(name_node, f"{path}.name", "is empty: the rule exports in the default format, as in "
                      "jmx_exporter")
            name_node = None
        if name_node is not None:
            if compiled is None:
                raise self.error(name_node, f"{path}.name", "a rule with a name needs a pattern")
            fields["name"] = self.string(name_node, f"{path}.name")
            fields["_name"] = self._template(name_node, f"{path}.name", fields["name"], groups)
        help_node = node_of("help")
        if help_node is not None and self.scalar(help_node) is None:
            self.warn(help_node, f"{path}.help", "is empty: the default HELP is used, as in jmx_exporter")
            help_node = None
        for key, given in (("labels", "labels" in entries), ("help", help_node is not None)):
            if given and name_node is None:
                raise self.error(entries[key][0], f"{path}.{key}", f"'{key}' needs a 'name' in the same rule")
        if help_node is not None:
            fields["help"] = self.string(help_node, f"{path}.help")
            fields["_help"] = self._template(help_node, f"{path}.help", fields["help"], groups)
        labels_node = node_of("labels")
        if labels_node is not None:
            fields["labels"], fields["_labels"] = self._labels(labels_node, f"{path}.labels", groups)
        value_node = node_of("value")
        if value_node is not None:
            value = java_string(self.construct(value_node))
            if value:  # jmx_exporter treats an empty value as no value
                fields["value"], fields["_value"] = value, self._value(value_node, f"{path}.value", value, groups)
        factor_node = node_of("valueFactor")
        if factor_node is not None:
            factor = parse_double(java_string(self.construct(factor_node)))
            if factor is None:
                raise self.error(factor_node, f"{path}.valueFactor", f"expected a number, got {self.kind(factor_node)}")
            fields["value_factor"] = factor
        type_node = node_of("type")
        if type_node is not None:
            fields["type"] = self._type(type_node, f"{path}.type")
        for key, attr in (("attrNameSnakeCase", "attr_name_snake_case"), ("cache", "cache")):
            flag_node = node_of(key)
            if flag_node is not None:
                fields[attr] = self.boolean(flag_node, f"{path}.{key}")
        return Rule(**fields)

    def _pattern_text(self, node: yaml.Node, path: str) -> str:
        """The pattern as jmx_exporter builds it: ``String.valueOf`` of whatever the YAML holds."""
        value = self.construct(node)
        text = java_string(value)
        if value is None:
            self.warn(node, path, "is empty (null): jmx_exporter reads it as the regular expression 'null', which "
                      "matches only strings that contain 'null'; leave 'pattern' out to match everything")
        elif value == "":
            self.warn(node, path, "the pattern is empty: it matches everything (leave 'pattern' out to say so)")
        elif not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.warn(node, path, f"is {self.kind(node)}, read as the regular expression '{text}', as jmx_exporter "
                      "reads it (quote the pattern)")
        return text

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
    ) -> Template:
        """A replacement string; one Java's Matcher rejects loads (jmx_exporter checks it only when the rule matches)
        with a warning, and fails the scrape where it would be expanded."""
        count, names = groups if groups is not None else (0, {})
        try:
            return compile_replacement(text, count, names)
        except ReplacementError as exc:
            problem = f"bad replacement '{text}': {exc}"
            self.warn(node, path, f"{problem}; {_FAILS}")
            return FailingReplacement(text, f"{path} (line {line_of(node)}): {problem}")

    def _value(self, node: yaml.Node, path: str, text: str, groups: tuple[int, Mapping[str, int]] | None) -> Template:
        if groups is None:
            problem = "a rule with a value needs a pattern"
            self.warn(node, path, f"{problem}; jmx_exporter loads this but fails every scrape in which the rule is "
                      "reached")
            return FailingReplacement(text, f"{path} (line {line_of(node)}): {problem}")
        template = self._template(node, path, text, groups)
        if template.constant is not None and parse_double(template.constant) is None:
            shown = f"'{text}'" if isinstance(self.scalar(node), str) else f"'{text}' ({self.kind(node)})"
            self.warn(node, path, f"{shown} is not a number and refers to no group: every attribute the rule "
                      "matches is dropped, as in jmx_exporter")
        return template

    def _labels(
        self, node: yaml.Node, path: str, groups: tuple[int, Mapping[str, int]] | None
    ) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[Template, Template], ...]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, path, f"expected a mapping of label name to value, got {self.kind(node)}")
        own: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.scalar(key_node)
            if key is _NOT_SCALAR or key is None:
                raise self.error(key_node, path, f"label names must be strings, got {self.kind(key_node)}")
            if key in own:
                self.warn(key_node, join(path, java_string(key)), f"key '{java_string(key)}' appears twice; the "
                          "last one is used, as jmx_exporter does")
            own.add(key)
        self._loader.flatten_mapping(node)  # "<<" merge keys: merged entries come first, the node's own win
        entries: dict[object, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node)
            if key is _NOT_SCALAR or key is None:
                raise self.error(key_node, path, f"label names must be strings, got {self.kind(key_node)}")
            entries[key] = (key_node, value_node)
        if len({type(key) for key in entries}) > 1:  # jmx_exporter sorts them: names of two types cannot be compared
            raise self.error(node, path, "label names of different types (quote them all)")
        pairs: list[tuple[str, str, Template, Template]] = []
        for key in sorted(entries):  # type: ignore[type-var]
            key_node, value_node = entries[key]
            name = java_string(key)
            label_path = join(path, name)
            if isinstance(key, str):
                name_template = self._template(key_node, label_path, name, groups)
            else:
                problem = f"the label name {self.kind(key_node)} is not a string"
                self.warn(key_node, label_path, f"{problem}; {_FAILS} (quote it)")
                name_template = FailingReplacement(name, f"{label_path} (line {line_of(key_node)}): {problem}")
            value = self.optional_string(value_node, label_path)
            if value is None:
                problem = "the label value is empty (null)"
                self.warn(value_node, label_path, f"{problem}; {_FAILS} (write '' for an empty value)")
                value_template: Template = FailingReplacement("", f"{label_path} (line {line_of(value_node)}): "
                                                              f"{problem}")
                value = ""
            else:
                value_template = self._template(value_node, label_path, value, groups)
            pairs.append((name, value, name_template, value_template))
        return tuple((n, v) for n, v, _, _ in pairs), tuple((nt, vt) for _, _, nt, vt in pairs)

    def _type(self, node: yaml.Node, path: str) -> MetricType:
        value = self.scalar(node)
        if isinstance(value, str) and value in _TYPES:
            return _TYPES[value]
        if value is None:
            self.warn(node, path, "is empty: read as UNTYPED (jmx_exporter 1.6 fails every scrape in which this "
                      "rule exports a sample)")
            return MetricType.UNTYPED
        if not isinstance(value, str):
            raise self.error(node, path, f"type must be GAUGE, COUNTER or UNTYPED, not {self.kind(node)}")
        hint = f"; write it in upper case: {value.upper()}" if value.upper() in _TYPES else ""
        self.warn(node, path, f"type must be GAUGE, COUNTER or UNTYPED, not '{value}': jmx_exporter exports the "
                  f"samples as untyped{hint}")
        return MetricType.UNTYPED


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


