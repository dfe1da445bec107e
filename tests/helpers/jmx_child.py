"""What the JMX server helpers share: a child process with a JVM that serves Python-made MBeans over JMX/RMI and
scrapes them with the exporter in the same process (tests/helpers/misbehaving_jmx.py, container_jmx.py).

The pytest side calls :func:`run_helper`; a helper module's ``__main__`` calls :func:`child_main`, and builds its
beans with :func:`python_mbean` once the JVM runs.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parents[2]


def run_helper(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m module args`` from the repository root, without the caller's PJE_ settings; ended by its timeout."""
    return subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=ROOT, timeout=120,
        stdin=subprocess.DEVNULL,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("PJE_")}, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def child_main(main: Callable[[list[str]], int]) -> NoReturn:
    """Start the JVM (stubs pointing at 127.0.0.1), run ``main(argv)``, and exit with its code."""
    from exporter.sources.jmx.jvm import start_jvm

    start_jvm(["-Djava.rmi.server.hostname=127.0.0.1"])
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the JVM's RMI threads would hold an ordinary exit up


def python_mbean(info: Any, get: Callable[[str], Any], get_many: Callable[[Any], Any]) -> Any:
    """A read-only DynamicMBean with MBeanInfo ``info``: ``getAttribute(name)`` answers ``get(name)``,
    ``getAttributes(names)`` answers ``get_many(names)``; writes change nothing and operations do not exist."""
    return _mbean_class()(info, get, get_many)


@functools.cache
def _mbean_class() -> type:
    from jpype import JClass, JImplements, JOverride

    attribute_list = JClass("javax.management.AttributeList")
    not_found = JClass("javax.management.AttributeNotFoundException")
    reflection = JClass("javax.management.ReflectionException")
    no_method = JClass("java.lang.NoSuchMethodException")

    @JImplements("javax.management.DynamicMBean")
    class PythonMBean:
        def __init__(self, info: Any, get: Callable[[str], Any], get_many: Callable[[Any], Any]) -> None:
            self.info, self.get, self.get_many = info, get, get_many

        @JOverride
        def getMBeanInfo(self) -> Any:
            return self.info

        @JOverride
        def getAttribute(self, name: Any) -> Any:
            return self.get(str(name))

        @JOverride
        def getAttributes(self, names: Any) -> Any:
            return self.get_many(names)

        @JOverride
        def setAttribute(self, value: Any) -> None:
            raise not_found(str(value.getName()))

        @JOverride
        def setAttributes(self, values: Any) -> Any:
            return attribute_list()

        @JOverride
        def invoke(self, action: Any, params: Any, signature: Any) -> Any:
            raise reflection(no_method(action))

    return PythonMBean
