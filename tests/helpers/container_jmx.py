"""A JMX server with one bean whose attributes are declared as maps and arrays, scraped over JMX several times.

``python -m tests.helpers.container_jmx CONFIG SCRAPES`` starts a JVM (so never import this in the pytest process),
registers :data:`BEAN` in an MBeanServer of its own, serves it over JMX/RMI on 127.0.0.1, and scrapes it SCRAPES
times in the same process with the exporter's own scraper. Each scrape prints one JSON line: the attribute names the
bean's ``getAttributes`` calls asked for during that scrape, and the exposition.

The attributes (the value of scrape N, counted from 1):

- ``Count`` (Integer): N;
- ``Percentiles`` (declared ``java.util.Map``): a TreeMap, which no rule exports;
- ``Table`` (declared ``java.util.Map``): a TabularDataSupport, a JDK class that is a Map and a table both, whose
  one row's ``value`` is N;
- ``LateMap`` (declared ``java.util.Map``): null in scrape 1, a TreeMap from scrape 2 on;
- ``Names`` (declared ``[Ljava.lang.String;``): a String array.
"""

from __future__ import annotations

import json
from typing import Any

BEAN = "test.domain:type=Containers"
DECLARED = {
    "Count": "java.lang.Integer",
    "Percentiles": "java.util.Map",
    "Table": "java.util.Map",
    "LateMap": "java.util.Map",
    "Names": "[Ljava.lang.String;",
}


def _serve(calls: list[list[str]], generation: list[int]) -> Any:
    from jpype import JArray, JClass

    from tests.fixture.jmxserver import start_jmx_server
    from tests.helpers.jmx_child import python_mbean

    j_string = JClass("java.lang.String")
    j_integer = JClass("java.lang.Integer")
    j_long = JClass("java.lang.Long")
    j_double = JClass("java.lang.Double")
    tree_map = JClass("java.util.TreeMap")
    simple_type = JClass("javax.management.openmbean.SimpleType")
    open_type = JClass("javax.management.openmbean.OpenType")
    composite_type = JClass("javax.management.openmbean.CompositeType")
    tabular_type = JClass("javax.management.openmbean.TabularType")
    row_type = composite_type("Row", "a row", JArray(j_string)(["key", "value"]), JArray(j_string)(["key", "value"]),
                              JArray(open_type)([simple_type.STRING, simple_type.LONG]))  # fmt: skip
    table_type = tabular_type("Rows", "rows", row_type, JArray(j_string)(["key"]))
    attribute = JClass("javax.management.Attribute")
    attribute_list = JClass("javax.management.AttributeList")
    attribute_info = JClass("javax.management.MBeanAttributeInfo")
    not_found = JClass("javax.management.AttributeNotFoundException")

    def value(name: str) -> Any:
        n = generation[0]
        if name == "Count":
            return j_integer(n)
        if name == "Percentiles":
            percentiles = tree_map()
            percentiles.put(j_double(0.5), j_double(1.5))
            return percentiles
        if name == "Table":
            table = JClass("javax.management.openmbean.TabularDataSupport")(table_type)
            row = JClass("javax.management.openmbean.CompositeDataSupport")(
                row_type, JArray(j_string)(["key", "value"]), JArray(JClass("java.lang.Object"))(["only", j_long(n)])
            )
            table.put(row)
            return table
        if name == "LateMap":
            if n == 1:
                return None
            late = tree_map()
            late.put(j_string("k"), j_long(n))
            return late
        if name == "Names":
            return JArray(j_string)(["a", "b"])
        raise not_found(name)

    def get(name: str) -> Any:
        calls.append([name])
        return value(name)

    def get_many(names: Any) -> Any:
        asked = [str(name) for name in names]
        calls.append(asked)
        answer = attribute_list()
        for name in asked:
            answer.add(attribute(name, value(name)))
        return answer

    infos = [attribute_info(n, t, n, True, False, False) for n, t in DECLARED.items()]
    info = JClass("javax.management.MBeanInfo")("Containers", BEAN, JArray(attribute_info)(infos), None, None, None)
    server = JClass("javax.management.MBeanServerFactory").newMBeanServer()
    server.registerMBean(python_mbean(info, get, get_many), JClass("javax.management.ObjectName")(BEAN))
    return start_jmx_server(server)


def main(argv: list[str]) -> int:
    from exporter.cli import build_parser
    from exporter.commands.common import build_scraper

    calls: list[list[str]] = []
    generation = [0]
    jmx = _serve(calls, generation)
    try:
        target = f"service:jmx:rmi:///jndi/rmi://127.0.0.1:{jmx.port}/jmxrmi"
        scraper = build_scraper(build_parser().parse_args(["scrape", "--config", argv[0], "--target", target]))
        for n in range(1, int(argv[1]) + 1):
            generation[0] = n
            del calls[:]
            result = scraper.scrape()
            print(json.dumps({"asked": calls, "error": result.error, "exposition": result.body().decode()}))
        return 0
    finally:
        jmx.stop()


if __name__ == "__main__":
    from tests.helpers.jmx_child import child_main

    child_main(main)
