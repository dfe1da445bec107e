"""The rule engine: MBean records in, samples out, with jmx_exporter 1.x semantics. No I/O."""
