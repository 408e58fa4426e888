"""Start-up cost: commands that only read or check files do not import the heavy libraries
(SciPy, Matplotlib, openpyxl), which cost about a second per process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("scipy", "matplotlib", "openpyxl")
PROBE = ("import json, sys\n"
         "from rjsim.cli.main import main\n"
         "try:\n"
         "    main(sys.argv[1:])\n"
         "except SystemExit:\n"
         "    pass\n"
         "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {heavy})))\n")


def _loaded(*args: str) -> list[str]:
    code = PROBE.format(heavy=repr(set(HEAVY)))
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, text=True,
                          capture_output=True, timeout=120)
    return list(json.loads(proc.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [("--help",), ("validate", "scenarios/statutory_right.toml"),
                                  ("validate", "scenarios/baseline.toml")])
def test_quick_commands_do_not_import_heavy_libraries(args: tuple[str, ...]) -> None:
    assert _loaded(*args) == []


def test_the_probe_sees_a_heavy_import() -> None:
    """The check can fail: the report command's module does import them."""
    code = "import rjsim.report.build\n" + PROBE.format(heavy=repr(set(HEAVY)))
    proc = subprocess.run([sys.executable, "-c", code, "--help"], cwd=REPO, text=True,
                          capture_output=True, timeout=120)
    loaded = {m.split(".")[0] for m in json.loads(proc.stdout.strip().splitlines()[-1])}
    assert {"matplotlib", "openpyxl"} <= loaded
