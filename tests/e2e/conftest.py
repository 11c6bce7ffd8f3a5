"""The lab tier: a real lab, a real pyinfra run, verified with independent tools."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TIMES: dict[str, float] = {}
NUMBERS: dict[str, str] = {}  # other measured figures (TTFT, tokens/s), printed at the end


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.lab)


@pytest.fixture(scope="session")
def lab_state():
    from llminfra_lab import LabError, down, up
    from llminfra_lab.state import state_dir

    was_up = (state_dir(REPO) / "lab.json").exists()
    try:
        state = up(REPO)
    except LabError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the lab cannot start: {exc}")
        pytest.skip(str(exc))
    yield state
    if not was_up and os.environ.get("LLMINFRA_KEEP_LAB") != "1":
        down(REPO)


def run_pyinfra(*extra: str, inventory: str = "inventory/lab.py", deploy: str = "deploys/all.py"
                ) -> tuple[dict, str, float]:
    """`pyinfra -y --json inventory/lab.py deploys/all.py`; returns (json, stderr, seconds)."""
    argv = [sys.executable, "-m", "pyinfra", "-y", "--json", inventory, deploy, *extra]
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=2400)
    took = time.monotonic() - start
    if proc.returncode != 0:
        raise AssertionError(f"pyinfra failed ({proc.returncode}):\n{proc.stderr[-6000:]}\n"
                             f"{proc.stdout[-3000:]}")
    return json.loads(proc.stdout), proc.stderr + proc.stdout, took


def changed_by_host(result: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for op in result["results"]["operations"]:
        for name in op["success"]:
            out.setdefault(name, []).append(op["name"])
    return out


def changed_ops(result: dict) -> list[str]:
    return [f"{op['name']} on {','.join(op['success'])}" for op in result["results"]["operations"]
            if op["success"]]


@pytest.fixture(scope="session")
def deployed(lab_state):
    """The whole stack deployed into the lab (the cold run)."""
    result, output, took = run_pyinfra()
    TIMES["cold deploy (pyinfra all.py)"] = took
    print(f"\n[e2e] cold deploy: {took:.1f} s, changed ops: {len(changed_ops(result))}")
    return result, output


@pytest.fixture(scope="session")
def ssh_config(lab_state, tmp_path_factory) -> Path:
    lab = REPO / ".lab"
    cfg = tmp_path_factory.mktemp("ssh") / "config"
    cfg.write_text(
        "Host *\n  User root\n"
        f"  IdentityFile {lab / 'ssh' / 'id_ed25519'}\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {lab / 'known_hosts'}\n  StrictHostKeyChecking yes\n"
        "  BatchMode yes\n  ConnectTimeout 10\n")
    return cfg


@pytest.fixture(scope="session")
def hosts(lab_state, ssh_config):
    """testinfra hosts over plain ssh with pinned host keys: independent of our own code."""
    import testinfra

    return {name: testinfra.get_host(f"ssh://{h.address}", ssh_config=str(ssh_config))
            for name, h in lab_state.hosts.items()}


def pytest_terminal_summary(terminalreporter):
    if TIMES:
        terminalreporter.write_sep("-", "lab phase times")
        for phase, took in TIMES.items():
            unit = "" if phase.endswith(")") else " s"  # "(ms)", "(tokens/s)": unit in the name
            terminalreporter.write_line(f"{phase}: {took:.1f}{unit}")
    if NUMBERS:
        terminalreporter.write_sep("-", "lab figures")
        for what, value in NUMBERS.items():
            terminalreporter.write_line(f"{what}: {value}")
