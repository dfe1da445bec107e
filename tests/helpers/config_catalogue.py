"""The bad configuration files in tests/testdata/config/, each with its exact error message, and the environment
they are loaded with."""

from __future__ import annotations

from pathlib import Path

TESTDATA = Path(__file__).parent.parent / "testdata" / "config"
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
