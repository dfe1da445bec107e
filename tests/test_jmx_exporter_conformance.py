"""jmx_exporter 1.6.0's own tests, row by row: each row names the Java test it comes from, its configuration, the
MBeans that test registers (as source-neutral records) and the series the Java test expects (name, labels, value and,
where it asserts one, the type), plus the series it expects to be absent.

The Java tests look samples up one by one in client_java's registry (metric name without ``_total``, exact label set),
so a row lists what the Java test asserts, not the whole output. Rows run in two modes:

- ``records``: the records as a JMX source gives them (TabularData index columns known);
- ``dump``: the same records written as airlift ``/v1/jmx/mbean`` JSON and read back by DumpSource, which is what the
  REST source reads too. A row that needs TabularData index columns the JSON cannot mark is records-only, and says so
  (docs/configuration.md: "over REST the index columns of TabularData are not marked");
- ``jvm``: the integration files about platform beans, scraped over JMX and over REST from a fixture coordinator's
  real JVM (the collector tests' own MBeans are not fixture beans: their rows run in the two modes above), and
  JmxScraperTest's badly answering MBeanServer, served over JMX by a JVM of its own.

Java tests with nothing to compare here have no rows:

- MatchedRuleTest: constructors, withValue, equals/hashCode and toString of a Java value class (a verdict here is
  never an object a user meets: the rows show what it makes);
- MatchedRulesCacheTest: CacheKey's equals/hashCode, null handling and defensive copies, null keys, and the
  staleness tracker's markAsFresh/isFresh and double marking (keys here are immutable tuples, built afresh); which
  record a cached verdict belongs to, and how long it is kept, have rows;
- LoggerFactoryTest and logger/* (LevelTest, LoggerFormatterTest, LoggerTest): jmx_exporter's own logging classes
  (this exporter logs through Python's logging);
- DuplicateLabelsTest: client_java's snapshot builder refusing two samples with one label set (the converter rows
  show the ``_objectname`` label that keeps such samples apart, there and here);
- MatchedRuleToMetricSnapshotsConverterTest's tests that hand the converter MatchedRules made by hand (match names
  without a ``:`` or starting with one, an empty or a one-rule list), its constructor and its trace logging: every
  match string the engine builds ends in ``: value``;
- ObjectNameAttributeFilterTest's dynamic exclusions (add, onlyKeepMBeans; ``autoExcludeObjectNameAttributes`` is
  accepted and ignored) and its looks at the filter's internal maps; what the configured filters select has rows;
- JmxMBeanPropertyCacheTest's cache-eviction tests (names are parsed with each bean list, nothing is kept), and
  testAsteriskInValue and testQuestionMarkInValue: the key properties of a pattern ObjectName, which no registered
  bean has (parsing refuses a wildcard in a bean's name);
- JmxCollectorTest's tests commented out at 1.6.0 (testHelpFromPattern, stopsOnFirstMatchingRule,
  testDuplicateSamples, testValueStatic, testValueFactorEmpty, testValueFactor and the three testCachedBeans*);
- VariableResolverExceptionTest and VariableResolverTest.PrivateConstructorTests: a Java exception class and a
  private constructor (a variable that cannot be resolved is a ConfigError, see the resolver rows);
- JmxCollectorConstructorTest: ModeValidationTests' agent-mode refusals of hostPort and jmxUrl (no exporter runs
  inside the target's JVM), ModeEnumTests and RegisterTests (client_java's default registry);
- JmxScraperTest: CallSafelyTests and SslFactoryCreationTests (the TLS socket factory is the JDK's, made per
  connection), SslPropertiesTests.sslPropertiesWithEmptyCollections (the ``ssl`` map's protocols and ciphers are
  accepted and ignored) and MainMethodTests (the scraper's own command line, which lists a JVM's beans: ``explain``
  and ``capture`` do that here).

The MBeans are jmx_exporter's test MBeans (collector/src/test/java/io/prometheus/jmx/*MBean.java), with the values
their getters return; java.lang:type=OperatingSystem stands for the platform beans the Java tests only look for.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from exporter import __version__
from exporter.cli import main
from exporter.config.javaregex import compile_java
from exporter.config.loader import load_config, parse_config
from exporter.config.model import Config, ConfigError, MetricType
from exporter.output.families import build_families
from exporter.records.mbeans import MBean, Unsupported
from exporter.records.objectname import parse_object_name
from exporter.rules.engine import RuleEngine
from exporter.rules.naming import safe_name, snake_case
from exporter.scrape.watcher import ConfigWatcher
from exporter.sources.base import BeanRequest
from exporter.sources.dump import DumpSource
from exporter.sources.jmx.settings import JmxClientSettings
from exporter.sources.jmx.source import reloaded_settings
from exporter.tooling.dumpwriter import write_dump
from tests.conftest import require_jvm
from tests.helpers.jmx_child import run_helper
from tests.helpers.rulecase import attr, bean, composite, config, exposed, tabular
from tests.helpers.serving import parse

GAUGE, COUNTER, UNKNOWN = MetricType.GAUGE, MetricType.COUNTER, MetricType.UNTYPED
TABULAR = "javax.management.openmbean.TabularData"

# --- jmx_exporter's test MBeans (TestMBeanRegistry.registerTestMBeans) -------------------------------------------
OPERATING_SYSTEM = bean("java.lang:type=OperatingSystem", attr("ProcessCpuTime", 1_230_000_000, "long"))
CASSANDRA = bean("org.apache.cassandra.concurrent:type=CONSISTENCY-MANAGER", attr("ActiveCount", 100, "int"))
CASSANDRA_METRICS = bean("org.apache.cassandra.metrics:type=Compaction,name=CompletedTasks",
                         attr("Value", 0.20000000298023224, "float"))  # 0.2f
HADOOP = bean("hadoop:service=DataNode,name=DataNodeActivity-ams-hdd001-50010",
              attr("replaceBlockOpMinTime", 200, "int"))
# An MXBean's Map<String, Map<String, Long>>: TabularData (key, value) whose value is TabularData (key, value).
HADOOP_DATA_NODE = bean("Hadoop:name=DataNodeInfo,service=DataNode", attr("DatanodeNetworkCounts", tabular(
    [{"key": "1.2.3.4", "value": tabular([{"key": "networkErrors", "value": 338}], index=("key",))}],
    index=("key",)), TABULAR))  # fmt: skip
NOW_MS = 1_700_000_000_000
# An MXBean's Map<QueryKey, RunningQuery>: the index column "key" is CompositeData (id, path).
EXIST_DB = bean("org.exist.management.exist:type=ProcessReport", attr("RunningQueries", tabular([
    {"key": composite(id=n, path=f"/db/query{n}.xq"),
     "value": composite(elapsedTime=0, id=n, path=f"/db/query{n}.xq", startedAtTime=NOW_MS)} for n in (1, 2)
], index=("key",)), TABULAR))  # fmt: skip
BEAN_WITH_ENUM = bean("org.bean.enum:type=StateMetrics", attr("State", "RUNNING", "io.prometheus.jmx.State"))
TOMCAT_SERVLET = bean("Catalina:j2eeType=Servlet,WebModule=//localhost/host-manager,name=HTMLHostManager,"
                      "J2EEApplication=none,J2EEServer=none", attr("RequestCount", 1, "int"))
BOOL = bean("boolean:Type=Test", attr("True", True, "boolean"), attr("False", False, "boolean"))
CAMEL = bean('org.apache.camel:context=my-camel-context,type=routes,name="my-route-name"',
             attr("LastExchangeFailureTimestamp", 1.573285945111e9, "java.util.Date"))
PERFORMANCE_METRICS = bean("io.prometheus.jmx.test:name=PerformanceMetricsMBean", attr(
    "PerformanceMetrics", composite(ActiveSessions=2, Bootstraps=4, BootstrapsDeferred=6),
    "javax.management.openmbean.CompositeData"))  # fmt: skip
CUSTOM_VALUE = bean("io.prometheus.jmx:type=customValue", attr("Value", 345, "java.lang.Integer"),
                    attr("Text", "value", "java.lang.String"))
STRING_VALUE = bean("io.prometheus.jmx:type=stringValue", attr("Text", "value", "java.lang.String"))
KAFKA_CLIENT = bean("kafka.consumer:type=consumer-node-metrics,client-id=my-app-consumer,node-id=node-1",
                    attr("request-rate", 2, "double"), attr("request-total", 123, "double"))  # a DynamicMBean
TOTAL_VALUES = [bean(f"io.prometheus.jmx.test:type=Total{sep}Value", attr("Total", 345, "int")) for sep in "-."]
DATE_VALUE = bean("io.prometheus.jmx.test:type=dateValue", attr("Timestamp", 1.7e9, "java.util.Date"))
NULL_VALUE = bean("io.prometheus.jmx.test:type=nullValue", attr("NullValue", None, "java.lang.Object"))
ARRAY_VALUE = bean("io.prometheus.jmx.test:type=arrayValue", attr("Scores", Unsupported("array"), "[I"))
# Optional<Integer> getters: the JMX source unwraps Optional as jmx_exporter does (empty: no value).
OPTIONAL_VALUE = bean("io.prometheus.jmx.test:type=optionalValue", attr("OptionalPresent", 42, "java.util.Optional"),
                      attr("OptionalEmpty", None, "java.util.Optional"))
UNSUPPORTED_TYPE = bean("io.prometheus.jmx.test:type=unsupportedType",
                        attr("Location", Unsupported("java.awt.Point"), "java.awt.Point"))
COLLECTOR_BEANS = [OPERATING_SYSTEM, CASSANDRA, CASSANDRA_METRICS, HADOOP, HADOOP_DATA_NODE, EXIST_DB, BEAN_WITH_ENUM,
                   TOMCAT_SERVLET, BOOL, CAMEL, PERFORMANCE_METRICS, CUSTOM_VALUE, STRING_VALUE, KAFKA_CLIENT,
                   *TOTAL_VALUES, DATE_VALUE, NULL_VALUE, ARRAY_VALUE, OPTIONAL_VALUE, UNSUPPORTED_TYPE]

Series = tuple[str, dict[str, str]]
HADOOP_RULE = ("rules:\n- pattern: '^hadoop<service=DataNode, name=DataNodeActivity-ams-hdd001-50010>"
               "<>replaceBlockOpMinTime:'")
CPU: Series = ("java_lang_OperatingSystem_ProcessCpuTime", {})
CASSANDRA_ACTIVE: Series = ("org_apache_cassandra_concurrent_CONSISTENCY_MANAGER_ActiveCount", {})
COMPACTION: Series = ("org_apache_cassandra_metrics_Compaction_Value", {"name": "CompletedTasks"})
HADOOP_DEFAULT: Series = ("hadoop_DataNode_replaceBlockOpMinTime", {"name": "DataNodeActivity-ams-hdd001-50010"})
KAFKA_LABELS = {"client_id": "my-app-consumer", "node_id": "node-1"}
KAFKA_RULES = """
rules:
- pattern: 'kafka.consumer<type=.+, client-id=(.+), node-id=(.+)><>(.+):'
  name: kafka_consumer_$3
  labels:
    client_id: $1
    node_id: $2
"""


@dataclass(frozen=True)
class Expect:
    """One sample the Java test looks up: a value (None: present, any value), how close, and a type if asserted."""

    name: str
    labels: dict[str, str]
    value: float | None
    within: float = 0.001
    type: MetricType | None = None


@dataclass(frozen=True)
class Row:
    java: str  # the jmx_exporter test, Class.method
    config: str
    present: list[Expect] = field(default_factory=list)
    absent: list[Series] = field(default_factory=list)
    beans: list[MBean] = field(default_factory=lambda: COLLECTOR_BEANS)
    records_only: str = ""  # why the row cannot run over the dump (REST) form
    scrape_error: bool = False  # the Java test expects jmx_scrape_error 1


def has(series: Series, value: float | None = None, within: float = 0.001, type: MetricType | None = None) -> Expect:
    return Expect(series[0], series[1], value, within, type)


ROWS = [
    # --- JmxCollectorTest ----------------------------------------------------------------------------------------
    Row("JmxCollectorTest.testNameIsReplacedOnMatch", HADOOP_RULE + "\n  name: foo", [has(("foo", {}), 200)]),
    Row("JmxCollectorTest.testSnakeCaseAttrName",
        HADOOP_RULE.replace("replaceBlockOpMinTime", "replace_block_op_min_time") + "\n  name: foo\n"
        "  attrNameSnakeCase: true", [has(("foo", {}), 200)]),
    Row("JmxCollectorTest.testLabelsAreSet", HADOOP_RULE + "\n  name: foo\n  labels:\n    l: v",
        [has(("foo", {"l": "v"}), 200)]),
    Row("JmxCollectorTest.testEmptyLabelsAreIgnored", HADOOP_RULE + "\n  name: foo\n  labels:\n    '': v\n    l: ''",
        [has(("foo", {}), 200)]),
    Row("JmxCollectorTest.testLowercaseOutputName", "lowercaseOutputName: true\n" + HADOOP_RULE + "\n  name: Foo",
        [has(("foo", {}), 200)]),
    Row("JmxCollectorTest.testLowercaseOutputLabelNames",
        "lowercaseOutputLabelNames: true\n" + HADOOP_RULE + "\n  name: Foo\n  labels:\n    ABC: DEF",
        [has(("Foo", {"abc": "DEF"}), 200)]),
    Row("JmxCollectorTest.testNameAndLabelsFromPattern",
        "rules:\n- pattern: '^hadoop<(service)=(DataNode), name=DataNodeActivity-ams-hdd001-50010><>"
        "(replaceBlockOpMinTime):'\n  name: hadoop_$3\n  labels:\n    '$1': '$2'",
        [has(("hadoop_replaceBlockOpMinTime", {"service": "DataNode"}), 200)]),
    Row("JmxCollectorTest.testNameAndLabelSanitized",
        "rules:\n- pattern: '^(hadoop<service=DataNode, )name=DataNodeActivity-ams-hdd001-50010><>"
        "replaceBlockOpMinTime:'\n  name: '$1'\n  labels:\n    '$1': '$1'",
        [has(("hadoop_service_DataNode_", {"hadoop_service_DataNode_": "hadoop<service=DataNode, "}), 200)]),
    Row("JmxCollectorTest.testMetricCustomizers", """
