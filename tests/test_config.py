"""Configuration loading: the catalogue of bad configs (one file per error, exact message), valid configs,
selection helpers, and the configuration reference covering every field."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from exporter.config.loader import JVM_OBJECT_NAMES, load_config, parse_config
from exporter.config.model import Config, ConfigError, MetricType, Rule

TESTDATA = Path(__file__).parent / "testdata" / "config"
DOCS = Path(__file__).parent.parent / "docs" / "configuration.md"
ENV = {"PJE_TEST_EMPTY_PASSWORD": "  ", "PJE_TEST_USER": " monitor ", "PJE_TEST_PASSWORD": "s3cret"}

# One row per place that raises ConfigError; "{file}" stands for the path given to load_config.
INVALID = {
    # a secret that is not a string must not be echoed back in the message
    "invalid-password-number.yml":
        "{file}:1: password: expected a string, got a number (quote it; the value is not shown)",
    "invalid-not-utf8.yml": "{file}:2: not UTF-8 text (byte 19 is 0xff)",
    "invalid-control-character.yml":
        "{file}:2: invalid YAML: special characters are not allowed (character #x0007)",
    "invalid-yaml-syntax.yml":
        "{file}:4: invalid YAML: found unexpected end of stream (while scanning a quoted scalar that starts on line 2)",
    "invalid-empty.yml": "{file}: the file is empty (write '{}' to export every MBean in the default format)",
    "invalid-top-level-list.yml": "{file}:1: expected a mapping of configuration keys at the top level, got a list",
    "invalid-nonstring-key.yml": "{file}:2: keys must be strings, got the number 1",
    "invalid-duplicate-key.yml": "{file}:4: rules[0].name: key 'name' appears twice",
    "invalid-unknown-top-key.yml":
        "{file}:1: lowercaseOutputNames: unknown key 'lowercaseOutputNames' (did you mean 'lowercaseOutputName'?)",
    "invalid-unknown-top-key-case.yml": "{file}:1: Rules: unknown key 'Rules' (did you mean 'rules'?)",
    "invalid-boolean.yml": "{file}:1: lowercaseOutputName: expected true or false, got the string 'yes please'",
    "invalid-start-delay.yml":
        "{file}:1: startDelaySeconds: expected a whole number of seconds >= 0, got the number -5",
    "invalid-http-server.yml": "{file}:1: httpServer: expected a mapping, got the number 8080",
    "invalid-hostport-and-jmxurl.yml": "{file}:2: jmxUrl: give either hostPort or jmxUrl, not both",
    "invalid-hostport.yml": "{file}:1: hostPort: expected host:port, got a list",
    "invalid-jmxurl.yml": "{file}:1: jmxUrl: expected a string, got the number 9080 (quote it: '9080')",
    "invalid-env-empty-name.yml": "{file}:1: username: invalid environment variable name in '${ }'",
    "invalid-env-unset.yml": "{file}:1: password: environment variable 'PJE_TEST_UNSET_PASSWORD' is not set",
    "invalid-env-empty-value.yml": "{file}:1: password: environment variable 'PJE_TEST_EMPTY_PASSWORD' is empty",
    "invalid-ssl.yml": "{file}:1: ssl: expected true or false, got the string 'on'",
    "invalid-include-and-whitelist.yml":
        "{file}:2: whitelistObjectNames: give either includeObjectNames or whitelistObjectNames (its old name), "
        "not both",
    "invalid-include-empty.yml":
        "{file}:1: includeObjectNames: an empty list selects no MBean in jmx_exporter; leave the key out for every "
        "MBean",
    "invalid-include-not-list.yml":
        "{file}:1: includeObjectNames: expected a list of ObjectNames, got the string 'java.lang:*'",
    "invalid-include-objectname.yml":
        "{file}:3: includeObjectNames[1]: invalid ObjectName pattern 'java.lang.type=Memory': "
        "'java.lang.type=Memory' has no ':' between domain and key properties",
    "invalid-exclude-entry-not-string.yml": "{file}:2: excludeObjectNames[0]: expected a string, got a mapping",
    "invalid-attribute-map-objectname.yml":
        "{file}:2: excludeObjectNameAttributes[\"java.lang\"]: invalid ObjectName 'java.lang': 'java.lang' has no "
        "':' between domain and key properties",
    "invalid-attribute-map-not-list.yml":
        "{file}:2: includeObjectNameAttributes[\"java.lang:type=Memory\"]: expected a list of attribute names, "
        "got the string 'Verbose'",
    "invalid-rules-not-list.yml": "{file}:2: rules: expected a list of rules, got a mapping",
    "invalid-rule-not-mapping.yml":
        "{file}:2: rules[0]: expected a rule (a mapping with pattern, name, labels ...), got the string "
        "'java.lang<type=Memory>'",
    "invalid-rule-unknown-key.yml": "{file}:3: rules[1]: unknown key 'patern' (did you mean 'pattern'?)",
    "invalid-name-without-pattern.yml": "{file}:2: rules[0].name: a rule with a name needs a pattern",
    "invalid-name-not-string.yml": "{file}:3: rules[0].name: expected a string, got the number 42 (quote it: '42')",
    "invalid-labels-without-name.yml": "{file}:3: rules[0].labels: 'labels' needs a 'name' in the same rule",
    "invalid-help-without-name.yml": "{file}:3: rules[0].help: 'help' needs a 'name' in the same rule",
    "invalid-label-value-number.yml":
        "{file}:5: rules[0].labels.code: expected a string, got the number 200 (quote it: '200')",
    "invalid-value-without-pattern.yml": "{file}:2: rules[0].value: a rule with a value needs a pattern",
    "invalid-value-not-number.yml":
        "{file}:4: rules[0].value: expected a number or a string with group references, got the boolean yes",
    "invalid-value-not-number-string.yml":
        "{file}:4: rules[0].value: 'one' is not a number and refers to no group, so every match would be dropped",
    "invalid-value-list.yml":
        "{file}:4: rules[0].value: expected a number or a string with group references, got a list",
    "invalid-value-date.yml": "{file}:4: rules[0].value: expected a number, got '2024-01-01'",
    "invalid-pattern-empty.yml":
        "{file}:2: rules[0].pattern: the pattern is empty (leave 'pattern' out to match everything)",
    "invalid-pattern-list.yml": "{file}:2: rules[0].pattern: expected a regular expression, got a list",
    "invalid-pattern-regex.yml":
        "{file}:2: rules[0].pattern: invalid regular expression 'kafka.server<type=(.+), name=(.+><>Count': "
        "Unclosed group",
    "invalid-pattern-escape.yml":
        "{file}:2: rules[0].pattern: invalid regular expression '\\y<type=Memory>': Illegal/unsupported escape "
        "sequence at index 1",
    "invalid-pattern-repetition.yml":
        "{file}:2: rules[0].pattern: invalid regular expression 'x{a}': Illegal repetition at index 1",
    "invalid-name-group.yml":
        "{file}:3: rules[0].name: bad replacement 'jvm_$1_$3': no group 3 (the pattern has 2 capturing groups)",
    "invalid-name-named-group.yml":
        "{file}:3: rules[0].name: bad replacement 'jvm_${kind}': no group with name {kind} (the pattern's named "
        "groups: type)",
    "invalid-label-dollar.yml":
        "{file}:5: rules[0].labels.price: bad replacement '5$': illegal group reference: '$' at the end (write "
        "'\\$' for a dollar sign)",
    "invalid-help-escape.yml":
        "{file}:4: rules[0].help: bad replacement 'ends with \\': character to be escaped is missing (a trailing "
        "'\\')",
    "invalid-value-factor.yml": "{file}:4: rules[0].valueFactor: expected a number, got the string '1/1000'",
    "invalid-type.yml": "{file}:4: rules[0].type: type must be GAUGE, COUNTER or UNTYPED, not 'HISTOGRAM'",
    "invalid-type-lowercase.yml":
        "{file}:4: rules[0].type: type must be GAUGE, COUNTER or UNTYPED, not 'counter' (write it in upper case: "
        "COUNTER)",
    "invalid-cache.yml": "{file}:3: rules[0].cache: expected true or false, got the number 1",
}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_config_catalogue(name: str) -> None:
    path = TESTDATA / name
    with pytest.raises(ConfigError) as info:
        load_config(path, environ=ENV)
    assert str(info.value) == INVALID[name].replace("{file}", str(path))


def test_catalogue_and_table_list_the_same_files() -> None:
    assert sorted(p.name for p in TESTDATA.glob("invalid-*.yml")) == sorted(INVALID)


def test_unreadable_file() -> None:
    missing = TESTDATA / "no-such-file.yml"
    with pytest.raises(ConfigError) as info:
        load_config(missing)
    assert str(info.value) == f"{missing}: cannot read the file: No such file or directory"


def test_error_carries_its_parts() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config("rules:\n- patern: x\n", "r.yml")
    assert (info.value.source, info.value.line, info.value.path) == ("r.yml", 2, "rules[0]")
    assert info.value.message == "unknown key 'patern' (did you mean 'pattern'?)"


def test_a_full_valid_config() -> None:
    config = parse_config(
        r"""
