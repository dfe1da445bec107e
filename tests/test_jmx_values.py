"""Java values as the JMX source converts them, in a child process with a real JVM (none in the pytest process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from exporter.records.mbeans import MAX_NESTING
from tests.conftest import require_jvm

ROOT = Path(__file__).resolve().parents[1]

# Builds CompositeData nested LEVELS deep (each level holds "n" and the next level, directly or as the one row of a
# TabularData indexed by "n"), converts it as the JMX source does, and prints how many levels came out and what
# stands where the next one would be.
NESTED = """
import json, sys
from exporter.sources.jmx.jvm import start_jvm
start_jvm([])
from jpype import JArray, JClass, JInt, JString
from exporter.records.mbeans import TOO_DEEP, Composite, Tabular
from exporter.sources.jmx import values as jmx_values

levels, through_tables = int(sys.argv[1]), sys.argv[2] == "tables"
Strings = JArray(JString)
SimpleType = JClass("javax.management.openmbean.SimpleType")
CompositeType = JClass("javax.management.openmbean.CompositeType")
CompositeDataSupport = JClass("javax.management.openmbean.CompositeDataSupport")
TabularType = JClass("javax.management.openmbean.TabularType")
TabularDataSupport = JClass("javax.management.openmbean.TabularDataSupport")
OpenType = JClass("javax.management.openmbean.OpenType")

kind = CompositeType("L", "L", Strings(["n"]), Strings(["n"]), JArray(OpenType)([SimpleType.INTEGER]))
value = CompositeDataSupport(kind, Strings(["n"]), JArray(JClass("java.lang.Object"))([JInt(levels)]))
for level in range(levels - 1, 0, -1):
    inner, inner_kind = value, kind
    if through_tables:
        inner_kind = TabularType("T", "T", kind, Strings(["n"]))
        inner = TabularDataSupport(inner_kind)
        inner.put(value)
    names = Strings(["n", "next"])
    kind = CompositeType("L", "L", names, names, JArray(OpenType)([SimpleType.INTEGER, inner_kind]))
    value = CompositeDataSupport(kind, names, JArray(JClass("java.lang.Object"))([JInt(level), inner]))

converted = jmx_values.convert(value)
count = 0
while isinstance(converted, Composite):
    count += 1
    items = dict(converted.items)
    assert items["n"] == count, (items["n"], count)
    converted = items.get("next")
    if isinstance(converted, Tabular):
        assert converted.index_names == ("n",)
        converted = converted.rows[0]
print(json.dumps({"levels": count, "next": "absent" if converted is None else
                  "too deep" if converted == TOO_DEEP else repr(converted)}))
"""


@pytest.mark.parametrize("through_tables", [False, True], ids=["composites", "tables"])
def test_jmx_composite_nesting_is_kept_to_the_limit_and_no_deeper(through_tables: bool) -> None:
    require_jvm()
    seen = []
    for levels in (MAX_NESTING, MAX_NESTING + 1):
        done = subprocess.run(
            [sys.executable, "-c", NESTED, str(levels), "tables" if through_tables else "composites"],
            capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        seen.append(json.loads(done.stdout.strip().splitlines()[-1]))
    assert seen == [{"levels": MAX_NESTING, "next": "absent"}, {"levels": MAX_NESTING, "next": "too deep"}]
