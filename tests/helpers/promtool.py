"""Run ``promtool check metrics`` (Debian package ``prometheus``) over exposition text."""

from __future__ import annotations

import shutil
import subprocess

import pytest

needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool (Debian package prometheus) is not installed"
)


def lint_metrics(text: str) -> list[str]:
    """Fail the test on a format error (exit 1); return promtool's lint complaints (exit 3), one per line."""
    result = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode in (0, 3), f"promtool rejected the exposition: {output}"
    return output.splitlines() if result.returncode == 3 else []