includeObjectNames: ["io.prometheus.jmx:type=customValue"]
metricCustomizers:
   - mbeanFilter:
        domain: io.prometheus.jmx
        properties:
           type: customValue
     attributesAsLabels:
        - Text
""", [has(("io_prometheus_jmx_customValue_Value", {"Text": "value"}), 345)]),
    Row("JmxCollectorTest.testMetricCustomizersExtraMetrics", """
includeObjectNames: ["io.prometheus.jmx:type=stringValue"]
metricCustomizers:
   - mbeanFilter:
        domain: io.prometheus.jmx
        properties:
           type: stringValue
     extraMetrics:
        - name: isActive
          value: true
          description: This is a boolean value indicating if the scenario is still active or is completed.
""", [has(("io_prometheus_jmx_stringValue_isActive", {}), 1.0)]),
    Row("JmxCollectorTest.testMetricCustomizersAttributesAsLabelsExtraMetrics", """
includeObjectNames: ["io.prometheus.jmx:type=stringValue"]
metricCustomizers:
   - mbeanFilter:
        domain: io.prometheus.jmx
        properties:
           type: stringValue
     attributesAsLabels:
        - Text
     extraMetrics:
        - name: isActive
          value: true
          description: This is a boolean value indicating if the scenario is still active or is completed.
""", [has(("io_prometheus_jmx_stringValue_isActive", {"Text": "value"}), 1.0)]),
    Row("JmxCollectorTest.stopsOnEmptyName", "rules:\n- pattern: '.*'\n  name: ''\n- pattern: '.*'\n  name: foo",
        absent=[("foo", {})]),
    Row("JmxCollectorTest.defaultExportTest", "---",
        [has(CPU), has(CASSANDRA_ACTIVE, 100), has(COMPACTION, 0.2), has(HADOOP_DEFAULT, 200)]),
    Row("JmxCollectorTest.nestedTabularDataTest", "---",
        [has(("Hadoop_DataNodeInfo_DatanodeNetworkCounts",
              {"service": "DataNode", "key": "1.2.3.4", "key_": "networkErrors"}), 338)]),
    Row("JmxCollectorTest.tabularDataCompositeKeyTest", "---",
        [has(("org_exist_management_exist_ProcessReport_RunningQueries_id",
              {"key_id": str(n), "key_path": f"/db/query{n}.xq"}), n) for n in (1, 2)],
        records_only="the index column is CompositeData: airlift's JSON does not mark it and a guess takes only "
        "string columns"),
    Row("JmxCollectorTest.testIncludeObjectNames",
        "includeObjectNames:\n- java.lang:*\n- java.lang:*\n- org.apache.cassandra.concurrent:*",
        [has(CPU), has(CASSANDRA_ACTIVE)], [COMPACTION, HADOOP_DEFAULT]),
    Row("JmxCollectorTest.testWhitelist",
        "whitelistObjectNames:\n- java.lang:*\n- java.lang:*\n- org.apache.cassandra.concurrent:*",
        [has(CPU), has(CASSANDRA_ACTIVE)], [COMPACTION, HADOOP_DEFAULT]),
    Row("JmxCollectorTest.testExcludeObjectNames",
        "includeObjectNames:\n- java.lang:*\n- org.apache.cassandra.concurrent:*\n"
        "excludeObjectNames:\n- org.apache.cassandra.concurrent:*",
        [has(CPU)], [CASSANDRA_ACTIVE, COMPACTION, HADOOP_DEFAULT]),
    Row("JmxCollectorTest.testBlacklist",
        "whitelistObjectNames:\n- java.lang:*\n- org.apache.cassandra.concurrent:*\n"
        "blacklistObjectNames:\n- org.apache.cassandra.concurrent:*",
        [has(CPU)], [CASSANDRA_ACTIVE, COMPACTION, HADOOP_DEFAULT]),
    Row("JmxCollectorTest.testDefaultExportLowercaseOutputName", "lowercaseOutputName: true",
        [has(("java_lang_operatingsystem_processcputime", {}))]),
    Row("JmxCollectorTest.testServletRequestPattern", """
rules:
- pattern: 'Catalina<j2eeType=Servlet, WebModule=//([-a-zA-Z0-9+&@#/%?=~_|!:.,;]*[-a-zA-Z0-9+&@#/%=~_|]),
    name=([-a-zA-Z0-9+/$%~_-|!.]*), J2EEApplication=none, \nJ2EEServer=none><>RequestCount:'
  name: tomcat_request_servlet_count
  labels:
    module: "$1"
    servlet: "$2"
  help: Tomcat servlet request count
  type: COUNTER
  attrNameSnakeCase: false
""", [has(("tomcat_request_servlet_count", {"module": "localhost/host-manager", "servlet": "HTMLHostManager"}),
          1.0, type=COUNTER)]),
    Row("JmxCollectorTest.testBooleanValues", "---",
        [has(("boolean_Test_True", {}), 1.0), has(("boolean_Test_False", {}), 0.0)]),
    Row("JmxCollectorTest.testValueEmpty", "rules:\n- pattern: '.*'\n  name: foo\n  value:", absent=[("foo", {})]),
    Row("JmxCollectorTest.testValueCaptureGroup", "rules:\n- pattern: '^hadoop<.+-500(10)>'\n  name: foo\n  value: $1",
        [has(("foo", {}), 10.0)]),
    Row("JmxCollectorTest.testValueIgnoreNonNumber", "rules:\n- pattern: '.*'\n  name: foo\n  value: a",
        absent=[("foo", {})]),
    Row("JmxCollectorTest.testEnumValue",
        "rules:\n- pattern: 'org.bean.enum<type=StateMetrics.*>State: RUNNING'\n  name: bean_running\n  value: 1",
        [has(("bean_running", {}), 1.0)]),
    # testDelayedStartNotReady / testDelayedStartReady: startDelaySeconds is accepted and ignored (see below).
    Row("JmxCollectorTest.testDelayedStartReady", "startDelaySeconds: 1", [has(("boolean_Test_True", {}), 1.0)]),
    Row("JmxCollectorTest.testCamelLastExchangeFailureTimestamp", """
rules:
- pattern: 'org.apache.camel<context=([^,]+), type=routes, name="([^"]+)"><>LastExchangeFailureTimestamp'
  name: org.apache.camel.LastExchangeFailureTimestamp
  help: Exchanges Last Failure Timestamps
  type: UNTYPED
  labels:
    context: "$1"
    route: "$2"
    type: routes
""", [has(("org_apache_camel_LastExchangeFailureTimestamp",
           {"context": "my-camel-context", "route": "my-route-name", "type": "routes"}), 1.573285945111e9, 0.0)]),
    Row("JmxCollectorTest.testCompositeData",
        "rules:\n- pattern: 'io.prometheus.jmx.test<name=PerformanceMetricsMBean><PerformanceMetrics>.*'\n"
        "  attrNameSnakeCase: true",
        [has((f"io_prometheus_jmx_test_PerformanceMetricsMBean_PerformanceMetrics_{item}", {}), value, 0.0)
         for item, value in (("active_sessions", 2), ("bootstraps", 4), ("bootstraps_deferred", 6))]),
    Row("JmxCollectorTest.testInferCounterTypeFromNameEnabled", "inferCounterTypeFromName: true\n" + KAFKA_RULES,
        [has(("kafka_consumer_request", KAFKA_LABELS), type=COUNTER),
         has(("kafka_consumer_request_rate", KAFKA_LABELS), type=UNKNOWN)]),
    Row("JmxCollectorTest.testInferCounterTypeFromNameDisabled", "inferCounterTypeFromName: false\n" + KAFKA_RULES,
        [has(("kafka_consumer_request", KAFKA_LABELS), type=UNKNOWN),
         has(("kafka_consumer_request_rate", KAFKA_LABELS), type=UNKNOWN)]),
    Row("JmxCollectorTest.testRuleWithNameAndHelpLoadsSuccessfully",
        HADOOP_RULE + "\n  name: test_metric\n  help: This is a test metric", [has(("test_metric", {}), 200)]),
    Row("JmxCollectorTest.testRuleWithNameAndPatternLoadsSuccessfully", HADOOP_RULE + "\n  name: jvm_memory",
        [has(("jvm_memory", {}), 200)]),
    Row("JmxCollectorTest.testZeroStartDelaySecondsIsValid", "startDelaySeconds: 0", [has(CPU)]),
    Row("JmxCollectorTest.testEmptyYamlConfigUsesDefaults", "---", [has(CPU)]),
    Row("JmxCollectorTest.collectDoesNotThrowWhenModeIsAgentWithStartDelaySeconds", "startDelaySeconds: 1",
        [has(CPU)]),
]

CONFIG = "JmxCollectorConfigTest."
ROWS += [
    Row(CONFIG + "StartDelaySecondsTests.testZeroStartDelaySecondsIsValid", "---\nstartDelaySeconds: 0", [has(CPU)]),
    Row(CONFIG + "HostPortAndJmxUrlTests.testHostPortSetsJmxUrl", "---\nhostPort: localhost:9999"),
    Row(CONFIG + "SslConfigTests.testSslAsBoolean", "---\nssl: true"),
    Row(CONFIG + "SslConfigTests.testSslAsMapWithKeyStore", """
ssl:
  enabled: true
  keyStore:
    filename: /path/to/keystore
    type: JKS
    password: changeit
  trustStore:
    filename: /path/to/truststore
    type: JKS
    password: changeit
  protocols: "TLSv1.2, TLSv1.3"
  ciphers: "AES256, AES128"
"""),
    Row(CONFIG + "SslConfigTests.testSslMapEnabledFalse", "---\nssl:\n  enabled: false"),
    Row(CONFIG + "ExcludeJvmMetricsTests.testExcludeJvmMetricsTrue", "---\nexcludeJvmMetrics: true", absent=[CPU]),
    Row(CONFIG + "ExcludeJvmMetricsTests.testExcludeJvmMetricsFalse", "---\nexcludeJvmMetrics: false", [has(CPU)]),
    Row(CONFIG + "RuleValidationTests.testRuleTypeUntypedConvertedToUnknown",
        HADOOP_RULE + "\n  name: untyped_metric\n  type: UNTYPED\n  value: 1",
        [has(("untyped_metric", {}), type=UNKNOWN)]),
    Row(CONFIG + "RuleValidationTests.testRuleWithCacheEnabled", "---\nrules:\n- pattern: '.*'\n  name: foo\n"
        "  cache: true\n  value: 1"),
    Row(CONFIG + "RuleValidationTests.testRuleWithHelpAndLabels",
        HADOOP_RULE + "\n  name: test_help_metric\n  help: This is help text\n  labels:\n    env: prod",
        [has(("test_help_metric", {"env": "prod"}), 200)]),
    Row(CONFIG + "LowercaseOutputTests.testLowercaseOutputLabelNamesWithDefaultRules",
        "---\nlowercaseOutputLabelNames: true"),
    Row(CONFIG + "LowercaseOutputTests.testLowercaseOutputNameWithDefaultRules", "---\nlowercaseOutputName: true",
        [has(("java_lang_operatingsystem_processcputime", {}))]),
    Row(CONFIG + "EmptyAndNullConfigTests.testEmptyYamlConfigUsesDefaults", "---", [has(CPU)]),
    Row(CONFIG + "EmptyAndNullConfigTests.testMinimalYamlConfig", "{}", [has(CPU)]),
    Row(CONFIG + "InferCounterTypeTests.testInferCounterTypeFromNameEnabled",
        "inferCounterTypeFromName: true\n" + KAFKA_RULES,
        [has(("kafka_consumer_request", KAFKA_LABELS), type=COUNTER)]),
    Row(CONFIG + "InferCounterTypeTests.testInferCounterTypeFromNameEnabledWithDefaultRules",
        "---\ninferCounterTypeFromName: true"),
    Row(CONFIG + "InferCounterTypeTests.testInferCounterTypeFromNameDisabled",
        "inferCounterTypeFromName: false\n" + KAFKA_RULES,
        [has(("kafka_consumer_request", KAFKA_LABELS), type=UNKNOWN)]),
    Row(CONFIG + "UsernamePasswordTests.testUsernameConfig", "---\nusername: testuser"),
    Row(CONFIG + "UsernamePasswordTests.testPasswordConfig", "---\npassword: testpass"),
    Row(CONFIG + "WhitelistBlacklistBackwardCompatTests.testBlacklistObjectNamesBackwardCompat",
        "---\nwhitelistObjectNames:\n- java.lang:*\nblacklistObjectNames:\n- java.lang:type=Runtime", [has(CPU)]),
    Row(CONFIG + "CachedRulesTests.testCachedRulesWithMultipleCollects",
        HADOOP_RULE + "\n  name: cached_hadoop_metric\n  cache: true", [has(("cached_hadoop_metric", {}), 200)]),
    Row(CONFIG + "CachedRulesTests.testDefaultRuleWithCache", "---\nrules:\n- cache: true", [has(CPU)]),
    Row(CONFIG + "AttrNameSnakeCaseTests.testAttrNameSnakeCaseWithDefaultRule",
        "---\nrules:\n- attrNameSnakeCase: true",
        [has(("java_lang_OperatingSystem_process_cpu_time", {}))]),
    Row(CONFIG + "ObjectNameAttributeFilterConfigTests.testExcludeObjectNameAttributesConfig",
        '---\nexcludeObjectNameAttributes:\n  "java.lang:type=OperatingSystem":\n    - "ProcessCpuTime"', absent=[CPU]),
    Row(CONFIG + "ObjectNameAttributeFilterConfigTests.testIncludeObjectNameAttributesConfig",
        '---\nincludeObjectNameAttributes:\n  "java.lang:type=OperatingSystem":\n    - "ProcessCpuTime"', [has(CPU)]),
    Row(CONFIG + "ObjectNameAttributeFilterConfigTests.testAutoExcludeObjectNameAttributesConfig",
        "---\nautoExcludeObjectNameAttributes: true"),
    Row(CONFIG + "RuleValueFactorTests.testRuleWithValidValueFactor",
        HADOOP_RULE + "\n  name: vf_metric\n  valueFactor: 0.001", [has(("vf_metric", {}), 0.2)]),
    Row(CONFIG + "LowercaseOutputLabelNamesWithMetricCustomizersTests"
        ".testLowercaseOutputLabelNamesWithAttributesAsLabels",
        """
