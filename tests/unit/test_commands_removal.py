"""Removal commands: exact strings, and the listing scripts run in a real sh against a real
directory tree (docker and systemctl replaced by stubs that print fixed answers)."""

from __future__ import annotations

import subprocess

from llminfra.commands import raw
from llminfra.commands.accounts import user_remove
from llminfra.commands.compose import kit_projects, project_remove
from llminfra.commands.systemd import kit_units, unit_remove


def _stub(bin_dir, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def test_project_remove_downs_by_name_and_deletes_only_its_directory():
    assert raw(project_remove("/opt/llminfra/", "llm-old")) == (
        "cd / && docker compose -p llm-old down --remove-orphans && rm -rf /opt/llminfra/llm-old")
    assert raw(project_remove("/srv/a b", "llm-x", "docker-compose")) == (
        "cd / && docker-compose -p llm-x down --remove-orphans && rm -rf '/srv/a b/llm-x'")


def test_kit_projects_lists_only_kit_made_llm_dirs(tmp_path):
    data = tmp_path / "data"
    for name, header in (("llm-smol", "# Written by llminfra: model service smol."),
                         ("llm-theirs", "services: {}"),  # someone else's llm-* project
                         ("other", "# Written by llminfra: model service other.")):
        (data / name).mkdir(parents=True)
        (data / name / "compose.yaml").write_text(header + "\n")
    (data / "llm-empty").mkdir()  # no compose file: not a project
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # one listing of every container's project (llm-smolx: a prefix is not a match)
    _stub(bin_dir, "docker", 'echo llm-smol; echo llm-smolx; echo; echo llm-smol')
    out = subprocess.run(["sh", "-c", raw(kit_projects(str(data)))], capture_output=True,
                         text=True, env={"PATH": f"{bin_dir}:/usr/bin:/bin"}, check=True)
    assert out.stdout.split("\n") == ["project llm-smol 2", ""]


def test_kit_projects_on_a_host_without_data_dir_prints_nothing(tmp_path):
    out = subprocess.run(["sh", "-c", raw(kit_projects(str(tmp_path / "absent")))],
                         capture_output=True, text=True, check=True)
    assert out.stdout == ""


def test_kit_units_and_unit_remove_strings():
    assert raw(kit_units("llminfra-tunnel-")).startswith(
        "cd /etc/systemd/system 2>/dev/null || exit 0; for f in llminfra-tunnel-*.service ; do")
    assert raw(unit_remove("llminfra-tunnel-gpu-2-x")) == (
        "systemctl disable --now llminfra-tunnel-gpu-2-x.service >/dev/null 2>&1; "
        "rm -f /etc/systemd/system/llminfra-tunnel-gpu-2-x.service && "
        "{ systemctl reset-failed llminfra-tunnel-gpu-2-x.service >/dev/null 2>&1 || true; }")
    assert raw(user_remove("llminfra-tunnel")) == (
        "{ pkill -KILL -u llminfra-tunnel 2>/dev/null; sleep 1; }; userdel llminfra-tunnel")
