"""Rule-development tooling behind `capture`, `explain` and `test-rules`; each module has one job."""
