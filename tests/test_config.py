"""Configuration loading: the catalogue of bad configs (one file per error, exact message), valid configs,
selection helpers, and the configuration reference covering every field."""

from __future__ import annotations

import dataclasses
import datetime
import re
import textwrap
from pathlib import Path

import pytest
import yaml

from exporter.config.loader import JVM_OBJECT_NAMES, load_config, parse_config
from exporter.config.model import Config, ConfigError, MetricType, Rule
from exporter.config.yamlnodes import JavaYamlLoader, java_string
from tests.helpers.config_catalogue import ENV, INVALID, TESTDATA, WARNED

DOCS = Path(__file__).parent.parent / "docs" / "configuration.md"


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_config_catalogue(name: str) -> None:
    path = TESTDATA / name
    with pytest.raises(ConfigError) as info:
        load_config(path, environ=ENV)
    assert str(info.value) == INVALID[name].replace("{file}", str(path))


@pytest.mark.parametrize("name", sorted(WARNED))
def test_warned_config_catalogue(name: str) -> None:
    # jmx_exporter 1.6 loads each of these files: so does this exporter, saying what the file means there.
    path = TESTDATA / name
    config = load_config(path, environ=ENV)
    assert config.warnings == tuple(w.replace("{file}", str(path)) for w in WARNED[name])


def test_catalogue_and_table_list_the_same_files() -> None:
    assert sorted(p.name for p in TESTDATA.glob("invalid-*.yml")) == sorted(INVALID)
    assert sorted(p.name for p in TESTDATA.glob("warn-*.yml")) == sorted(WARNED)
    assert sorted(p.name for p in TESTDATA.iterdir()) == sorted([*INVALID, *WARNED])


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
    assert config.warnings == (
        "r.yml:9: whitelistObjectNames[1]: 'java.lang:type=Memory' selects JVM beans, which excludeJvmMetrics: true "
        "excludes: they export nothing, as in jmx_exporter 1.6 (its next release exports JVM beans an include "
        "pattern names)",
    )
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
ssl: {enabled: true, keyStore: {filename: /ks.jks}}
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
        "r.yml:6: ssl.keyStore: is not read here: give the embedded JVM -Djavax.net.ssl.keyStore=<file> (and "
        "-Djavax.net.ssl.keyStorePassword, -Djavax.net.ssl.keyStoreType) with --jvm-option",
        "r.yml:8: includeObjectNameAttributes[\"java.lang:type=Memory,*\"]: is a pattern, but jmx_exporter "
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


def test_each_rule_keeps_its_own_full_line_comments() -> None:
    config = parse_config(textwrap.dedent("""\
        rules:
          # a section heading at the list's indentation: no rule's
          - pattern: 'a<b=c><>X:'
            # first
            name: x
            help: |
              # text of the help, not a comment
              more
            # after the last key, still this rule's
          # the next section
          - pattern: 'b<c=d><>Y:'  # a trailing comment is not kept
            #   second, trimmed
            name: y
        lowercaseOutputName: false
        # after the list
        """), "r.yml")
    assert [rule.comments for rule in config.rules] == [
        ((4, "first"), (9, "after the last key, still this rule's")),
        ((12, "second, trimmed"),),
    ]
    assert config.rules[0].help == "# text of the help, not a comment\nmore\n"
    assert config.rules[1].pattern == "b<c=d><>Y:"
    assert dataclasses.replace(config.rules[0], comments=()) == config.rules[0]  # a comment changes no rule


