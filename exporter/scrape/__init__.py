"""One scrape: what to fetch, fetching it, the rules, the self metrics; the live configuration."""
