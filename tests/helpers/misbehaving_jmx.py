"""A JMX server whose MBeans answer the way a misbehaving server does, and the exporter's scrape of it.

``python -m tests.helpers.misbehaving_jmx CONFIG`` starts a JVM (so never import this in the pytest process),
registers the beans of :data:`BEANS` in an MBeanServer of its own, serves that over JMX/RMI on 127.0.0.1 through
a forwarding MBeanServer (which lists a bean that is not registered, and fails one bean's MBeanInfo with an
IOException), then runs ``presto-jmx-exporter scrape --config CONFIG`` against it in the same process: the
exposition is the output.

Every bean is in the domain ``test.domain``, its ``type`` says how it misbehaves, and every attribute value is a
distinct number, so a series that should be left out cannot hide behind the default rules ignoring strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DOMAIN = "test.domain"
GONE = f"{DOMAIN}:type=Gone"  # listed by queryNames, then not found: unregistered in between
INFO_FAILS = f"{DOMAIN}:type=InfoFails"  # getMBeanInfo fails with an IOException


@dataclass(frozen=True)
class BeanBehaviour:
    """One bean: its readable attributes (name: value), the ones that are not readable, and how bulk reads go."""

    attributes: dict[str, int] = field(default_factory=dict)
    write_only: dict[str, int] = field(default_factory=dict)
    bulk: str = "ok"  # ok | null | throws | null-element | not-an-attribute
    failing: tuple[str, ...] = ()  # getAttribute throws AttributeNotFoundException for these


BEANS = {
    f"{DOMAIN}:type=Healthy": BeanBehaviour({"Count": 1}),
    INFO_FAILS: BeanBehaviour({"Count": 2}),
    f"{DOMAIN}:type=NonReadable": BeanBehaviour(write_only={"NonReadableAttr": 3}),
    f"{DOMAIN}:type=NullList": BeanBehaviour({"ReadableAttr": 4}, bulk="null"),
    f"{DOMAIN}:type=BulkFails": BeanBehaviour({"Attr1": 5}, bulk="throws"),
    f"{DOMAIN}:type=NullElement": BeanBehaviour({"Attr1": 6}, bulk="null-element"),
    f"{DOMAIN}:type=NotAnAttribute": BeanBehaviour({"Attr1": 7}, bulk="not-an-attribute"),
    f"{DOMAIN}:type=OneFails": BeanBehaviour({"GoodAttr": 8, "BadAttr": 9}, bulk="throws", failing=("BadAttr",)),
    f"{DOMAIN}:type=NoAttributes": BeanBehaviour(bulk="throws"),
    # Read one by one too: jmx_exporter's fallback leaves out a customizer's labels and extra metrics and reads the
    # Runtime attributes its bulk path skips.
    f"{DOMAIN}:type=FallbackCustomized": BeanBehaviour({"Count": 10}, bulk="throws"),
    "java.lang:type=Runtime": BeanBehaviour({"Uptime": 11, "ClassPath": 12}, bulk="throws"),
}


def _serve() -> Any:
    """Start the server; return it (a :class:`tests.fixture.jmxserver.JmxServer`)."""
    from jpype import JArray, JClass, JImplements, JObject, JOverride

    from tests.fixture.jmxserver import start_jmx_server
    from tests.helpers.jmx_child import python_mbean

    j_object = JClass("java.lang.Object")
    j_integer = JClass("java.lang.Integer")
    object_name = JClass("javax.management.ObjectName")
    attribute = JClass("javax.management.Attribute")
    attribute_list = JClass("javax.management.AttributeList")
    attribute_info = JClass("javax.management.MBeanAttributeInfo")
    not_found = JClass("javax.management.AttributeNotFoundException")
    add = JClass("java.util.ArrayList").class_.getMethod("add", j_object.class_)  # AttributeList.add(Object)

    def bean(name: str, behaviour: BeanBehaviour) -> Any:
        infos = [attribute_info(n, "java.lang.Integer", n, True, False, False) for n in behaviour.attributes]
        infos += [attribute_info(n, "java.lang.Integer", n, False, True, False) for n in behaviour.write_only]
        mbean_info = JClass("javax.management.MBeanInfo")
        info = mbean_info("Misbehaving", name, JArray(attribute_info)(infos), None, None, None)

        def get(key: str) -> Any:
            if key in behaviour.failing or key not in behaviour.attributes:
                raise not_found(key)
            return j_integer(behaviour.attributes[key])

        def get_many(names: Any) -> Any:
            if behaviour.bulk == "null":
                return None
            if behaviour.bulk == "throws":
                raise JClass("java.lang.IllegalStateException")("bulk read failed")
            answer = attribute_list()
            if behaviour.bulk == "null-element":
                add.invoke(answer, JArray(j_object)([None]))
            elif behaviour.bulk == "not-an-attribute":
                add.invoke(answer, JArray(j_object)([JObject("not an Attribute object", j_object)]))
            else:
                for name in names:
                    answer.add(attribute(name, j_integer(behaviour.attributes[str(name)])))
            return answer

        return python_mbean(info, get, get_many)

    @JImplements("java.lang.reflect.InvocationHandler")
    class Forwarding:
        """An MBeanServer that passes every call on, except the two answers it changes."""

        def __init__(self, server: Any) -> None:
            self.server = server
            self.gone = object_name(GONE)
            self.info_fails = object_name(INFO_FAILS)

        @JOverride
        def invoke(self, proxy: Any, method: Any, args: Any) -> Any:
            called = str(method.getName())
            if called == "getMBeanInfo" and args[0].equals(self.info_fails):
                raise JClass("java.io.IOException")("the connection broke while reading the MBeanInfo")
            try:
                answer = method.invoke(self.server, args)
            except JClass("java.lang.reflect.InvocationTargetException") as exc:
                raise exc.getCause() from None
            if called == "queryNames" and (args[0] is None or args[0].apply(self.gone)):
                answer = JClass("java.util.HashSet")(answer)
                answer.add(self.gone)
            return answer

    server = JClass("javax.management.MBeanServerFactory").newMBeanServer()
    for name, behaviour in BEANS.items():
        server.registerMBean(bean(name, behaviour), object_name(name))
    mbean_server = JClass("javax.management.MBeanServer")
    forwarding = JClass("java.lang.reflect.Proxy").newProxyInstance(
        mbean_server.class_.getClassLoader(),
        JArray(JClass("java.lang.Class"))([mbean_server.class_]),
        Forwarding(server),
    )
    return start_jmx_server(forwarding)


def main(argv: list[str]) -> int:
    from exporter.cli import main as exporter_main

    jmx = _serve()
    try:
        target = f"service:jmx:rmi:///jndi/rmi://127.0.0.1:{jmx.port}/jmxrmi"
        return exporter_main(["scrape", "--config", argv[0], "--target", target])
    finally:
        jmx.stop()


if __name__ == "__main__":
    from tests.helpers.jmx_child import child_main

    child_main(main)
