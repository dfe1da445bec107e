"""Source-neutral MBean records, ObjectNames, and Java's text for numbers: what sources produce and rules read."""
