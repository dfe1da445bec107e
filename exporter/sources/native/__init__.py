"""Trino's own OpenMetrics ``/metrics`` as a source of MBean records."""
