"""A one-bean target: trino's general ClusterMemoryPool as REST JSON, and the rule that exports it."""

from __future__ import annotations

import orjson

RULES = """\
rules:
  - pattern: 'trino.memory<type=ClusterMemoryPool, name=(.*)><>(\\w+):'
    name: trino_clustermemorypool_$1_$2
    type: GAUGE
"""
POOL_BEAN = {
    "objectName": "trino.memory:type=ClusterMemoryPool,name=general",
    "attributes": [{"name": "FreeDistributedBytes", "type": "long", "value": 1024}],
}
BODY = orjson.dumps([POOL_BEAN])
