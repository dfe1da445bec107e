"""presto-jmx-exporter: Presto and Trino MBeans as Prometheus metrics, with jmx_exporter rule semantics."""

__version__ = "0.1.0"