lowercaseOutputLabelNames: true
includeObjectNames:
  - 'io.prometheus.jmx:type=customValue'
metricCustomizers:
  - mbeanFilter:
      domain: io.prometheus.jmx
      properties:
        type: customValue
    attributesAsLabels:
      - Text
""", [has(("io_prometheus_jmx_customValue_Value", {"text": "value"}), 345)]),
    Row(CONFIG + "LowercaseOutputLabelNamesDefaultExportTests.testLowercaseOutputLabelNamesWithDefaultExport",
        "---\nlowercaseOutputLabelNames: true\nincludeObjectNames:\n  - 'org.apache.cassandra.concurrent:*'",
        [has(CASSANDRA_ACTIVE, 100)]),
    Row(CONFIG + "LabelRegexExceptionTests.testLabelRegexWithInvalidBackreferenceProducesScrapeError",
        HADOOP_RULE + "\n  name: bad_label_metric\n  labels:\n    label: $999", absent=[("bad_label_metric", {})],
        scrape_error=True),
    Row(CONFIG + "CollectErrorPathTests.testCollectWithNonExistentJmxUrl",
        "---\njmxUrl: service:jmx:rmi:///jndi/rmi://localhost:0/jmxrmi"),
    Row(CONFIG + "CollectErrorPathTests.testCollectWithNonExistentJmxUrlAndCredentials",
        "---\njmxUrl: service:jmx:rmi:///jndi/rmi://localhost:0/jmxrmi\nusername: testuser\npassword: testpass"),
    Row(CONFIG + "DefaultExportEdgeCaseTests.testDefaultExportWithLowercaseOutputLabelNames",
        "---\nlowercaseOutputLabelNames: true", [has(HADOOP_DEFAULT, 200)]),
    Row(CONFIG + "DefaultExportEdgeCaseTests.testDefaultExportWithInferCounterTypeFromName",
        "---\ninferCounterTypeFromName: true\nincludeObjectNames:\n  - 'kafka.consumer:*'",
        [has(("kafka_consumer_consumer_node_metrics_request", KAFKA_LABELS), type=COUNTER)]),
]
TYPES = "TestMBeanTypesTest."
ROWS += [
    Row(TYPES + "DateValueTests.testDateValueIsConvertedToEpochSeconds",
        "---\nincludeObjectNames:\n  - 'io.prometheus.jmx.test:type=dateValue'",
        [has(("io_prometheus_jmx_test_dateValue_Timestamp", {}), 1700000000.0, 1.0)]),
    Row(TYPES + "NullValueTests.testNullValueIsSkipped",
        "---\nincludeObjectNames:\n  - 'io.prometheus.jmx.test:type=nullValue'",
        absent=[("io_prometheus_jmx_test_nullValue_nullValue", {}),
                ("io_prometheus_jmx_test_nullValue_NullValue", {})]),
    Row(TYPES + "ArrayValueTests.testArrayValueIsSkipped",
        "---\nincludeObjectNames:\n  - 'io.prometheus.jmx.test:type=arrayValue'",
        absent=[("io_prometheus_jmx_test_arrayValue_Scores", {})]),
    Row(TYPES + "OptionalValueTests.testOptionalPresentIsUnwrapped",
        "---\nincludeObjectNames:\n  - 'io.prometheus.jmx.test:type=optionalValue'",
        [has(("io_prometheus_jmx_test_optionalValue_OptionalPresent", {}), 42.0)]),
    Row(TYPES + "OptionalValueTests.testOptionalEmptyIsSkipped",
        "---\nincludeObjectNames:\n  - 'io.prometheus.jmx.test:type=optionalValue'",
        absent=[("io_prometheus_jmx_test_optionalValue_OptionalEmpty", {})]),
    Row(TYPES + "UnsupportedTypeTests.testUnsupportedTypeIsSkipped",
        "---\nincludeObjectNames:\n  - 'io.prometheus.jmx.test:type=unsupportedType'",
        absent=[("io_prometheus_jmx_test_unsupportedType_Location", {})]),
    Row(TYPES + "UnsupportedTypeTests.testUnsupportedTypeIsAutoExcludedOnSecondScrape",
        "---\nincludeObjectNames:\n  - 'io.prometheus.jmx.test:type=unsupportedValue'"),
]

SCRAPER = "JmxScraperTest."
# The bean JmxScraperTest mocks (each test gives it the attributes it needs), and the Runtime and Flight Recorder
# beans whose skipping it checks. Rules with a 'value' export strings and tables too, so a skipped one cannot hide.
SCRAPED = bean("test.domain:type=Test", attr("Count", 42, "java.lang.Integer"), attr("NullAttr", None),
               attr("Enabled", True, "java.lang.Boolean"),
               attr("ArrayAttr", Unsupported("array"), "[Ljava.lang.String;"),
               attr("LabelAttr", "labelValue"), attr("OtherAttr", "otherValue"))  # fmt: skip
RUNTIME = bean("java.lang:type=Runtime", attr("StartTime", 100, "java.lang.Long"),
               attr("Uptime", 200, "java.lang.Long"),
               attr("SystemProperties", tabular([{"key": "java.version", "value": "17"}], index=("key",))),
               attr("ClassPath", "/path/to/classes"))  # fmt: skip
RUNTIME_AS_STRING = bean("java.lang:type=Runtime", attr("SystemProperties", "value"))
FLIGHT_RECORDER = bean("jdk.management.jfr:type=FlightRecorder", attr("MaxSize", 100, "java.lang.Long"))
COUNT: Series = ("test_domain_Test_Count", {})
LABELLED: Series = ("test_domain_Test_Count", {"LabelAttr": "labelValue"})
WITH_VALUE = "rules:\n- pattern: '.*'\n  value: 1"


def _labels_from(mbean_filter: str, body: str = "  attributesAsLabels: [LabelAttr]") -> str:
    return f"metricCustomizers:\n- mbeanFilter: {mbean_filter}\n{body}"


ROWS += [
    Row(SCRAPER + "ProcessBeanValueTypeTests.scrapeBeanWithNumberValueRecordsCorrectly", "---", [has(COUNT, 42)],
        beans=[SCRAPED]),
    Row(SCRAPER + "ProcessBeanValueTypeTests.scrapeBeanWithNullValueDoesNotRecord", WITH_VALUE,
        [has(COUNT, 1)], [("test_domain_Test_NullAttr", {})], beans=[SCRAPED]),
    Row(SCRAPER + "ProcessBeanValueTypeTests.scrapeBeanWithBooleanValueRecordsCorrectly", "---",
        [has(("test_domain_Test_Enabled", {}), 1.0)], beans=[SCRAPED]),
    Row(SCRAPER + "ProcessBeanValueTypeTests.scrapeBeanWithArrayValueDoesNotRecord", WITH_VALUE,
        [has(COUNT, 1)], [("test_domain_Test_ArrayAttr", {})], beans=[SCRAPED]),
    Row(SCRAPER + "RuntimeMBeanSkipTests.scrapeBeanSkipsSystemPropertiesAttributeForRuntimeMBean", WITH_VALUE,
        [has(("java_lang_Runtime_StartTime", {}))],
        [("java_lang_Runtime_SystemProperties", {}), ("java_lang_Runtime_SystemProperties", {"key": "java.version"})],
        beans=[RUNTIME]),
    Row(SCRAPER + "RuntimeMBeanSkipTests.scrapeBeanSkipsClassPathAttributeForRuntimeMBean", WITH_VALUE,
        [has(("java_lang_Runtime_Uptime", {}))], [("java_lang_Runtime_ClassPath", {})], beans=[RUNTIME]),
    Row(SCRAPER + "RuntimeMBeanSkipTests.scrapeBeanSkipsFlightRecorderMBean", WITH_VALUE,
        absent=[("jdk_management_jfr_FlightRecorder_MaxSize", {})], beans=[FLIGHT_RECORDER, SCRAPED]),
    Row(SCRAPER + "ScrapeBeanRuntimeAttributeSkipTests.scrapeBeanSkipsSystemPropertiesForRuntimeMBean", WITH_VALUE,
        absent=[("java_lang_Runtime_SystemProperties", {})], beans=[RUNTIME_AS_STRING]),
    # Which customizer a bean gets (the first whose filter selects it), seen through the labels it adds.
    Row(SCRAPER + "GetMetricCustomizerTests.getMetricCustomizerReturnsNullForEmptyList", "---", [has(COUNT, 42)],
        beans=[SCRAPED]),
    Row(SCRAPER + "GetMetricCustomizerTests.getMetricCustomizerReturnsNullForNonMatchingCustomizer",
        _labels_from("{domain: non.matching.domain}"), [has(COUNT, 42)], [LABELLED], beans=[SCRAPED]),
    Row(SCRAPER + "GetMetricCustomizerTests.getMetricCustomizerReturnsCustomizerForMatchingDomain",
        _labels_from("{domain: test.domain, properties: {type: Test}}"), [has(LABELLED, 42)], [COUNT],
        beans=[SCRAPED]),
    Row(SCRAPER + "FilterMbeanByDomainAndPropertiesTests.filterReturnsTrueForMatchingDomainAndProperties",
        _labels_from("{domain: test.domain, properties: {}}"), [has(LABELLED, 42)], [COUNT], beans=[SCRAPED]),
    Row(SCRAPER + "FilterMbeanByDomainAndPropertiesTests.filterReturnsFalseForNonMatchingDomain",
        _labels_from("{domain: wrong.domain}"), [has(COUNT, 42)], [LABELLED], beans=[SCRAPED]),
    Row(SCRAPER + "FilterMbeanByDomainAndPropertiesTests.filterReturnsFalseWhenDomainMatchesButPropertiesDontMatch",
        _labels_from("{domain: test.domain, properties: {type: Test, extra: NotInBean}}"), [has(COUNT, 42)],
        [LABELLED], beans=[SCRAPED]),
    Row(SCRAPER + "GetExtraMetricsTests.getExtraMetricsReturnsEmptyListWhenNull",
        _labels_from("{domain: test.domain}"), [has(LABELLED, 42)], [("test_domain_Test_extra_name", {})],
        beans=[SCRAPED]),
    Row(SCRAPER + "GetExtraMetricsTests.getExtraMetricsReturnsMetricsWhenPresent",
        _labels_from("{domain: test.domain}",
                     "  extraMetrics: [{name: extra_name, value: 1.0, description: extra_desc}]"),
        [has(("test_domain_Test_extra_name", {}), 1.0), has(COUNT, 42)], beans=[SCRAPED]),
    Row(SCRAPER + "GetAttributesAsLabelsWithValuesTests.getAttributesAsLabelsWithValuesMapsAttributes",
        _labels_from("{domain: test.domain}"), [has(LABELLED, 42)],
        [("test_domain_Test_Count", {"LabelAttr": "labelValue", "OtherAttr": "otherValue"})], beans=[SCRAPED]),
    Row(SCRAPER + "GetAttributesAsLabelsWithValuesTests.getAttributesAsLabelsWithValuesSkipsMissingAttributes",
        _labels_from("{domain: test.domain}", "  attributesAsLabels: [MissingAttr, LabelAttr]"), [has(LABELLED, 42)],
        beans=[SCRAPED]),
]  # fmt: skip

CONSTRUCTOR = "JmxCollectorConstructorTest."
CACHED_FOO = '---\nrules:\n- pattern: ".*"\n  name: foo\n  value: 1\n  cache: true'
# A config given as a string or as a stream is text here; FILE_ROWS below load theirs from a file.
ROWS += [
    Row(CONSTRUCTOR + "InputStreamConstructorTests.testInputStreamConstructor", "---", [has(CPU)]),
    Row(CONSTRUCTOR + "InputStreamConstructorTests.testInputStreamConstructorWithRules", CACHED_FOO),
    Row(CONSTRUCTOR + "StringConstructorTests.testStringConstructorWithEmptyConfig", "---", [has(CPU)]),
    Row(CONSTRUCTOR + "StringConstructorTests.testStringConstructorWithHostPort", "---\nhostPort: localhost:9999"),
]
FILE_ROWS = [
    Row(CONSTRUCTOR + "FileConstructorTests.testFileConstructorWithDefaultYaml", "---", [has(CPU)]),
    Row(CONSTRUCTOR + "FileConstructorTests.testFileConstructorWithRules", CACHED_FOO),
    Row(CONSTRUCTOR + "ModeValidationTests.testAgentModeWithoutJmxUrlIsValid", "---", [has(CPU)]),
]

CACHE = "MatchedRulesCacheTest."
# A cache: true rule keeps one verdict per (domain, key properties, attrKeys, attribute name); a name made of all four
# shows on the second scrape (served from the cache) whether a verdict went to another record.
CACHED_BY_KEY = "rules:\n- pattern: '^(\\w+)<type=(\\w+)><(\\w*)>(\\w+)'\n  name: c_$1_$2_$3_$4\n  cache: true"
CACHE_KEYED = [
    bean("domain1:type=test", attr("attr", 1, "int"), attr("attr2", 5, "int"), attr("key1", composite(attr=4)),
         attr("key2", composite(attr=6))),
    bean("domain2:type=test", attr("attr", 2, "int")),
    bean("domain1:type=other", attr("attr", 3, "int")),
]  # fmt: skip
ROWS += [
    Row(CACHE + "CacheKeyTests.cacheKeyEqualsWithDifferentDomain", CACHED_BY_KEY,
        [has(("c_domain1_test_attr", {}), 1), has(("c_domain2_test_attr", {}), 2)], beans=CACHE_KEYED),
    Row(CACHE + "CacheKeyTests.cacheKeyEqualsWithDifferentAttrName", CACHED_BY_KEY,
        [has(("c_domain1_test_attr", {}), 1), has(("c_domain1_test_attr2", {}), 5)], beans=CACHE_KEYED),
    Row(CACHE + "CacheKeyTests.cacheKeyEqualsWithDifferentBeanProperties", CACHED_BY_KEY,
        [has(("c_domain1_test_attr", {}), 1), has(("c_domain1_other_attr", {}), 3)], beans=CACHE_KEYED),
    Row(CACHE + "CacheKeyTests.cacheKeyEqualsWithDifferentAttrKeys", CACHED_BY_KEY,
        [has(("c_domain1_test_key1_attr", {}), 4), has(("c_domain1_test_key2_attr", {}), 6)], beans=CACHE_KEYED),
    Row(CACHE + "CacheKeyTests.cacheKeyWithEmptyAttrKeys", CACHED_BY_KEY, [has(("c_domain1_test_attr", {}), 1)],
        beans=CACHE_KEYED),
]  # fmt: skip

# Files jmx_exporter refuses (IllegalArgumentException from the constructor); we refuse them too.
REFUSED = [
    ("JmxCollectorTest.testRulesMustHaveNameWithHelp", "---\nrules:\n- help: foo"),
    ("JmxCollectorTest.testRulesMustHaveNameWithLabels", "---\nrules:\n- labels: {}"),
    ("JmxCollectorTest.testRulesMustHavePatternWithName", "---\nrules:\n- name: foo"),
    ("JmxCollectorTest.testRuleMissingNameWithHelpThrowsException", "\n---\nrules:\n- help: foo"),
    ("JmxCollectorTest.testRuleMissingNameWithLabelsThrowsException", "\n---\nrules:\n- labels:\n    key: value"),
    ("JmxCollectorTest.testRuleWithNameButNoPatternThrowsException", "\n---\nrules:\n- name: foo"),
    ("JmxCollectorTest.testInvalidValueFactorThrowsException",
     "\n---\nrules:\n- pattern: '.*'\n  name: foo\n  valueFactor: not_a_number"),
    ("JmxCollectorTest.testInvalidStartDelaySecondsThrowsException", "\n---\nstartDelaySeconds: -5"),
    (CONFIG + "StartDelaySecondsTests.testStartDelaySecondsAsStringThrowsException",
     "---\nstartDelaySeconds: not_a_number"),
    (CONFIG + "StartDelaySecondsTests.testNegativeStartDelaySecondsThrowsException", "---\nstartDelaySeconds: -5"),
    (CONFIG + "HostPortAndJmxUrlTests.testHostPortAndJmxUrlBothSetThrowsException",
     "---\nhostPort: localhost:1234\njmxUrl: service:jmx:rmi:///jndi/rmi://localhost:1234/jmxrmi"),
    (CONFIG + "MetricCustomizersValidationTests.testMetricCustomizersWithNullListThrowsException",
     "---\nmetricCustomizers: null"),
    (CONFIG + "MetricCustomizersValidationTests.testMetricCustomizersMissingMbeanFilterThrowsException",
     "---\nmetricCustomizers:\n  - attributesAsLabels:\n      - Text"),
    (CONFIG + "MetricCustomizersValidationTests.testMetricCustomizersMbeanFilterMissingDomainThrowsException",
     "---\nmetricCustomizers:\n  - mbeanFilter:\n      properties:\n        type: customValue\n"
     "    attributesAsLabels:\n      - Text"),
    (CONFIG + "MetricCustomizersValidationTests.testMetricCustomizersMissingBothAttributesAndExtraMetrics",
     "---\nmetricCustomizers:\n  - mbeanFilter:\n      domain: io.prometheus.jmx\n      properties:\n"
     "        type: customValue"),
    (CONFIG + "MetricCustomizersValidationTests.testExtraMetricMissingNameThrowsException",
     "---\nmetricCustomizers:\n  - mbeanFilter:\n      domain: io.prometheus.jmx\n      properties:\n"
     "        type: customValue\n    extraMetrics:\n      - value: true"),
    (CONFIG + "MetricCustomizersValidationTests.testExtraMetricMissingValueThrowsException",
     "---\nmetricCustomizers:\n  - mbeanFilter:\n      domain: io.prometheus.jmx\n      properties:\n"
     "        type: customValue\n    extraMetrics:\n      - name: isActive"),
    (CONFIG + "RuleValidationTests.testRuleValueFactorInvalidNumber",
     "---\nrules:\n- pattern: '.*'\n  name: foo\n  valueFactor: not_a_number"),
]


SSL_CONFIG = ('sslConfig:\n  keystore: /path/to/keystore\n  keystoreType: PKCS12\n  protocols: "TLSv1.2{}"\n'
              '  ciphers: "{}"')
UNKNOWN_KEY = "unknown key is refused (jmx_exporter ignores it): a typo must not go unnoticed"
# Where we differ on purpose (docs/configuration.md, "Where this exporter differs"): the Java test's file, the error
# we give instead, and why.
DIFFERENT = [
    # No jmx_exporter 1.6 code reads sslConfig (its JMX client TLS is the ssl key and javax.net.ssl properties): the
    # Java test passes because unknown keys are ignored there.
    ("JmxCollectorTest.testSslConfigWithWhitespaceInProtocols", SSL_CONFIG.format(", TLSv1.3", "AES256, AES128"),
     "rules.yml:1: sslConfig: unknown key 'sslConfig'", UNKNOWN_KEY),
    ("JmxCollectorTest.testSslConfigWithWhitespaceInCiphers", SSL_CONFIG.format("", "AES256, AES128, AES192"),
     "rules.yml:1: sslConfig: unknown key 'sslConfig'", UNKNOWN_KEY),
]


def _through_dump(beans: list[MBean], tmp_path: Path) -> list[MBean]:
    path = tmp_path / "dump.json"
    path.write_text(write_dump(beans))
    snapshot = DumpSource(path).fetch(BeanRequest(), time.monotonic() + 10)
    assert not snapshot.problems
    return list(snapshot.beans)


def collected(text: str | Config, beans: list[MBean]) -> tuple[dict[Any, tuple[float, Any]], list[str]]:
    """Samples keyed as client_java's registry keys them: metric name (no ``_total``) and the exact label set."""
    out = {}
    engine = RuleEngine(text if isinstance(text, Config) else config(text))
    engine.collect(beans)  # a second scrape, as the Java tests' register() and lookup make two
    result = engine.collect(beans)
    for family in build_families(result.samples()):
        for sample in family.samples:
            out[(family.name, tuple(sorted(sample.labels)))] = (sample.value, family.type)
    return out, result.errors


