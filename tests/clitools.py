"""Helpers for CLI tests: run ``python -m rjsim`` as a user would, and check clean errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def rjsim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the rjsim command in ``cwd`` and capture what it prints."""
    return subprocess.run([sys.executable, "-m", "rjsim", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=300)


def assert_clean_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    """Exit status 2, no traceback, and every needle in the error message."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    for needle in needles:
        assert needle in proc.stderr, proc.stderr
