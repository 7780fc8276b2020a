"""The code's shape, checked as CI checks it: no dead code (vulture), lint and format (ruff)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS = Path(sys.executable).parent  # the virtualenv's bin/, where the test extra installs them
CHECKS = {
    "dead code": [
        *("vulture", "gshare", "web", "storage", "antivirus", ".vulture_whitelist.py"),
        *("--min-confidence", "60"),
    ],
    "lint": ["ruff", "check", "."],
    "format": ["ruff", "format", "--check", "gshare", "web", "antivirus", "tests", "bench"],
}


@pytest.mark.parametrize("command", CHECKS.values(), ids=CHECKS.keys())
def test_the_code_has_no_finding(command):
    tool = TOOLS / command[0]
    if not tool.exists():
        missing = f"{tool} is missing: pip install -e '.[test]'"
        if os.environ.get("CI") == "true":
            pytest.fail(missing)
        pytest.skip(missing)
    done = subprocess.run(
        [str(tool), *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}{done.stderr}"