def check(row: Row, beans: list[MBean], loaded: Config | None = None) -> None:
    got, errors = collected(row.config if loaded is None else loaded, beans)
    assert bool(errors) is row.scrape_error, errors
    for want in row.present:
        key = (want.name, tuple(sorted(want.labels.items())))
        assert key in got, f"{want.name}{want.labels} missing; got {sorted(got)}"
        value, kind = got[key]
        if want.value is not None:
            assert value == pytest.approx(want.value, abs=want.within)
        if want.type is not None:
            assert kind is want.type
    for name, labels in row.absent:
        assert (name, tuple(sorted(labels.items()))) not in got


@pytest.mark.parametrize("row", ROWS, ids=[r.java for r in ROWS])
def test_collector_row_over_records(row: Row) -> None:
    check(row, row.beans)


DUMP_ROWS = [r for r in ROWS if not r.records_only]


@pytest.mark.parametrize("row", DUMP_ROWS, ids=[r.java for r in DUMP_ROWS])
def test_collector_row_over_a_dump(row: Row, tmp_path: Path) -> None:
    check(row, _through_dump(row.beans, tmp_path))


@pytest.mark.parametrize(("java", "text"), REFUSED, ids=[java for java, _ in REFUSED])
def test_what_jmx_exporter_refuses_is_refused(java: str, text: str) -> None:
    with pytest.raises(ConfigError):
        config(text)


@pytest.mark.parametrize(("java", "text", "error", "why"), DIFFERENT, ids=[d[0] for d in DIFFERENT])
def test_where_we_differ_on_purpose(java: str, text: str, error: str, why: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config(text)
    assert str(raised.value).startswith(error), why


@pytest.mark.parametrize("mode", ["records", "dump"])
@pytest.mark.parametrize("row", FILE_ROWS, ids=[r.java for r in FILE_ROWS])
def test_collector_row_from_a_config_file(row: Row, mode: str, tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(row.config)
    check(row, row.beans if mode == "records" else _through_dump(row.beans, tmp_path), load_config(path, environ={}))


RELOADS = [
    (CONSTRUCTOR + "ConfigReloadTests.testConfigReloadOnFileChange", "---\nlowercaseOutputName: true",
     CPU[0], CPU[0].lower()),
    (CONSTRUCTOR + "ConfigReloadTests.testConfigReloadWithInvalidYaml", "invalid: yaml: content: [", CPU[0], CPU[0]),
]  # fmt: skip


@pytest.mark.parametrize("mode", ["records", "dump"])
@pytest.mark.parametrize(("java", "rewritten", "before", "after"), RELOADS, ids=[row[0] for row in RELOADS])
def test_a_rewritten_config_file_is_read_again_unless_it_is_bad(
    java: str, rewritten: str, before: str, after: str, mode: str, tmp_path: Path
) -> None:
    beans = COLLECTOR_BEANS if mode == "records" else _through_dump(COLLECTOR_BEANS, tmp_path)
    path = tmp_path / "config.yaml"
    path.write_text("---")
    watcher = ConfigWatcher(path, loader=lambda p: load_config(p, environ={}))

    def names() -> set[str]:
        return {name for name, _ in collected(watcher.config, beans)[0]}

    assert before in names()
    path.write_text(rewritten)
    stamp = path.stat()
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 10_000_000_000))  # as the Java test moves its mtime
    watcher.refresh()
    assert after in names()
    assert (watcher.reload_success, watcher.reload_failure) == ((1, 0) if after != before else (0, 1))


# ModeValidationTests: the standalone collector needs a JMX URL; here the config's hostPort/jmxUrl is the target
# unless the command line names one. (Agent mode, inside the target's own JVM, has no counterpart.)
def test_without_a_jmx_url_or_a_target_there_is_nothing_to_scrape(tmp_path: Path) -> None:
    # ModeValidationTests.testStandaloneModeWithoutJmxUrlThrowsException
    path = tmp_path / "config.yaml"
    path.write_text("---")
    assert main(["scrape", "--config", str(path)]) == 2