hostPort: coordinator:9080
username: ${PJE_TEST_USER}
password: '${PJE_TEST_PASSWORD}'
ssl: true
lowercaseOutputName: true
lowercaseOutputLabelNames: true
inferCounterTypeFromName: true
whitelistObjectNames: ['trino.execution:name=QueryManager', 'java.lang:type=Memory']
blacklistObjectNames: ['java.lang:type=Memory']
excludeJvmMetrics: true
includeObjectNameAttributes:
  'trino.execution:name=QueryManager': [RunningQueries, QueuedQueries]
excludeObjectNameAttributes:
  'trino.execution:name=QueryManager': [QueuedQueries]
rules:
- pattern: 'trino.execution<name=QueryManager><>(\w+)Queries: (\d+)'
  name: trino_queries_$1
  value: $2
  valueFactor: '2'
  labels: {state: $1}
  help: Queries in state $1
  type: GAUGE
  attrNameSnakeCase: true
  cache: false
- pattern: '.*'
  valueFactor: 0.5
  type: UNKNOWN
""",
        "r.yml",
        environ=ENV,
    )
    assert config.jmx_url == "service:jmx:rmi:///jndi/rmi://coordinator:9080/jmxrmi"
    assert (config.username, config.password, config.ssl) == ("monitor", "s3cret", True)
    assert "s3cret" not in repr(config)
    assert (config.lowercase_output_name, config.lowercase_output_label_names) == (True, True)
    assert config.infer_counter_type_from_name and config.exclude_jvm_metrics
    assert [p.text for p in config.include_object_names] == ["trino.execution:name=QueryManager",
                                                             "java.lang:type=Memory"]
    assert [p.text for p in config.exclude_object_names] == ["java.lang:type=Memory", *JVM_OBJECT_NAMES]
    assert config.include_object_name_attributes == (
        ("trino.execution:name=QueryManager", ("RunningQueries", "QueuedQueries")),
    )
    assert config.warnings == ()
    assert not config.implicit_default_rule
    first, second = config.rules
    assert (first.index, first.line, first.name, first.value, first.value_factor) == (0, 17, "trino_queries_$1",
                                                                                      "$2", 2.0)
    assert (first.labels, first.help, first.type) == ((("state", "$1"),), "Queries in state $1", MetricType.GAUGE)
    assert first.attr_name_snake_case and not first.cache
    assert first.regex is not None and first.regex.fullmatch("trino.execution<name=QueryManager><>RunningQueries: 3")
    assert (second.name, second.value_factor, second.type) == (None, 0.5, MetricType.UNTYPED)


def test_defaults_and_the_implicit_rule() -> None:
    config = parse_config("{}", "r.yml")
    assert config.implicit_default_rule
    assert config.rules == (Rule(index=0),)
    assert (config.jmx_url, config.username, config.password, config.ssl) == ("", "", "", False)
    assert config.include_object_names == () and config.exclude_object_names == ()
    assert parse_config("rules: []", "r.yml").rules == ()


def test_jmx_url_and_literal_values() -> None:
    config = parse_config("jmxUrl: service:jmx:rmi:///jndi/rmi://h:1/jmxrmi\nusername: '${}'\npassword: plain",
                          "r.yml", environ={})
    assert (config.jmx_url, config.username, config.password) == ("service:jmx:rmi:///jndi/rmi://h:1/jmxrmi", "${}",
                                                                  "plain")


def test_values_written_as_yaml_numbers() -> None:
    rules = parse_config("rules: [{pattern: a, name: a, value: 1.5}, {pattern: b, name: b, value: 2}, "
                         "{pattern: c, name: c, value: ''}, {pattern: 7, name: d}]", "r.yml").rules
    assert [r.value for r in rules] == ["1.5", "2", None, None]
    assert rules[3].pattern == "7"


def test_labels_are_sorted_by_name() -> None:
    (rule,) = parse_config("rules: [{pattern: '(a)', name: a, labels: {z: '1', a: '2', m: $1}}]", "r.yml").rules
    assert rule.labels == (("a", "2"), ("m", "$1"), ("z", "1"))


def test_keys_known_to_jmx_exporter_but_unused_are_warnings() -> None:
    config = parse_config(
        """
