"""The JMX/RMI source, through an embedded JVM (JPype, loaded only for JMX targets)."""