def test_the_config_jmx_url_is_the_target() -> None:
    # ModeValidationTests.testStandaloneModeWithJmxUrlIsValid
    url = "service:jmx:rmi:///jndi/rmi://localhost:1234/jmxrmi"
    settings = reloaded_settings(None, JmxClientSettings(), config(f"---\njmxUrl: {url}"))
    assert (settings.target.url, settings.target.host, settings.target.port) == (url, "localhost", 1234)


# --- VariableResolverTest: ${NAME} in username and password; SslProperties: the ssl switch -----------------------
ENVIRONMENT = {"PATH": "/usr/local/bin:/usr/bin"}
RESOLVER = "VariableResolverTest."
VARIABLES = [
    (RESOLVER + "ResolveVariableTests.resolveNullReturnsNull", None, ""),  # no value: no credential
    (RESOLVER + "ResolveVariableTests.resolveEmptyStringReturnsEmptyString", "", ""),
    (RESOLVER + "ResolveVariableTests.resolveWhitespaceOnlyReturnsWhitespace", "   ", "   "),
    (RESOLVER + "ResolveVariableTests.resolvePlainStringReturnsPlainString", "plain_text", "plain_text"),
    (RESOLVER + "ResolveVariableTests.resolveEmptyBracesReturnsLiteral", "${}", "${}"),
    (RESOLVER + "ResolveVariableTests.resolveWhitespaceAroundBracesReturnsLiteral", "  ${}  ", "  ${}  "),
    (RESOLVER + "ResolveVariableTests.resolveExistingEnvironmentVariable", "${PATH}", ENVIRONMENT["PATH"]),
    (RESOLVER + "ResolveVariableTests.resolveEnvironmentVariableWithWhitespace", "  ${PATH}  ", ENVIRONMENT["PATH"]),
    (RESOLVER + "ResolveVariableTests.resolveVariableNotSurroundedByBracesReturnsLiteral", "$PATH", "$PATH"),
    (RESOLVER + "ResolveVariableTests.resolvePartiallyMatchedBracesReturnsLiteral", "${PATH", "${PATH"),
    (RESOLVER + "ResolveVariableTests.resolveVariableWithTrailingText", "${PATH}_suffix", "${PATH}_suffix"),
    (RESOLVER + "ResolveVariableTests.resolveVariableWithLeadingText", "prefix_${PATH}", "prefix_${PATH}"),
    (RESOLVER + "EnvironmentVariableValueTests.resolveExistingVariableWithNonEmptyValue", "${PATH}",
     ENVIRONMENT["PATH"]),
]  # fmt: skip


@pytest.mark.parametrize("key", ["username", "password"])
@pytest.mark.parametrize(("java", "written", "read"), VARIABLES, ids=[row[0] for row in VARIABLES])
def test_a_variable_in_a_credential_is_resolved(java: str, written: str | None, read: str, key: str) -> None:
    text = f"---\n{key}:" + ("" if written is None else f" '{written}'")
    assert getattr(parse_config(text, "rules.yml", environ=ENVIRONMENT), key) == read


UNRESOLVABLE = [
    (RESOLVER + "ResolveVariableTests.resolveUndefinedVariableThrowsException", "${UNDEFINED_VAR_12345}",
     "environment variable 'UNDEFINED_VAR_12345' is not set"),
    (RESOLVER + "ResolveVariableTests.resolveEmptyBracesWithWhitespaceThrowsException", "${   }",
     "invalid environment variable name"),
    (RESOLVER + "EnvironmentVariableExceptionTests.undefinedVariableThrowsWithCorrectMessage",
     "${UNDEFINED_TEST_VAR_ABC123}", "environment variable 'UNDEFINED_TEST_VAR_ABC123' is not set"),
    (RESOLVER + "EnvironmentVariableExceptionTests.emptyBracesWithWhitespaceThrowsInvalidNameException", "${   }",
     "invalid environment variable name"),
]  # fmt: skip


