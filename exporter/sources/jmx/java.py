"""The Java classes the JMX source uses, looked up once after the JVM has started.

Import this module only from code that runs after :func:`exporter.sources.jmx.jvm.start_jvm`; nothing here starts a JVM.
"""

from __future__ import annotations

from functools import cache
from typing import Any

_CLASSES = {
    # values
    "Boolean": "java.lang.Boolean",
    "Byte": "java.lang.Byte",
    "Short": "java.lang.Short",
    "Integer": "java.lang.Integer",
    "Long": "java.lang.Long",
    "Float": "java.lang.Float",
    "Double": "java.lang.Double",
    "Number": "java.lang.Number",
    "BigInteger": "java.math.BigInteger",
    "BigDecimal": "java.math.BigDecimal",
    "String": "java.lang.String",
    "Character": "java.lang.Character",
    "Enum": "java.lang.Enum",
    "Date": "java.util.Date",
    "Optional": "java.util.Optional",
    "Map": "java.util.Map",
    "Collection": "java.util.Collection",
    "CompositeData": "javax.management.openmbean.CompositeData",
    "TabularData": "javax.management.openmbean.TabularData",
    # connecting
    "HashMap": "java.util.HashMap",
    "LocateRegistry": "java.rmi.registry.LocateRegistry",
    "RMIConnector": "javax.management.remote.rmi.RMIConnector",
    "RMIServer": "javax.management.remote.rmi.RMIServer",
    "JMXConnectorFactory": "javax.management.remote.JMXConnectorFactory",
    "JMXServiceURL": "javax.management.remote.JMXServiceURL",
    "SslRMIClientSocketFactory": "javax.rmi.ssl.SslRMIClientSocketFactory",
    "ObjectName": "javax.management.ObjectName",
    "Attribute": "javax.management.Attribute",
    "MBeanServerDelegate": "javax.management.MBeanServerDelegate",
    "MBeanServerNotificationFilter": "javax.management.relation.MBeanServerNotificationFilter",
    "MBeanServerNotification": "javax.management.MBeanServerNotification",
    "JMXConnectionNotification": "javax.management.remote.JMXConnectionNotification",
    # errors
    "Throwable": "java.lang.Throwable",
    "SecurityException": "java.lang.SecurityException",
    "RuntimeException": "java.lang.RuntimeException",
    "IOException": "java.io.IOException",
    "EOFException": "java.io.EOFException",
    "ObjectStreamException": "java.io.ObjectStreamException",
    "ClassNotFoundException": "java.lang.ClassNotFoundException",
    "NoClassDefFoundError": "java.lang.NoClassDefFoundError",
    "SocketException": "java.net.SocketException",
    "SocketTimeoutException": "java.net.SocketTimeoutException",
    "NetConnectException": "java.net.ConnectException",
    "UnknownHostException": "java.net.UnknownHostException",
    "SSLException": "javax.net.ssl.SSLException",
    "RmiConnectException": "java.rmi.ConnectException",
    "ConnectIOException": "java.rmi.ConnectIOException",
    "UnmarshalException": "java.rmi.UnmarshalException",
    "NotBoundException": "java.rmi.NotBoundException",
    "JMException": "javax.management.JMException",
    "InstanceNotFoundException": "javax.management.InstanceNotFoundException",
    "MalformedObjectNameException": "javax.management.MalformedObjectNameException",
}


class JavaClasses:
    """Attribute access to the classes in ``_CLASSES`` (``java().ObjectName``)."""

    def __init__(self) -> None:
        from jpype import JArray, JClass, JString

        for attribute, name in _CLASSES.items():
            setattr(self, attribute, JClass(name))
        self.StringArray = JArray(JString)
        self.JArray = JArray

    def __getattr__(self, name: str) -> Any:  # only reached for names missing above; keeps type checkers calm
        raise AttributeError(name)


@cache
def java() -> JavaClasses:
    """The class table, built on first use (the JVM must be running)."""
    return JavaClasses()
