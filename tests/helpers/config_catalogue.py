"""The configuration files in tests/testdata/config/: the bad ones (``invalid-*``), each with its exact error
message, the ones jmx_exporter loads that deserve a warning (``warn-*``), each with its exact warnings, and the
environment they are loaded with."""

from __future__ import annotations

from pathlib import Path

TESTDATA = Path(__file__).parent.parent / "testdata" / "config"
ENV = {"PJE_TEST_EMPTY_PASSWORD": "  ", "PJE_TEST_USER": " monitor ", "PJE_TEST_PASSWORD": "s3cret"}

# One row per place that raises ConfigError (each refused by jmx_exporter 1.6 too, unless docs/configuration.md says
# otherwise); "{file}" stands for the path given to load_config.
INVALID = {
    # a secret that is not a string must not be echoed back in the message
    "invalid-password-number.yml":
        "{file}:1: password: expected a string, got a number (quote it; the value is not shown)",
    "invalid-control-character.yml":
        "{file}:2: invalid YAML: special characters are not allowed (character #x0007)",
    "invalid-yaml-syntax.yml":
        "{file}:4: invalid YAML: found unexpected end of stream (while scanning a quoted scalar that starts on line 2)",
    "invalid-top-level-list.yml": "{file}:1: expected a mapping of configuration keys at the top level, got a list",
    "invalid-nonstring-key.yml": "{file}:2: keys must be strings, got the number 1",
    "invalid-unknown-top-key.yml":
        "{file}:1: lowercaseOutputNames: unknown key 'lowercaseOutputNames' (did you mean 'lowercaseOutputName'?)",
    "invalid-unknown-top-key-case.yml": "{file}:1: Rules: unknown key 'Rules' (did you mean 'rules'?)",
    "invalid-boolean.yml": "{file}:1: lowercaseOutputName: expected true or false, got the string 'yes please'",
    "invalid-start-delay.yml":
        "{file}:1: startDelaySeconds: expected a whole number of seconds >= 0, got the number -5",
    "invalid-hostport-and-jmxurl.yml": "{file}:2: jmxUrl: give either hostPort or jmxUrl, not both",
    "invalid-jmxurl.yml": "{file}:1: jmxUrl: expected a string, got the number 9080 (quote it: '9080')",
    "invalid-env-empty-name.yml": "{file}:1: username: invalid environment variable name in '${ }'",
    "invalid-env-unset.yml": "{file}:1: password: environment variable 'PJE_TEST_UNSET_PASSWORD' is not set",
    "invalid-env-empty-value.yml": "{file}:1: password: environment variable 'PJE_TEST_EMPTY_PASSWORD' is empty",
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
    "invalid-pattern-regex.yml":
        "{file}:2: rules[0].pattern: invalid regular expression 'kafka.server<type=(.+), name=(.+><>Count': "
        "Unclosed group",
    "invalid-pattern-escape.yml":
        "{file}:2: rules[0].pattern: invalid regular expression '\\y<type=Memory>': Illegal/unsupported escape "
        "sequence at index 1",
    "invalid-pattern-repetition.yml":
        "{file}:2: rules[0].pattern: invalid regular expression 'x{a}': Illegal repetition at index 1",
    "invalid-value-factor.yml": "{file}:4: rules[0].valueFactor: expected a number, got the string '1/1000'",
    "invalid-cache.yml": "{file}:3: rules[0].cache: expected true or false, got the number 1",
    "invalid-customizers-null.yml":
        "{file}:1: metricCustomizers: expected a list of metric customizers, got nothing (null)",
    "invalid-customizers-not-list.yml":
        "{file}:2: metricCustomizers: expected a list of metric customizers, got a mapping",
    "invalid-customizer-no-filter.yml":
        "{file}:2: metricCustomizers[0]: a metric customizer needs an mbeanFilter (a mapping with a domain and "
        "optional properties)",
    "invalid-customizer-no-domain.yml":
        "{file}:3: metricCustomizers[0].mbeanFilter: needs a domain (the domain of the MBeans to customize, e.g. "
        "trino.execution)",
    "invalid-customizer-domain-number.yml":
        "{file}:2: metricCustomizers[0].mbeanFilter.domain: expected a string, got the number 42 (quote it: '42')",
    "invalid-customizer-nothing.yml":
        "{file}:2: metricCustomizers[0]: a metric customizer needs attributesAsLabels or extraMetrics (or both)",
    "invalid-customizer-unknown-key.yml":
        "{file}:3: metricCustomizers[0]: unknown key 'attributesAsLabel' (did you mean 'attributesAsLabels'?)",
    "invalid-customizer-labels-not-list.yml":
        "{file}:3: metricCustomizers[0].attributesAsLabels: expected a list of attribute names, got the string 'Text'",
    "invalid-extra-metric-no-name.yml": "{file}:7: metricCustomizers[0].extraMetrics[0]: an extra metric needs a name",
    "invalid-extra-metric-no-value.yml":
        "{file}:7: metricCustomizers[0].extraMetrics[0]: an extra metric needs a value",
    "invalid-extra-metric-description.yml":
        "{file}:4: metricCustomizers[0].extraMetrics[0].description: expected a string, got the number 7 (quote it: "
        "'7')",
    "invalid-scrape-timeout-zero.yml":
        "{file}:1: scrapeTimeoutSeconds: expected a whole number of seconds >= 1, got the number 0",
    "invalid-scrape-timeout-string.yml":
        "{file}:1: scrapeTimeoutSeconds: expected a whole number of seconds >= 1, got the string '10s'",
    "invalid-ssl-enabled.yml": "{file}:2: ssl.enabled: expected true or false, got the string 'maybe'",
    "invalid-ssl-store-password.yml": "{file}:5: ssl.trustStore.password: expected a string, got nothing (null)",
    "invalid-ssl-unknown-key.yml": "{file}:3: ssl: unknown key 'keystore' (did you mean 'keyStore'?)",
    "invalid-type-number.yml": "{file}:4: rules[0].type: type must be GAUGE, COUNTER or UNTYPED, not the number 5",
    "invalid-label-names-mixed.yml": "{file}:5: rules[0].labels: label names of different types (quote them all)",
    # passthrough is this exporter's own key (jmx_exporter ignores it): docs/configuration.md
    "invalid-passthrough-null.yml":
        "{file}:1: passthrough: expected a mapping with names (the target's metric names to re-serve), got nothing "
        "(null)",
    "invalid-passthrough-unknown-key.yml": "{file}:2: passthrough: unknown key 'nmes' (did you mean 'names'?)",
    "invalid-passthrough-no-names.yml":
        "{file}:2: passthrough: needs names: the target's metric names to re-serve ('*' for every one)",
    "invalid-passthrough-names-not-list.yml":
        "{file}:2: passthrough.names: expected a list of metric names, got the string "
        "'trino_execution_name_QueryManager_RunningQueries'",
    "invalid-passthrough-names-empty.yml":
        "{file}:2: passthrough.names: is empty, which would re-serve nothing: list the target's metric names ('*' for "
        "every one)",
    "invalid-passthrough-name-not-string.yml": "{file}:4: passthrough.names[1]: expected a string, got a mapping",
    "invalid-passthrough-name-not-metric.yml":
        "{file}:4: passthrough.names[1]: 'trino.execution:name=QueryManager' is not a metric name: letters, digits, "
        "'_' and ':' (not first a digit), with '*' for any run of them",
}