startDelaySeconds: 5
autoExcludeObjectNameAttributes: false
httpServer: {authentication: {basic: {username: u}}}
openTelemetry: {endpoint: 'http://x'}
metricCustomizers: [{mbeanFilter: {domain: a}, attributesAsLabels: [b]}]
ssl: {keyStore: x}
includeObjectNameAttributes:
  'java.lang:type=Memory,*': [Verbose]
""",
        "r.yml",
    )
    assert config.warnings == (
        "r.yml:2: startDelaySeconds: jmx_exporter's 'startDelaySeconds' is accepted but not used: this exporter "
        "serves metrics as soon as it starts",
        "r.yml:3: autoExcludeObjectNameAttributes: jmx_exporter's 'autoExcludeObjectNameAttributes' is accepted "
        "but has no effect here (it only saves JMX reads in jmx_exporter)",
        "r.yml:4: httpServer: jmx_exporter's 'httpServer' is not used: configure the listener on the command line",
        "r.yml:5: openTelemetry: jmx_exporter's 'openTelemetry' is not supported; the section is ignored",
        "r.yml:6: metricCustomizers: jmx_exporter's 'metricCustomizers' (attributesAsLabels, extraMetrics) is not "
        "supported; the section is ignored",
        "r.yml:7: ssl: the map form of ssl (key and trust stores) is not supported; using ssl: true",
        "r.yml:9: includeObjectNameAttributes[\"java.lang:type=Memory,*\"]: is a pattern, but jmx_exporter "
        "compares these names exactly, so it matches no MBean",
    )
    assert config.ssl and not config.auto_exclude_object_name_attributes and config.start_delay_seconds == 5


def test_selects_bean() -> None:
    config = parse_config("includeObjectNames: ['java.lang:*', 'trino.memory:type=ClusterMemoryPool,*']\n"
                          "excludeObjectNames: ['java.lang:type=Threading']", "r.yml")
    assert config.selects_bean("java.lang", (("type", "Memory"),))
    assert not config.selects_bean("java.lang", (("type", "Threading"),))
    assert config.selects_bean("trino.memory", (("type", "ClusterMemoryPool"), ("name", "general")))
    assert not config.selects_bean("trino.memory", (("name", "general"),))
    assert parse_config("{}", "r.yml").selects_bean("any", (("a", "b"),))


def test_selects_attribute_ignores_key_order() -> None:
    config = parse_config("includeObjectNameAttributes: {'a:name=x,type=T': [A, B]}\n"
                          "excludeObjectNameAttributes: {'a:type=T,name=x': [B]}", "r.yml")
    assert config.selects_attribute("a:type=T,name=x", "A")
    assert not config.selects_attribute("a:type=T,name=x", "B")
    assert not config.selects_attribute("a:type=T,name=y", "A")  # not listed while an include map exists
    assert config.attribute_filter("a", (("type", "T"), ("name", "x"))) == (frozenset({"A", "B"}), frozenset({"B"}))
    assert parse_config("{}", "r.yml").selects_attribute("a:type=T", "A")


def test_literal_object_names() -> None:
    literal = parse_config("includeObjectNames: ['a:type=T', 'b:name=x,type=Y']", "r.yml")
    assert literal.literal_object_names() == ("a:type=T", "b:name=x,type=Y")
    assert parse_config("includeObjectNames: ['a:type=T', 'b:*']", "r.yml").literal_object_names() is None
    assert parse_config("includeObjectNames: ['a:type=T*']", "r.yml").literal_object_names() is None
    assert parse_config("{}", "r.yml").literal_object_names() is None


def test_merge_keys_and_anchors_work() -> None:
    config = parse_config(
        "rules:\n- &base {pattern: 'a(b)', name: x_$1, type: COUNTER}\n- <<: *base\n  name: y_$1\n", "r.yml"
    )
    assert [(r.name, r.type) for r in config.rules] == [("x_$1", MetricType.COUNTER), ("y_$1", MetricType.COUNTER)]


def test_every_config_and_rule_field_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_]+)`", text))
    for cls in (Config, Rule):
        missing = [f.name for f in dataclasses.fields(cls) if not f.name.startswith("_") and f.name not in documented]
        assert not missing, f"{cls.__name__} fields missing from docs/configuration.md: {missing}"
    yaml_keys = set(re.findall(r"`([A-Za-z]+)`", text))
    for key in ("hostPort", "jmxUrl", "whitelistObjectNames", "attrNameSnakeCase", "valueFactor", "metricCustomizers",
                "httpServer", "openTelemetry", "autoExcludeObjectNameAttributes", "startDelaySeconds"):
        assert key in yaml_keys, key
