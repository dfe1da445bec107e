"""Samples to bytes: metric families, the text and OpenMetrics formats, gzip."""