# Files that load (jmx_exporter 1.6 loads them), each with its exact warnings.
WARNED = {
    "warn-attribute-number.yml": (
        '{file}:2: includeObjectNameAttributes["a:type=T"][1]: is the number 7, not an attribute name: jmx_exporter '
        "compares it with attribute names, so it selects none (quote it)",
    ),
    "warn-blacklist-and-exclude.yml": (
        "{file}:2: blacklistObjectNames: is ignored: excludeObjectNames is given too, and jmx_exporter then reads "
        "only excludeObjectNames (blacklistObjectNames is its old name)",
    ),
    "warn-customizer-properties-null.yml": (
        "{file}:4: metricCustomizers[0].mbeanFilter.properties: is empty: jmx_exporter loads this but fails every "
        "scrape that meets an MBean of the domain io.prometheus.jmx; leave 'properties' out to select all of them",
    ),
    "warn-customizer-property-number.yml": (
        "{file}:4: metricCustomizers[0].mbeanFilter.properties.id: is the number 1, not a string: jmx_exporter "
        "compares it with the MBean's key property, so it matches no MBean (quote it)",
        "{file}:5: metricCustomizers[0].attributesAsLabels[1]: is the number 7, not an attribute name: jmx_exporter "
        "loads this but fails every scrape that meets an MBean this customizer selects (quote it)",
    ),
    "warn-document-marker.yml": (
        "{file}: the file is empty: every MBean is exported in the default format, as jmx_exporter's collector reads "
        "an empty file (its agent and standalone server refuse one)",
    ),
    "warn-duplicate-key.yml": (
        "{file}:4: rules[0].name: key 'name' appears twice; the last one is used, as jmx_exporter does",
    ),
    "warn-empty.yml": (
        "{file}: the file is empty: every MBean is exported in the default format, as jmx_exporter's collector reads "
        "an empty file (its agent and standalone server refuse one)",
    ),
    "warn-exclude-jvm-include.yml": (
        "{file}:3: includeObjectNames[0]: 'java.lang:type=Threading' selects JVM beans, which excludeJvmMetrics: "
        "true excludes: they export nothing, as in jmx_exporter 1.6 (its next release exports JVM beans an include "
        "pattern names)",
    ),
    "warn-exclude-jvm-null.yml": (
        "{file}:1: excludeJvmMetrics: is empty: read as false, as jmx_exporter reads it",
    ),
    "warn-extra-metric-string.yml": (
        "{file}:4: metricCustomizers[0].extraMetrics[0].value: is the string '1.5': jmx_exporter exports an extra "
        "metric's number or boolean; a string only through a rule with a value, anything else never",
    ),
    "warn-help-escape.yml": (
        "{file}:4: rules[0].help: bad replacement 'ends with \\': character to be escaped is missing (a trailing "
        "'\\'); jmx_exporter loads this but fails every scrape in which the rule matches",
    ),
    "warn-help-null.yml": (
        "{file}:2: rules[0].help: is empty: the default HELP is used, as in jmx_exporter",
    ),
    "warn-hostport-empty.yml": (
        "{file}:1: hostPort: expected host:port, got the string ''; jmx_exporter would connect to "
        "service:jmx:rmi:///jndi/rmi:///jmxrmi",
    ),
    "warn-hostport.yml": (
        "{file}:1: hostPort: expected host:port, got a list; jmx_exporter would connect to "
        "service:jmx:rmi:///jndi/rmi://[localhost, 9080]/jmxrmi",
    ),
    "warn-http-server.yml": (
        "{file}:1: httpServer: jmx_exporter's 'httpServer' is not used: configure the listener on the command line",
    ),
    "warn-include-and-whitelist.yml": (
        "{file}:2: whitelistObjectNames: is ignored: includeObjectNames is given too, and jmx_exporter then reads "
        "only includeObjectNames (whitelistObjectNames is its old name)",
    ),
    "warn-include-empty.yml": (
        "{file}:1: includeObjectNames: an empty list selects no MBean, so nothing is exported (as in jmx_exporter); "
        "leave the key out for every MBean",
    ),
    "warn-label-dollar.yml": (
        "{file}:5: rules[0].labels.price: bad replacement '5$': illegal group reference: '$' at the end (write '\\$' "
        "for a dollar sign); jmx_exporter loads this but fails every scrape in which the rule matches",
    ),
    "warn-label-name-number.yml": (
        '{file}:5: rules[0].labels["200"]: the label name the number 200 is not a string; jmx_exporter loads this '
        "but fails every scrape in which the rule matches (quote it)",
    ),
    "warn-label-value-null.yml": (
        "{file}:5: rules[0].labels.kind: the label value is empty (null); jmx_exporter loads this but fails every "
        "scrape in which the rule matches (write '' for an empty value)",
    ),
    "warn-name-group.yml": (
        "{file}:3: rules[0].name: bad replacement 'jvm_$1_$3': no group 3 (the pattern has 2 capturing groups); "
        "jmx_exporter loads this but fails every scrape in which the rule matches",
    ),
    "warn-name-named-group.yml": (
        "{file}:3: rules[0].name: bad replacement 'jvm_${kind}': no group with name {kind} (the pattern's named "
        "groups: type); jmx_exporter loads this but fails every scrape in which the rule matches",
    ),
    "warn-name-null.yml": (
        "{file}:3: rules[0].name: is empty: the rule exports in the default format, as in jmx_exporter",
    ),
    "warn-not-utf8.yml": (
        "{file}:2: not UTF-8 text (byte 19 is 0xff): read with U+FFFD in place of each byte that is not, as "
        "jmx_exporter reads it",
    ),
    "warn-pattern-empty.yml": (
        "{file}:2: rules[0].pattern: the pattern is empty: it matches everything (leave 'pattern' out to say so)",
    ),
    "warn-pattern-list.yml": (
        "{file}:2: rules[0].pattern: is a list, read as the regular expression '[a, b]', as jmx_exporter reads it "
        "(quote the pattern)",
    ),
    "warn-pattern-null.yml": (
        "{file}:2: rules[0].pattern: is empty (null): jmx_exporter reads it as the regular expression 'null', which "
        "matches only strings that contain 'null'; leave 'pattern' out to match everything",
    ),
    "warn-ssl-map-enabled.yml": (
        "{file}:3: ssl.ciphers: is not read here: give the embedded JVM -Dhttps.cipherSuites=... with --jvm-option",
    ),
    "warn-ssl-map.yml": (
        "{file}:1: ssl: the mapping does not say 'enabled: true', so the connection is not TLS (as in jmx_exporter)",
        "{file}:2: ssl.keyStore: is not read here: give the embedded JVM -Djavax.net.ssl.keyStore=<file> (and "
        "-Djavax.net.ssl.keyStorePassword, -Djavax.net.ssl.keyStoreType) with --jvm-option",
        "{file}:5: ssl.protocols: is not read here: give the embedded JVM -Djdk.tls.client.protocols=... with "
        "--jvm-option",
    ),
    "warn-ssl.yml": (
        "{file}:1: ssl: expected true, false or a mapping, got the string 'on'; jmx_exporter ignores it, so the "
        "connection is not TLS",
    ),
    "warn-type-lowercase.yml": (
        "{file}:4: rules[0].type: type must be GAUGE, COUNTER or UNTYPED, not 'counter': jmx_exporter exports the "
        "samples as untyped; write it in upper case: COUNTER",
    ),
    "warn-type-null.yml": (
        "{file}:3: rules[0].type: is empty: read as UNTYPED (jmx_exporter 1.6 fails every scrape in which this rule "
        "exports a sample)",
    ),
    "warn-type.yml": (
        "{file}:4: rules[0].type: type must be GAUGE, COUNTER or UNTYPED, not 'HISTOGRAM': jmx_exporter exports the "
        "samples as untyped",
    ),
    "warn-username-null.yml": (
        "{file}:1: username: is empty: no username, as jmx_exporter reads it",
        "{file}:2: password: is empty: no password, as jmx_exporter reads it",
    ),
    "warn-value-date.yml": (
        "{file}:4: rules[0].value: 'Mon Jan 01 00:00:00 UTC 2024' (the date 2024-01-01) is not a number and refers "
        "to no group: every attribute the rule matches is dropped, as in jmx_exporter",
    ),
    "warn-value-list.yml": (
        "{file}:4: rules[0].value: '[1]' (a list) is not a number and refers to no group: every attribute the rule "
        "matches is dropped, as in jmx_exporter",
    ),
    "warn-value-not-number-string.yml": (
        "{file}:4: rules[0].value: 'one' is not a number and refers to no group: every attribute the rule matches is "
        "dropped, as in jmx_exporter",
    ),
    "warn-value-not-number.yml": (
        "{file}:4: rules[0].value: 'true' (the boolean yes) is not a number and refers to no group: every attribute "
        "the rule matches is dropped, as in jmx_exporter",
    ),
    "warn-value-without-pattern.yml": (
        "{file}:2: rules[0].value: a rule with a value needs a pattern; jmx_exporter loads this but fails every "
        "scrape in which the rule is reached",
    ),
}
