"""ruff and mypy are part of the test run, so CI fails on what they find."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("argv", [
    ["ruff", "check", "--output-format", "concise", "src", "lab", "tests", "deploys",
     "inventory", "benchmarks"],
    # strict for the model; the rest of the package joins as it is typed
    [sys.executable, "-m", "mypy", "src/llminfra/model", "src/llminfra/oneapi",
     "src/llminfra/operations/oneapi.py", "src/llminfra/deploys/channels.py",
     "src/llminfra/backup", "src/llminfra/commands/gateway_db.py"],
], ids=["ruff", "mypy"])
def test_clean(argv):
    if shutil.which(argv[0]) is None and argv[0] == "ruff":
        pytest.fail("ruff is not installed: pip install -e '.[test]'")
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
