"""A no-change redeploy sends at most 12 commands to every lab host (a count, not a timing).

Counted where they leave: benchmarks/counted.py wraps pyinfra's SSH connector
(run_shell_command) for the whole run, so every fact and op command sent is seen.
"""

from __future__ import annotations

import re

from benchmarks.lab import counted_pyinfra
from llminfra.model.secrets import parse_dotenv

from .conftest import REPO, TIMES, run_pyinfra

MAX_COMMANDS = 12


def _redacted(commands: list[str]) -> list[str]:
    """Commands as printed on failure, lab secrets masked and long ones cut."""
    values = [v for v in parse_dotenv((REPO / "inventory" / "lab.secrets.env").read_text()).values()
              if len(v) >= 8]
    out = []
    for command in commands:
        for value in values:
            command = command.replace(value, "***")
        out.append(re.sub(r"\s+", " ", command)[:160])
    return out


def test_no_change_redeploy_stays_within_the_command_budget(deployed):
    run_pyinfra()  # back to the inventory as committed, whatever ran before
    run = counted_pyinfra(REPO, "deploys/all.py")
    TIMES["no-change redeploy, counted (s)"] = run.seconds
    assert run.changed() == []
    counts = {host: data["commands"] for host, data in run.hosts.items()}
    print(f"\n[e2e] no-change redeploy commands per host: {counts}")
    assert set(counts) == {"gw-1", "gpu-1", "gpu-2", "relay-1"}
    over = {host: _redacted(run.hosts[host]["sent"]) for host, n in counts.items()
            if n > MAX_COMMANDS}
    assert not over, f"over {MAX_COMMANDS} commands: {over}"
    assert all(data["uploads"] == 0 for data in run.hosts.values())