def test_every_config_and_rule_field_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_]+)`", text))
    for cls in (Config, Rule):
        missing = [f.name for f in dataclasses.fields(cls) if not f.name.startswith("_") and f.name not in documented]
        assert not missing, f"{cls.__name__} fields missing from docs/configuration.md: {missing}"


# Every key jmx_exporter's collector reads (JmxCollector.loadConfig and ObjectNameAttributeFilter at 1.6.0, and
# scrapeTimeoutSeconds of its main branch), with the sections its agent and standalone server read.
JMX_EXPORTER_KEYS = (
    "startDelaySeconds", "scrapeTimeoutSeconds", "hostPort", "jmxUrl", "username", "password",
    "ssl", "ssl.enabled", "ssl.keyStore", "ssl.trustStore", "ssl.keyStore.filename", "ssl.keyStore.type",
    "ssl.keyStore.password", "ssl.protocols", "ssl.ciphers",
    "lowercaseOutputName", "lowercaseOutputLabelNames", "inferCounterTypeFromName",
    "includeObjectNames", "whitelistObjectNames", "excludeObjectNames", "blacklistObjectNames", "excludeJvmMetrics",
    "metricCustomizers", "mbeanFilter", "mbeanFilter.domain", "mbeanFilter.properties", "attributesAsLabels",
    "extraMetrics", "extraMetrics.name", "extraMetrics.value", "extraMetrics.description",
    "rules", "pattern", "name", "value", "valueFactor", "attrNameSnakeCase", "cache", "type", "help", "labels",
    "includeObjectNameAttributes", "excludeObjectNameAttributes", "autoExcludeObjectNameAttributes",
    "httpServer", "openTelemetry",
)  # fmt: skip


@pytest.mark.parametrize("key", JMX_EXPORTER_KEYS)
def test_every_jmx_exporter_key_has_a_status_in_the_reference(key: str) -> None:
    rows = [line for line in DOCS.read_text(encoding="utf-8").splitlines() if line.startswith(f"| `{key}` |")]
    assert len(rows) == 1, f"docs/configuration.md has {len(rows)} rows for {key}"
    status = rows[0].rstrip(" |").rsplit(" | ", 1)[-1]
    assert status.startswith(("supported", "accepted and ignored", "refused")), status


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1e3", 1000.0),  # SnakeYAML (jmx_exporter's reader) takes a float without a dot or an exponent sign
        ("1.5e3", 1500.0),
        ("-.5", -0.5),
        ("1.5e+3", 1500.0),
        ("123", 123),
        ("0x1F", 31),
        ("1_000", 1000),
        ("e3", "e3"),
        ("1e", "1e"),
        ("yes", True),
        ("Off", False),
        ("~", None),
    ],
)
def test_yaml_scalars_are_read_as_snakeyaml_reads_them(text: str, value: object) -> None:
    assert yaml.load(text, Loader=JavaYamlLoader) == value


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (True, "true"),
        (7, "7"),
        (1.5, "1.5"),
        (1e10, "1.0E10"),
        ([1, "a", {"b": 2.0}], "[1, a, {b=2.0}]"),
        (datetime.date(2024, 1, 1), "Mon Jan 01 00:00:00 UTC 2024"),
        (datetime.datetime(2024, 3, 5, 6, 7, 8, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
         "Tue Mar 05 04:07:08 UTC 2024"),
    ],
)
def test_java_string_is_string_value_of(value: object, text: str) -> None:
    assert java_string(value) == text


def test_labels_merged_from_an_anchor_are_not_duplicates() -> None:
    config = parse_config("rules:\n- pattern: '(a)'\n  name: x\n  labels:\n    <<: {kind: base, z: '1'}\n"
                          "    kind: own\n", "r.yml")
    assert config.rules[0].labels == (("kind", "own"), ("z", "1"))
    assert config.warnings == ()


@pytest.mark.parametrize(
    ("text", "ssl"),
    [
        # jmx_exporter's testSslAsMapWithKeyStore, testSslMapEnabledFalse and testSslAsBoolean: all load
        ("ssl:\n  enabled: true\n  keyStore:\n    filename: /path/to/keystore\n    type: JKS\n    password: changeit\n"
         "  trustStore:\n    filename: /path/to/truststore\n    type: JKS\n    password: changeit\n"
         '  protocols: "TLSv1.2, TLSv1.3"\n  ciphers: "AES256, AES128"', True),
        ("ssl:\n  enabled: false", False),
        ("ssl: true", True),
        ("ssl:\n  enabled: true\n  protocols: [TLSv1.2, TLSv1.3]", True),  # the list form of its next release
    ],
)
def test_the_ssl_forms_jmx_exporter_loads(text: str, ssl: bool) -> None:
    config = parse_config("---\n" + text, "r.yml")
    assert config.ssl is ssl
    assert "changeit" not in repr(config) and all("changeit" not in w for w in config.warnings)


def test_passthrough_names_split_into_exact_names_and_patterns() -> None:
    config = parse_config(textwrap.dedent("""\
        passthrough:
          names:
            - trino_execution_name_QueryManager_RunningQueries
            - trino_memory_type_ClusterMemoryPool_*
            - trino_execution_name_QueryManager_ExecutionTime
            - trino_execution_name_QueryManager_RunningQueries
        """), "p.yml")
    passthrough = config.passthrough
    assert passthrough is not None and not config.warnings
    assert passthrough.names == ("trino_execution_name_QueryManager_RunningQueries",
                                 "trino_execution_name_QueryManager_ExecutionTime")
    assert passthrough.patterns == ("trino_memory_type_ClusterMemoryPool_*",)
    assert passthrough.selects("trino_memory_type_ClusterMemoryPool_name_general_FreeDistributedBytes")
    assert passthrough.selects("trino_execution_name_QueryManager_ExecutionTime_FiveMinutes")  # a part of a name
    assert not passthrough.selects("trino_execution_name_QueryManager_RunningQueriesX")
    assert not passthrough.selects("xtrino_memory_type_ClusterMemoryPool_y")  # a pattern matches the whole name
    assert parse_config("rules: []\n", "r.yml").passthrough is None
    assert parse_config("passthrough: {names: ['*']}\n", "a.yml").passthrough.selects("anything")  # type: ignore[union-attr]