@pytest.mark.parametrize("key", ["username", "password"])
@pytest.mark.parametrize(("java", "written", "said"), UNRESOLVABLE, ids=[row[0] for row in UNRESOLVABLE])
def test_a_variable_that_cannot_be_resolved_is_refused(java: str, written: str, said: str, key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(f"---\n{key}: '{written}'", "rules.yml", environ=ENVIRONMENT)
    assert f"rules.yml:2: {key}: {said}" in str(raised.value)


SSL_SWITCH = [
    (CONSTRUCTOR + "SslPropertiesTests.testSslPropertiesDefaultConstructor", "---", False),
    (CONSTRUCTOR + "SslPropertiesTests.testSslPropertiesEnabledConstructor", "---\nssl: true", True),
    (CONSTRUCTOR + "SslPropertiesTests.testSslPropertiesDisabledConstructor", "---\nssl: false", False),
    (SCRAPER + "SslPropertiesTests.sslPropertiesEnabledDefaultIsFalse", "---", False),
    (SCRAPER + "SslPropertiesTests.sslPropertiesEnabledCanBeTrue", "---\nssl:\n  enabled: true", True),
]  # fmt: skip


@pytest.mark.parametrize(("java", "text", "ssl"), SSL_SWITCH, ids=[row[0] for row in SSL_SWITCH])
def test_the_ssl_switch(java: str, text: str, ssl: bool) -> None:
    assert config(text).ssl is ssl


def test_explain_prints_each_attribute_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # JmxScraperTest.StdoutWriterTests.stdoutWriterRecordsBeanToStdout: jmx_exporter's scraper run on its own prints
    # each attribute it reads with its bean and value; explain prints each with the string the rules see.
    dump = tmp_path / "dump.json"
    dump.write_text(write_dump([bean("test.domain:type=Test", attr("AttrName", "hello"))]))
    path = tmp_path / "config.yaml"
    path.write_text("---")
    capsys.readouterr()
    assert main(["explain", "--config", str(path), "--target", str(dump)]) == 0
    assert "test.domain<type=Test><>AttrName: hello" in capsys.readouterr().out


# --- ToSafeNameTest, ToSnakeAndLowerCaseTest: the name functions (null in, null out has no Python counterpart) ------
@pytest.mark.parametrize(("name", "safe"), [
    ("test-test", "test_test"), ("test-_test", "test_test"), ("test-_-test", "test_test"), ("-_-", "_"), ("", ""),
    ("---", "_"), ("__test", "_test"), ("____test", "_test"), ("test", "test"), ("001", "_001"),
    ("$asetstjlk_$testkljsek_$tesktjsekrslk_$testkljsetkl_$tkesjtk_$sljtslkjetesslelse_$lktsjetlkesltel_"
     "$kesjltelksjetkl_$tesktjksjltse_$sljteslselkselse_$tsjetlksetklsjekl_$slkfjrtlskek___",
     "_asetstjlk_testkljsek_tesktjsekrslk_testkljsetkl_tkesjtk_sljtslkjetesslelse_lktsjetlkesltel_kesjltelksjetkl_"
     "tesktjksjltse_sljteslselkselse_tsjetlksetklsjekl_slkfjrtlskek_"),
    ("test_swedish_chars_åäö", "test_swedish_chars_"), ("test@test", "test_test"), ("test;test", "test_test"),
    ("test:test", "test:test"),
])  # fmt: skip
def test_to_safe_name(name: str, safe: str) -> None:  # ToSafeNameTest.testToSafeName
    assert safe_name(name) == safe


@pytest.mark.parametrize(("name", "snake"), [
    ("testTest", "test_test"), ("testTestTest", "test_test_test"), ("test_test", "test_test"), ("test1", "test1"),
    ("StartTime_$1_$2", "start_time_$1_$2"), ("A", "a"), ("AA", "aa"), ("TCP", "tcp"),
    ("testTCPTest", "test_tcptest"), ("", ""), (" ", " "), ("testTest\nTest", "test_test\n_test"),
    ("test_Test", "test_test"), ("_Test_Test", "_test_test"),
])  # fmt: skip
def test_to_snake_and_lower_case(name: str, snake: str) -> None:  # ToSnakeAndLowerCaseTest.testToSnakeAndLowerCase
    assert snake_case(name) == snake


# --- TomcatPatternCheckTest: its patterns, compiled as Java compiles them, matched as Matcher.matches() ------------
TOMCAT_PATH = r"//([-a-zA-Z0-9+&@#/%?=~_|!:,.;]*[-a-zA-Z0-9+&@#/%=~_|])"
SERVLET_NAME = r"([-a-zA-Z0-9+/$%~_-|!.]*)"
WEB_MODULE = (r"^.*j2eeType=Servlet,WebModule=//([-a-zA-Z0-9+&@#/%?=~_|!:.,;]*[-a-zA-Z0-9+&@#/%=~_|]),"
              r"name=([-a-zA-Z0-9+/$%~_-|!.]*),J2EEApplication=none,J2EEServer=none.*$")


@pytest.mark.parametrize(("java", "pattern", "text", "matches"), [
    *[("testServletName", SERVLET_NAME, name, True)
      for name in ("C", "Cc", "C$c", "C9", "host-manager", "a.C", ".C", "prom_app_metrics")],
    *[("validateTomcatPath", TOMCAT_PATH, path, True)
      for path in ("//localhost/", "//localhost/docs/", "//www.example.com/prom-metric/",
                   "//www.example.com/prom_metric+tomcat/", "//www.example.com:443;jsessionid=sajakjda/prom-metric/")],
    ("validateTomcatPath", TOMCAT_PATH, "//localhost/$docs/", False),
    ("validateTomcatPath", TOMCAT_PATH, "//localhost/docs()/", False),
    ("testWebModule", WEB_MODULE, "Catalina:j2eeType=Servlet,WebModule=//localhost/host-manager,name=HTMLHostManager,"
     "J2EEApplication=none,J2EEServer=none", True),
])  # fmt: skip
def test_tomcat_pattern_check(java: str, pattern: str, text: str, matches: bool) -> None:
    assert (compile_java(pattern).regex.fullmatch(text) is not None) is matches


# --- MatchedRuleToMetricSnapshotsConverterTest, through the engine: samples of one name become one family ---------
def _pair(rule: str) -> dict[Any, tuple[float, Any]]:
    return collected(rule, [bean("domain1:type=Type", attr("attr", 1, "int")),
                            bean("domain2:type=Type", attr("attr", 2, "int"))])[0]


CONVERTER = "MatchedRuleToMetricSnapshotsConverterTest."
SAME_LABELS = "rules:\n- pattern: 'domain\\d<type=Type><>attr'\n  name: {name}\n  type: {type}\n  labels: {{l: v}}"
OWN_LABELS = "rules:\n- pattern: 'domain(\\d)<type=Type><>attr'\n  name: {name}\n  type: {type}\n  labels: {{l: v$1}}"


@pytest.mark.parametrize(("java", "rules", "name", "kind", "objectname"), [
    (CONVERTER + "testMatchedRuleAggregation", OWN_LABELS.format(name="jvm_memory_committed_bytes", type="UNTYPED"),
     "jvm_memory_committed_bytes", UNKNOWN, False),
    (CONVERTER + "CounterTypeTests.testCounterTypeConversion", OWN_LABELS.format(name="http_requests", type="COUNTER"),
     "http_requests", COUNTER, False),
    (CONVERTER + "GaugeTypeTests.testGaugeTypeConversion", OWN_LABELS.format(name="jvm_memory_bytes", type="GAUGE"),
     "jvm_memory_bytes", GAUGE, False),
    (CONVERTER + "MixedTypeTests.testMixedTypesFallbackToUnknown",
     "rules:\n- pattern: 'domain1<type=Type><>attr'\n  name: mixed_metric\n  type: GAUGE\n  labels: {l: v1}\n"
     "- pattern: 'domain2<type=Type><>attr'\n  name: mixed_metric\n  type: COUNTER\n  labels: {l: v2}",
     "mixed_metric", UNKNOWN, False),
    (CONVERTER + "MixedTypeTests.testAllSameTypeReturnsThatType", OWN_LABELS.format(name="gauge_metric", type="GAUGE"),
     "gauge_metric", GAUGE, False),
    (CONVERTER + "DuplicateLabelsTests.testDuplicateLabelsAddsObjectnameLabel",
     SAME_LABELS.format(name="duplicate_metric", type="UNTYPED"), "duplicate_metric", UNKNOWN, True),
    (CONVERTER + "DuplicateLabelsTests.testUniqueLabelsDoesNotAddObjectnameLabel",
     OWN_LABELS.format(name="unique_metric", type="UNTYPED"), "unique_metric", UNKNOWN, False),
    (CONVERTER + "DuplicateLabelsWithCounterTests.testDuplicateLabelsCounterAddsObjectname",
     SAME_LABELS.format(name="counter_metric", type="COUNTER"), "counter_metric", COUNTER, True),
    (CONVERTER + "DuplicateLabelsWithGaugeTests.testDuplicateLabelsGaugeAddsObjectname",
     SAME_LABELS.format(name="gauge_metric", type="GAUGE"), "gauge_metric", GAUGE, True),
])  # fmt: skip
def test_samples_of_one_name_become_one_family(java: str, rules: str, name: str, kind: MetricType,
                                               objectname: bool) -> None:  # fmt: skip
    got = _pair(rules)
    assert {key[0] for key in got} == {name}  # one family ...
    assert len(got) == 2  # ... with both samples
    assert {value_kind[1] for value_kind in got.values()} == {kind}
    for (_, labels) in got:
        assert ("_objectname" in dict(labels)) is objectname
    if objectname:
        # the match string up to its last ':', as jmx_exporter's converter cuts it
        assert sorted(dict(labels)["_objectname"] for (_, labels) in got) == [
            "domain1<type=Type><>attr", "domain2<type=Type><>attr"]


# --- ObjectNameAttributeFilterTest, through the engine: which attributes of which beans are read ------------------
FILTERS = """
excludeObjectNameAttributes:
  "java.lang:type=OperatingSystem":
    - "ObjectName"
  "java.lang:type=Runtime":
    - "ClassPath"
    - "SystemProperties"
includeObjectNameAttributes:
  "java.lang:type=Threading":
    - "ThreadCount"
  "java.lang:type=ClassLoading":
    - "LoadedClassCount"
rules:
  - pattern: '.*'
    value: 1
"""
PATTERN_VALUE = "rules: [{pattern: '.*', value: 1}]"  # strings exported too, so a filtered string shows
FILTERED_BEANS = [
    # Runtime's ClassPath is never read by jmx_exporter, filter or not; OperatingSystem's ObjectName shows the filter.
    bean("java.lang:type=Runtime", attr("ClassPath", "/a.jar"), attr("Uptime", 5, "long")),
    bean("java.lang:type=OperatingSystem", attr("ObjectName", "java.lang:type=OperatingSystem"),
         attr("ProcessCpuTime", 7, "long")),
    bean("java.lang:type=Threading", attr("ThreadCount", 12, "int"), attr("PeakThreadCount", 15, "int")),
    bean("java.lang:type=ClassLoading", attr("LoadedClassCount", 900, "int"),
         attr("TotalLoadedClassCount", 901, "long")),
    bean("java.lang:type=Memory", attr("Verbose", False)),
]


@pytest.mark.parametrize(("java", "text", "exported"), [
    # a non-empty include map reads only the attributes it lists: a bean it does not name gives nothing
    ("ObjectNameAttributeFilterTest.includeShouldCheckConfigInclusionMap", FILTERS,
     ["java_lang_ClassLoading_LoadedClassCount", "java_lang_Threading_ThreadCount"]),
    ("ObjectNameAttributeFilterTest.excludeShouldCheckConfigExclusionMap + "
     "ExcludeWithNonMatchingAttributeTests", FILTERS.split("includeObjectNameAttributes")[0] + PATTERN_VALUE,
     ["java_lang_ClassLoading_LoadedClassCount", "java_lang_ClassLoading_TotalLoadedClassCount",
      "java_lang_Memory_Verbose", "java_lang_OperatingSystem_ProcessCpuTime", "java_lang_Runtime_Uptime",
      "java_lang_Threading_PeakThreadCount",
      "java_lang_Threading_ThreadCount"]),
    ("ObjectNameAttributeFilterTest.emptyConfig", "excludeObjectNameAttributes: {}\nincludeObjectNameAttributes: {}\n"
     + PATTERN_VALUE,
     ["java_lang_ClassLoading_LoadedClassCount", "java_lang_ClassLoading_TotalLoadedClassCount",
      "java_lang_Memory_Verbose", "java_lang_OperatingSystem_ObjectName", "java_lang_OperatingSystem_ProcessCpuTime",
      "java_lang_Runtime_Uptime",
      "java_lang_Threading_PeakThreadCount", "java_lang_Threading_ThreadCount"]),
    ("ObjectNameAttributeFilterTest.AutoExcludeDisabledTests", "autoExcludeObjectNameAttributes: false\n"
     "excludeObjectNameAttributes: {}\nincludeObjectNameAttributes: {}\nrules: [{pattern: Uptime}]",
     ["java_lang_Runtime_Uptime"]),
])  # fmt: skip
def test_object_name_attribute_filter(java: str, text: str, exported: list[str]) -> None:
    assert sorted(name for name, _ in collected(text, FILTERED_BEANS)[0]) == exported


def test_a_malformed_object_name_in_an_attribute_filter_is_refused() -> None:
    # ObjectNameAttributeFilterTest.MalformedObjectNameTests.testCreateWithMalformedObjectNameThrowsRuntimeException
    with pytest.raises(ConfigError):
        config('excludeObjectNameAttributes:\n  "==invalid==":\n    - "Attr"\n')


# =================================================================================================================
# Integration tests (integration_test_suite, core/*): each test's exporter.yaml (the Standalone one, which scrapes the
# example application's JVM as this exporter scrapes a coordinator; the JavaAgent one where there is no other) against
# the example application's beans, with what the Java test asserts about the scraped series. Self metrics
# (jmx_exporter_build_info, jmx_config_*, jmx_scrape_*) and the agent's own jvm_* metrics are out of scope.
GIB = 1024**3
OBJECT_NAME = "javax.management.ObjectName"


def _disk_table(rows: list[tuple[str, str, int, int]]) -> Any:
    return tabular([{"source": fs, "target": mount, "size": size * GIB, "used": used * GIB,
                     "avail": (size - used) * GIB, "pcent": used / size} for fs, mount, size, used in rows],
                   index=("source",))  # fmt: skip


def _memory_usage(used: int) -> Any:
    return composite(committed=2 * used, init=used, max=-1, used=used)


def application_beans(counter: int = 0) -> list[MBean]:
    """The example application (JmxExampleApplication) with a few of its JVM's platform beans."""
    return [
        bean("io.prometheus.jmx:type=tabularData",
             attr("Server 1 Disk Usage Table", _disk_table([("/dev/sda1", "/home", 7, 6), ("/dev/sda2", "/", 14, 8)])),
             attr("Server 2 Disk Usage Table",
                  _disk_table([("/dev/sda1", "/home", 24, 13), ("/dev/sda2", "/", 100, 80)]))),
        bean("io.prometheus.jmx:type=autoIncrementing", attr("Value", counter, "int")),
        EXIST_DB,
        PERFORMANCE_METRICS,
        bean("io.prometheus.jmx:type=customValue", attr("Value", 345, "java.lang.Integer"),
             attr("Text", "value", "java.lang.String")),
        bean("io.prometheus.jmx:type=stringValue", attr("Text", "value", "java.lang.String")),
        bean("java.lang:type=Threading", attr("ThreadCount", 12, "int"), attr("TotalStartedThreadCount", 40, "long"),
             attr("PeakThreadCount", 15, "int"), attr("ObjectName", Unsupported("ObjectName"), OBJECT_NAME)),
        bean("java.lang:type=Memory", attr("HeapMemoryUsage", _memory_usage(50)),
             attr("NonHeapMemoryUsage", _memory_usage(30)), attr("Verbose", False),
             attr("ObjectPendingFinalizationCount", 0, "int"),
             attr("ObjectName", Unsupported("ObjectName"), OBJECT_NAME)),
        bean("java.lang:type=Runtime", attr("ClassPath", "/app.jar"), attr("Uptime", 1000, "long"),
             attr("SystemProperties", tabular([{"key": "java.version", "value": "17"}], index=("key",))),
             attr("ObjectName", Unsupported("ObjectName"), OBJECT_NAME)),
        bean("java.lang:type=OperatingSystem", attr("ProcessCpuTime", 1_230_000_000, "long"),
             attr("ObjectName", Unsupported("ObjectName"), OBJECT_NAME)),
        bean("java.lang:name=Metaspace,type=MemoryPool", attr("Usage", _memory_usage(20)),
             attr("ObjectName", Unsupported("ObjectName"), OBJECT_NAME)),
    ]


APP_SERIES = [  # what BasicTest and most of the others look for
    ("io_prometheus_jmx_tabularData_Server_1_Disk_Usage_Table_size", {"source": "/dev/sda1"}, 7.516192768e9),
    ("io_prometheus_jmx_tabularData_Server_2_Disk_Usage_Table_pcent", {"source": "/dev/sda2"}, 0.8),
    ("io_prometheus_jmx_test_PerformanceMetricsMBean_PerformanceMetrics_ActiveSessions", {}, 2.0),
    ("io_prometheus_jmx_test_PerformanceMetricsMBean_PerformanceMetrics_Bootstraps", {}, 4.0),
    ("io_prometheus_jmx_test_PerformanceMetricsMBean_PerformanceMetrics_BootstrapsDeferred", {}, 6.0),
]
ALL = "hostPort: application:9999\nrules:\n  - pattern: \".*\"\n"
Exposed = list[tuple[str, dict[str, str], Any]]


def _app_present(rows: Exposed, lower: bool = False) -> None:
    for name, labels, value in APP_SERIES:
        name = name.lower() if lower else name
        found = [(n, got, v) for n, got, v in rows if n == name and labels.items() <= got.items()]
        assert [v for _, _, v in found] == [value], (name, labels, found)


def _basic(rows: Exposed) -> None:  # BasicTest, ExcludeJvmMetricsTest, StartupDelayTest ...
    _app_present(rows)
    assert any(name.startswith("java_lang_") for name, _, _ in rows)
    keys = [(name, tuple(sorted(labels.items()))) for name, labels, _ in rows]
    assert len(keys) == len(set(keys))  # no series twice


def _no_java_lang(rows: Exposed) -> None:
    assert rows and not any(name.lower().startswith("java_lang") for name, _, _ in rows)


def _only_java_lang(rows: Exposed) -> None:  # the Standalone file of IncludeObjectNamesTest names java.lang only
    assert rows and all(name.startswith("java_lang") for name, _, _ in rows)


def _java_lang_or_application(rows: Exposed) -> None:
    assert all(name.startswith(("java_lang", "io_prometheus_jmx")) for name, _, _ in rows)
    assert {name.split("_")[0] + name.split("_")[1] for name, _, _ in rows} == {"javalang", "ioprometheus"}


def _composite_key(rows: Exposed) -> None:
    for n in (1, 2):
        assert ("org_exist_management_exist_ProcessReport_RunningQueries_id",
                {"key_id": str(n), "key_path": f"/db/query{n}.xq"}, float(n)) in rows


def _no_class_path_or_system_properties(rows: Exposed) -> None:
    assert rows and not any("_ClassPath" in name or "_SystemProperties" in name for name, _, _ in rows)


def _memory_attributes_excluded(rows: Exposed) -> None:
    _no_class_path_or_system_properties(rows)
    names = {name for name, _, _ in rows}
    assert "java_lang_Memory_HeapMemoryUsage_used" in names
    assert not {n for n in names if n.startswith(("java_lang_Memory_NonHeapMemoryUsage", "java_lang_Memory_Verbose",
                                                  "java_lang_Memory_ObjectPendingFinalizationCount"))}


def _threading_two(rows: Exposed) -> None:
    assert sorted(name for name, _, _ in rows) == ["java_lang_Threading_ThreadCount",
                                                   "java_lang_Threading_TotalStartedThreadCount"]


def _lower_names(rows: Exposed) -> None:
    assert rows and all(name == name.lower() for name, _, _ in rows)


def _lower_labels(rows: Exposed) -> None:
    assert rows and all(key == key.lower() for _, labels, _ in rows for key in labels)
    assert any(labels for _, labels, _ in rows)


def _lower_both(rows: Exposed) -> None:
    _lower_names(rows)
    _lower_labels(rows)
    _app_present(rows, lower=True)


def _text_label(rows: Exposed) -> None:
    assert [(n, labels) for n, labels, _ in rows] == [("io_prometheus_jmx_customValue_Value", {"Text": "value"})]


def _is_active(labels: dict[str, str]) -> Any:
    def check(rows: Exposed) -> None:
        assert rows == [("io_prometheus_jmx_stringValue_isActive", labels, 1.0)]
    return check


CUSTOMIZER = """
hostPort: application:9999
includeObjectNames: ["io.prometheus.jmx:type={type}"]
metricCustomizers:
  - mbeanFilter:
      domain: io.prometheus.jmx
      properties:
        type: {type}
{body}"""
IS_ACTIVE = """    extraMetrics:
      - name: isActive
        value: true
        description: This is a boolean value indicating if the scenario is still active or is completed.
"""
PLATFORM_BEANS = [
    "java.lang:name=Survivor Space,type=MemoryPool", "java.lang:type=OperatingSystem", "java.lang:type=Threading",
    "java.nio:name=direct,type=BufferPool", "java.lang:type=Compilation", "java.lang:name=Tenured Gen,type=MemoryPool",
    "java.lang:name=CodeCacheManager,type=MemoryManager", "java.util.logging:type=Logging",
    "java.lang:type=ClassLoading", "java.lang:name=Metaspace Manager,type=MemoryManager",
    "java.lang:name=Metaspace,type=MemoryPool", "java.lang:name=Eden Space,type=MemoryPool",
    "java.lang:name=CodeHeap 'profiled nmethods',type=MemoryPool", "java.lang:name=Copy,type=GarbageCollector",
    "java.lang:name=MarkSweepCompact,type=GarbageCollector",
    "java.nio:name=mapped - 'non-volatile memory',type=BufferPool",
    "java.lang:name=CodeHeap 'non-nmethods',type=MemoryPool", "java.lang:name=Compressed Class Space,type=MemoryPool",
    "java.nio:name=mapped,type=BufferPool",
]  # fmt: skip
# ExcludeObjectNameAttributesTest's file: every platform bean's ObjectName attribute, and three of Memory's, and
# Runtime's ClassPath and SystemProperties.
EXCLUDE_ATTRIBUTES = (
    'hostPort: application:9999\nexcludeObjectNames: ["java.lang:type=ObjectName"]\nexcludeObjectNameAttributes:\n'
    + "".join(f'  "{name}":\n    - "ObjectName"\n' for name in PLATFORM_BEANS)
    + '  "java.lang:type=Memory":\n    - "ObjectName"\n    - "NonHeapMemoryUsage"\n    - "Verbose"\n'
    '    - "ObjectPendingFinalizationCount"\n'
    '  "java.lang:name=CodeHeap \'non-profiled nmethods\',type=MemoryPool":\n    - "ObjectName"\n'
    '  "com.sun.management:type=HotSpotDiagnostic":\n    - "ObjectName"\n'
    '  "java.lang:type=Runtime":\n    - "ObjectName"\n    - "ClassPath"\n    - "SystemProperties"\n'
    'rules:\n  - pattern: ".*"\n'
)

INTEGRATION = [
    ("BasicTest", ALL, _basic),
    ("BasicIsolatorTest", ALL.replace("hostPort: application:9999\n", ""), _basic),  # its exporter.yaml
    ("BasicIsolatorTest (exporter3.yaml)", "lowercaseOutputName: true\nlowercaseOutputLabelNames: true\n"
     "rules:\n  - pattern: \".*\"\n", _lower_both),
    ("StartupDelayTest", "startDelaySeconds: 2\n" + ALL, _basic),
    ("StartupDelayIsolatorTest", "startDelaySeconds: 2\nrules:\n  - pattern: \".*\"\n", _basic),
    ("ExcludeJvmMetricsTest", "excludeJvmMetrics: true\nrules:\n  - pattern: \".*\"\n",
     lambda rows: (_app_present(rows), _no_java_lang(rows))),
    ("CompositeKeyDataTest", ALL, _composite_key),
    ("BlacklistObjectNamesTest", 'hostPort: application:9999\nblacklistObjectNames: ["java.lang:*"]\n'
     'rules:\n  - pattern: ".*"\n', _no_java_lang),
    ("ExcludeObjectNamesTest", 'hostPort: application:9999\nexcludeObjectNames: ["java.lang:*"]\n'
     'rules:\n  - pattern: ".*"\n', _no_java_lang),
    ("IncludeAndExcludeObjectNamesTest", 'hostPort: application:9999\nincludeObjectNames: ["java.lang:*", '
     '"io.prometheus.jmx:*"]\nexcludeObjectNames: ["java.lang:*"]\nrules:\n  - pattern: ".*"\n', _no_java_lang),
    ("WhitelistAndBlacklistObjectNamesTest", 'hostPort: application:9999\nwhitelistObjectNames: ["java.lang:*", '
     '"io.prometheus.jmx:*"]\nblacklistObjectNames: ["java.lang:*"]\nrules:\n  - pattern: ".*"\n', _no_java_lang),
    ("IncludeObjectNamesTest", 'hostPort: application:9999\nincludeObjectNames: ["java.lang:*"]\n'
     'rules:\n  - pattern: ".*"\n', _only_java_lang),
    ("IncludeObjectNamesTest (JavaAgent)", 'includeObjectNames: ["java.lang:*", "io.prometheus.jmx:*"]\n'
     'rules:\n  - pattern: ".*"\n', _java_lang_or_application),
    ("WhitelistObjectNamesTest", 'hostPort: application:9999\nwhitelistObjectNames: ["java.lang:*"]\n'
     'rules:\n  - pattern: ".*"\n', _only_java_lang),
    ("DisableAutoExcludeObjectNameAttributesTest", "hostPort: application:9999\n"
     "autoExcludeObjectNameAttributes: false\nrules:\n  - pattern: \".*\"\n", _no_class_path_or_system_properties),
    ("ExcludeObjectNameAttributesTest", EXCLUDE_ATTRIBUTES, _memory_attributes_excluded),
    ("IncludeObjectNameAttributesTest", 'hostPort: application:9999\nincludeObjectNames: ["java.lang:type=Threading"]\n'
     'includeObjectNameAttributes:\n  "java.lang:type=Threading":\n    - "ThreadCount"\n'
     '    - "TotalStartedThreadCount"\nrules:\n  - pattern: ".*"\n', _threading_two),
    ("LowerCaseOutputNamesTest", "hostPort: application:9999\nlowercaseOutputName: true\n"
     "rules:\n  - pattern: \".*\"\n", _lower_names),
    ("LowerCaseOutputLabelNamesTest", "hostPort: application:9999\nlowercaseOutputLabelNames: true\n"
     "rules:\n  - pattern: \".*\"\n", _lower_labels),
    ("LowerCaseOutputAndLabelNamesTest", "hostPort: application:9999\nlowercaseOutputName: true\n"
     "lowercaseOutputLabelNames: true\nrules:\n  - pattern: \".*\"\n", _lower_both),
    ("MetricCustomizersTest", CUSTOMIZER.format(type="customValue", body="    attributesAsLabels:\n      - Text\n"),
     _text_label),
    ("MetricCustomizersExtraMetricsTest", CUSTOMIZER.format(type="stringValue", body=IS_ACTIVE), _is_active({})),
    ("MetricCustomizersAttributesAsLabelsExtraMetricsTest",
     CUSTOMIZER.format(type="stringValue", body="    attributesAsLabels:\n      - Text\n" + IS_ACTIVE),
     _is_active({"Text": "value"})),
    ("OptionalValueMBeanTest (exporter.yaml only, no Java test at 1.6.0)", ALL, _basic),
]
RECORDS_ONLY = {"CompositeKeyDataTest": "the index column is CompositeData, which airlift's JSON does not mark"}


@pytest.mark.parametrize("mode", ["records", "dump"])
@pytest.mark.parametrize(("java", "text", "check_rows"), INTEGRATION, ids=[row[0] for row in INTEGRATION])
def test_integration_golden(java: str, text: str, check_rows: Any, mode: str, tmp_path: Path) -> None:
    beans = application_beans()
    rows = exposed(text, beans if mode == "records" else _through_dump(beans, tmp_path))
    if mode == "dump" and java in RECORDS_ONLY:
        # A documented difference (docs/configuration.md): over a dump the series differ from jmx_exporter's. Should
        # a dump ever carry what is missing, this fails and the row joins the others.
        with pytest.raises(AssertionError):
            check_rows(rows)
        return
    check_rows(rows)


@pytest.mark.parametrize("mode", ["records", "dump"])
def test_integration_auto_incrementing_value_counts_up_one_per_scrape(mode: str, tmp_path: Path) -> None:
    # AutoIncrementingMBeanTest: three scrapes, each value the one before plus one; the application series as BasicTest
    engine = RuleEngine(config(ALL))
    values = []
    for n in range(3):
        beans = application_beans(counter=n)
        if mode == "dump":
            (tmp_path / str(n)).mkdir()
            beans = _through_dump(beans, tmp_path / str(n))
        samples = engine.evaluate(beans)
        values += [s.value for s in samples if s.name.startswith("io_prometheus_jmx_autoIncrementing")]
        _basic(exposed(ALL, beans))
    assert values == [0.0, 1.0, 2.0]


def test_integration_tables_over_a_dump_carry_every_string_column_as_a_label(tmp_path: Path) -> None:
    # The documented difference: airlift's JSON does not say which TabularData columns are the index, so every
    # string column but "value" is taken as one. The Java tests look for source=...; over JMX that is the only label.
    name = "io_prometheus_jmx_tabularData_Server_2_Disk_Usage_Table_pcent"
    over_jmx = [labels for n, labels, _ in exposed(ALL, application_beans()) if n == name]
    over_rest = [labels for n, labels, _ in exposed(ALL, _through_dump(application_beans(), tmp_path)) if n == name]
    assert sorted(over_jmx, key=str) == [{"source": "/dev/sda1"}, {"source": "/dev/sda2"}]
    assert sorted(over_rest, key=str) == [{"source": "/dev/sda1", "target": "/home"},
                                          {"source": "/dev/sda2", "target": "/"}]


# --- the same integration files against a real JVM, over JMX and over REST --------------------------------------
# A fixture coordinator's JVM has the platform beans these tests are about (java.lang:*, Runtime's ClassPath and
# SystemProperties, Memory's usages); the example application's own beans are not there, so only the checks that are
# about platform beans run here. Values move between two reads, so each source is checked on its own.
OVER_A_JVM = {
    "IncludeObjectNameAttributesTest": _threading_two,
    "ExcludeObjectNameAttributesTest": _memory_attributes_excluded,
    "DisableAutoExcludeObjectNameAttributesTest": _no_class_path_or_system_properties,
    "WhitelistObjectNamesTest": _only_java_lang,
    "ExcludeObjectNamesTest": _no_java_lang,
    "LowerCaseOutputAndLabelNamesTest": lambda rows: (_lower_names(rows), _lower_labels(rows)),
}
SELF_METRICS = ("jmx_", "presto_jmx_exporter_")


def _scraped_rows(exposition: str) -> Exposed:
    return [(name, dict(labels), value) for (name, labels), value in parse(exposition).items()
            if not name.startswith(SELF_METRICS)]  # fmt: skip


@pytest.mark.jvm
@pytest.mark.parametrize("java", sorted(OVER_A_JVM))
def test_integration_files_over_jmx_and_rest(
    java: str, trino_coordinator: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = next(t for name, t, _ in INTEGRATION if name == java).replace("hostPort: application:9999\n", "")
    path = tmp_path / "exporter.yaml"
    path.write_text(text)
    capsys.readouterr()
    assert main(["scrape", "--config", str(path), "--target", trino_coordinator.http_url]) == 0
    rest = capsys.readouterr().out
    done = subprocess.run(  # JPype starts its JVM for good: the JMX source runs in a child process
        [sys.executable, "-m", "exporter", "scrape", "--config", str(path), "--target", trino_coordinator.jmx_url],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], timeout=120,
        stdin=subprocess.DEVNULL, env={**{k: v for k, v in os.environ.items() if not k.startswith("PJE_")},
                                       "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for exposition in (rest, done.stdout):
        assert "jmx_scrape_error 0.0" in exposition
        OVER_A_JVM[java](_scraped_rows(exposition))


# --- JmxScraperTest: a JMX server that answers badly, scraped over JMX -------------------------------------------
# The Java tests hand the scraper a mocked connection; here a real JMX server (tests/helpers/misbehaving_jmx.py) gives
# the same answers over RMI, and the exporter scrapes it in the same child process. Each bean misbehaves one way; the
# Java test expects that bean to give what is listed (often nothing) while the scrape succeeds and the other beans
# are exported.
ERROR_PATH = SCRAPER + "ScrapeBeanErrorPathTests."
MISBEHAVING = [
    (ERROR_PATH + "scrapeBeanWithJMExceptionFromGetMBeanInfoDoesNotThrow", "Gone", {}),
    (ERROR_PATH + "scrapeBeanWithNonReadableAttributeSkipsIt", "NonReadable", {}),
    (ERROR_PATH + "scrapeBeanWithNullAttributesReturnsGracefully", "NullList", {}),
    (ERROR_PATH + "scrapeBeanWithGetAttributesExceptionFallsBackToOneByOne", "BulkFails", {"Attr1": 5.0}),
    (ERROR_PATH + "scrapeBeanWithNullElementInAttributeListSkipsIt", "NullElement", {}),
    (ERROR_PATH + "scrapeBeanWithNonAttributeElementInAttributeListSkipsIt", "NotAnAttribute", {}),
    (ERROR_PATH + "processAttributesOneByOneSkipsFailedAttributes", "OneFails", {"GoodAttr": 8.0}),
    # The IOException reaches the client wrapped (an MBeanServer's getMBeanInfo cannot throw one): either way the
    # bean is left out.
    (SCRAPER + "ErrorHandlingTests.scrapeBeanHandlesIOExceptionGracefully", "InfoFails", {}),
    (SCRAPER + "ErrorHandlingTests.scrapeBeanHandlesRuntimeMBeanExceptionGracefully", "NoAttributes", {}),
]


MISBEHAVING_CONFIG = """
metricCustomizers:
  - mbeanFilter: {domain: test.domain, properties: {type: FallbackCustomized}}
    attributesAsLabels: [Count]
    extraMetrics: [{name: isRead, value: 1}]
rules:
  - pattern: '.*'
"""
# Where we differ on purpose over JMX: the Java test, the bean, our series (labels included), jmx_exporter's, and why.
DIFFERENT_OVER_JMX = [
    (ERROR_PATH + "processAttributesOneByOneSkipsFailedAttributes (its fallback, on a customized bean)",
     "test_domain_FallbackCustomized_",
     {("Count", (("Count", "10"),)): 10.0, ("isRead", (("Count", "10"),)): 1.0}, {("Count", ()): 10.0},
     "a bean's customizer applies however its attributes were read (jmx_exporter's one-by-one fallback drops it)"),
    (ERROR_PATH + "processAttributesOneByOneSkipsFailedAttributes (its fallback, on java.lang:type=Runtime)",
     "java_lang_Runtime_", {("Uptime", ()): 11.0}, {("Uptime", ()): 11.0, ("ClassPath", ()): 12.0},
     "Runtime's ClassPath and SystemProperties are skipped however the bean was read (jmx_exporter's fallback "
     "exports them)"),
]  # fmt: skip


@pytest.fixture(scope="module")
def misbehaving_scrape(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    require_jvm()
    path = tmp_path_factory.mktemp("misbehaving") / "exporter.yaml"
    path.write_text(MISBEHAVING_CONFIG)
    return run_helper("tests.helpers.misbehaving_jmx", str(path))


@pytest.mark.jvm
@pytest.mark.parametrize(("java", "kind", "series"), MISBEHAVING, ids=[row[0] for row in MISBEHAVING])
def test_a_misbehaving_jmx_server_costs_only_the_bean_concerned(
    java: str, kind: str, series: dict[str, float], misbehaving_scrape: subprocess.CompletedProcess[str]
) -> None:
    exposition = parse(misbehaving_scrape.stdout)
    assert exposition[("jmx_scrape_error", ())] == 0.0, misbehaving_scrape.stderr
    assert exposition[("test_domain_Healthy_Count", ())] == 1.0  # the well-behaved bean is exported
    prefix = f"test_domain_{kind}_"
    got = {name.removeprefix(prefix): value for (name, _), value in exposition.items() if name.startswith(prefix)}
    assert got == series


@pytest.mark.jvm
@pytest.mark.parametrize(("java", "prefix", "ours", "theirs", "why"), DIFFERENT_OVER_JMX,
                         ids=[row[0] for row in DIFFERENT_OVER_JMX])  # fmt: skip
def test_where_we_differ_on_purpose_over_jmx(
    java: str, prefix: str, ours: dict[Any, float], theirs: dict[Any, float], why: str,
    misbehaving_scrape: subprocess.CompletedProcess[str],
) -> None:  # fmt: skip
    exposition = parse(misbehaving_scrape.stdout)
    got = {(name.removeprefix(prefix), labels): value for (name, labels), value in exposition.items()
           if name.startswith(prefix)}  # fmt: skip
    assert got == ours, why
    assert got != theirs


@pytest.mark.jvm
def test_a_failing_getter_is_left_out_over_rest(trino_coordinator: Any, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    # JmxScraperTest.ScrapeBeanErrorPathTests.processAttributesOneByOneSkipsFailedAttributes over REST: airlift's
    # JSON leaves out the attribute whose getter throws (the fixture's Samples bean has one), the rest is exported.
    path = tmp_path / "exporter.yaml"
    path.write_text("includeObjectNames: ['trino.fixture:type=OpenTypes,name=Samples']\nrules:\n  - pattern: '.*'\n")
    capsys.readouterr()
    assert main(["scrape", "--config", str(path), "--target", trino_coordinator.http_url]) == 0
    names = {name for name, _ in parse(capsys.readouterr().out)}
    assert "trino_fixture_OpenTypes_Capacity" in names
    assert not [name for name in names if "Broken" in name]


# --- MatchedRulesCacheTest: a cache: true verdict is kept while its record is seen, and dropped once it is not ----
# What a kept verdict shows: its HELP, made from the attribute's description when the verdict was made. X comes back
# with another description; the help says whether the old verdict was still kept. The counts are what
# jmx_scrape_cached_beans reports after each scrape.
CACHED_COUNT = "rules:\n- pattern: 'test.domain<type=(\\w+)><>Count'\n  name: count_$1\n  cache: true"
X_FIRST = bean("test.domain:type=X", attr("Count", 1, "int", "first"))
X_SECOND = bean("test.domain:type=X", attr("Count", 3, "int", "second"))
Y = bean("test.domain:type=Y", attr("Count", 2, "int", "why"))
Z = bean("test.domain:type=Z", attr("Count", 4, "int", "zed"))
CACHE_SCRAPES = [
    (CACHE + "MatchedRulesCacheTests.getReturnsNullForMissingKey", [[X_FIRST]], "first", [1]),
    (CACHE + "MatchedRulesCacheTests.putAndGetReturnsSameRule", [[X_FIRST], [X_SECOND]], "first", [1, 1]),
    (CACHE + "MatchedRulesCacheTests.evictStaleEntriesRemovesStaleEntries", [[X_FIRST, Y], [Y], [X_SECOND, Y]],
     "second", [2, 1, 2]),
    (CACHE + "MatchedRulesCacheTests.evictStaleEntriesKeepsFreshEntries", [[X_FIRST, Y], [X_SECOND, Y]], "first",
     [2, 2]),
    (CACHE + "MatchedRulesCacheTests.evictStaleEntriesWithEmptyCache", [[], [X_FIRST]], "first", [0, 1]),
    (CACHE + "MatchedRulesCacheTests.evictStaleEntriesWithEmptyTracker", [[X_FIRST], [], [X_SECOND]], "second",
     [1, 0, 1]),
    (CACHE + "MatchedRulesCacheTests.multiplePutsOverwritePreviousValue", [[X_FIRST], [], [X_SECOND], [X_FIRST]],
     "second", [1, 0, 1, 1]),
    (CACHE + "StalenessTrackerTests.freshCountReturnsCorrectCount", [[X_FIRST, Y, Z]], "first", [3]),
    (CACHE + "StalenessTrackerTests.freshCountReturnsZeroForEmptyTracker", [[]], None, [0]),
]  # fmt: skip


@pytest.mark.parametrize("mode", ["records", "dump"])
@pytest.mark.parametrize(("java", "scrapes", "help_from", "counts"), CACHE_SCRAPES,
                         ids=[row[0] for row in CACHE_SCRAPES])  # fmt: skip
def test_a_cached_verdict_lasts_while_its_record_is_seen(
    java: str, scrapes: list[list[MBean]], help_from: str | None, counts: list[int], mode: str, tmp_path: Path
) -> None:
    engine = RuleEngine(config(CACHED_COUNT))
    helps: dict[str, str] = {}
    cached = []
    for n, beans in enumerate(scrapes):
        if mode == "dump":
            (tmp_path / str(n)).mkdir()
            beans = _through_dump(beans, tmp_path / str(n))
        helps = {family.name: family.help for family in build_families(engine.collect(beans).samples())}
        cached.append(engine.cached_beans())
    assert cached == counts
    if help_from is None:
        assert "count_X" not in helps
    else:
        assert helps["count_X"].split(" ")[0] == help_from


@pytest.mark.parametrize("mode", ["records", "dump"])
@pytest.mark.parametrize("rule", [
    "rules:\n- pattern: 'test.domain<type=(\\w+)><>Count'\n  name: count_$1",  # value-blind: remembered by name
    "rules:\n- pattern: 'test.domain<type=(\\w+)><>Count: (\\d)'\n  name: count_$1\n  labels: {digit: $2}",
], ids=["value-blind", "value-dependent"])  # fmt: skip
@pytest.mark.parametrize("scrapes", [[[X_FIRST], [X_SECOND]], [[X_FIRST], [], [X_SECOND]]],
                         ids=["seen-throughout", "gone-and-back"])  # fmt: skip
def test_without_cache_a_verdict_is_made_afresh_every_scrape(
    rule: str, scrapes: list[list[MBean]], mode: str, tmp_path: Path
) -> None:
    # Without cache: true jmx_exporter runs the rules on every scrape; the engine's verdict memo must not show.
    engine = RuleEngine(config(rule))
    for n, beans in enumerate(scrapes):
        if mode == "dump":
            (tmp_path / str(n)).mkdir()
            beans = _through_dump(beans, tmp_path / str(n))
        families = build_families(engine.collect(beans).samples())
    assert [(family.name, family.help.split(" ")[0]) for family in families] == [("count_X", "second")]
    assert engine.cached_beans() == 0


# --- BuildInfoMetricsTest: one jmx_exporter_build_info sample, labelled with the program's name and version -------
# jmx_exporter registers it as a client_java Info (an InfoSnapshot named jmx_exporter_build) labelled with its jar's
# title (jmx_prometheus_javaagent or _standalone) and version; this program's are its own. client_java writes an Info
# as a gauge in the text format (the integration tests read it as one in every format) and as an info family in
# OpenMetrics, its one sample valued 1.
BUILD_INFO_LABELS = (("name", "presto-jmx-exporter"), ("version", __version__))


@pytest.mark.parametrize(("openmetrics", "head"), [
    (False, "# HELP jmx_exporter_build_info JMX Exporter build information\n# TYPE jmx_exporter_build_info gauge\n"),
    (True, "# TYPE jmx_exporter_build info\n# HELP jmx_exporter_build JMX Exporter build information\n"),
], ids=["text", "openmetrics"])
def test_the_build_info_names_this_program_and_its_version(
    openmetrics: bool, head: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dump = tmp_path / "dump.json"
    dump.write_text(write_dump([OPERATING_SYSTEM]))
    path = tmp_path / "config.yaml"
    path.write_text("---")
    capsys.readouterr()
    assert main(["scrape", "--config", str(path), "--target", str(dump), *(["--openmetrics"] * openmetrics)]) == 0
    exposition = capsys.readouterr().out
    info = [(name, labels, value) for (name, labels), value in parse(exposition, openmetrics).items()
            if name.startswith("jmx_exporter_b")]  # fmt: skip
    assert info == [("jmx_exporter_build_info", BUILD_INFO_LABELS, 1.0)]
    sample = f'jmx_exporter_build_info{{name="presto-jmx-exporter",version="{__version__}"}} 1\n'
    assert "\n" + head + sample in exposition


def test_a_rule_cannot_make_a_second_build_info_family(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A rule named jmx_exporter_build_info is named jmx_exporter_build once _info is dropped: the OpenMetrics name of
    # the build info. jmx_exporter's registry refuses two metrics of one name but different types; here the rule's
    # samples are left out, as for every self metric's name.
    dump = tmp_path / "dump.json"
    dump.write_text(write_dump([OPERATING_SYSTEM]))
    path = tmp_path / "config.yaml"
    path.write_text("rules:\n- pattern: '.*'\n  name: jmx_exporter_build_info\n  type: GAUGE\n")
    for openmetrics in (False, True):
        capsys.readouterr()
        assert main(["scrape", "--config", str(path), "--target", str(dump), *(["--openmetrics"] * openmetrics)]) == 0
        series = [(name, labels) for name, labels in parse(capsys.readouterr().out, openmetrics)
                  if name.startswith("jmx_exporter_b")]  # fmt: skip
        assert series == [("jmx_exporter_build_info", BUILD_INFO_LABELS)]


# --- JmxMBeanPropertyCacheTest: key properties of an ObjectName, raw and in registration order --------------------
@pytest.mark.parametrize(("java", "name", "properties"), [
    ("testSingleObjectName", "com.organisation:name=value", [("name", "value")]),
    ("testSimpleObjectName", "com.organisation:name=value,name2=value2", [("name", "value"), ("name2", "value2")]),
    ("testQuotedObjectName", 'com.organisation:name=value,name2="value2"', [("name", "value"), ("name2", '"value2"')]),
    ("testQuotedObjectNameWithComma", 'com.organisation:name="value,more",name2=value2',
     [("name", '"value,more"'), ("name2", "value2")]),
    ("testQuotedObjectNameWithEquals", 'com.organisation:name="value=more",name2=value2',
     [("name", '"value=more"'), ("name2", "value2")]),
    ("testQuotedObjectNameWithQuote", 'com.organisation:name="value\\"more",name2=value2',
     [("name", '"value\\"more"'), ("name2", "value2")]),
    ("testQuotedObjectNameWithBackslash", 'com.organisation:name="value\\\\more",name2=value2',
     [("name", '"value\\\\more"'), ("name2", "value2")]),
    ("testQuotedObjectNameWithMultipleQuoted", 'com.organisation:name="value\\\\\\?\\*\\n\\",:=more",name2= value2 ',
     [("name", '"value\\\\\\?\\*\\n\\",:=more"'), ("name2", " value2 ")]),
    ("testIssue52", 'org.apache.camel:context=ourinternalname,type=endpoints,'
     'name="seda://endpointName\\?concurrentConsumers=8&size=50000"',
     [("context", "ourinternalname"), ("type", "endpoints"),
      ("name", '"seda://endpointName\\?concurrentConsumers=8&size=50000"')]),
    ("testEmptyValue", "com.organisation:name=", [("name", "")]),
])  # fmt: skip
def test_key_properties_of_an_object_name(java: str, name: str, properties: list[tuple[str, str]]) -> None:
    domain, parsed = parse_object_name(name)
    assert (domain, list(parsed)) == (name.split(":", 1)[0], properties)
