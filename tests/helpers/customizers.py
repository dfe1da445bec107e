"""The metricCustomizers configurations of jmx_exporter's example application (io.prometheus.jmx:type=customValue
and type=stringValue), as its MetricCustomizers tests give them; several test modules run them."""

from __future__ import annotations

ATTRIBUTES_AS_LABELS = """
includeObjectNames: ["io.prometheus.jmx:type=customValue"]
metricCustomizers:
  - mbeanFilter:
      domain: io.prometheus.jmx
      properties:
        type: customValue
    attributesAsLabels:
      - Text
"""
EXTRA_METRICS = """
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
"""
