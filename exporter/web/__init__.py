"""The HTTP server Prometheus scrapes, and its own authentication."""
