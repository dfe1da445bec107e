"""The rule file: jmx_exporter's YAML read once into typed, immutable objects, with errors that name the line."""
