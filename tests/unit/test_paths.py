"""llminfra.paths: where operator-side state lives, and the pinned known_hosts file."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from example_secrets import write_filled

from llminfra.model import load_stack
from llminfra.paths import OperatorPaths, known_hosts_file, write_known_hosts

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def stack(tmp_path):
    shutil.copy(REPO / "inventory" / "prod.yml", tmp_path / "prod.yml")
    write_filled(tmp_path / "prod.secrets.env")
    return load_stack(tmp_path / "prod.yml")


def test_layout_beside_the_stack_file(stack, tmp_path):
    paths = OperatorPaths.of(stack)
    assert paths == OperatorPaths.beside(tmp_path / "prod.yml")
    state = tmp_path / ".llminfra"
    assert paths.root == state
    assert paths.known_hosts == state / "prod.known_hosts"
    assert paths.tunnel_key("gw-1") == state / "tunnel-gw-1_ed25519"
    assert paths.oneapi_state("gw-1") == state / "prod-gw-1"
    assert paths.oneapi_tokens("gw-1") == state / "prod-gw-1" / "oneapi-tokens.env"


def test_in_memory_stack_uses_working_dir_and_name(stack, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stack._source = None
    assert OperatorPaths.of(stack) == OperatorPaths(tmp_path, stack.name)


def test_known_hosts_written_once_with_port_form(stack, tmp_path):
    path = write_known_hosts(stack)
    assert path == tmp_path / ".llminfra" / "prod.known_hosts"
    lines = path.read_text().splitlines()
    assert "[198.51.100.20]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGxsbWluZnJhLXBsYWNlaG9s" \
           "ZGVyLWhvc3Qta2V5LTAy" in lines
    assert any(line.startswith("192.0.2.5 ssh-ed25519 ") for line in lines)
    os.utime(path, (0, 0))
    write_known_hosts(stack)
    assert path.stat().st_mtime == 0  # unchanged content: not rewritten


def test_known_hosts_file_prefers_the_hosts_own(stack, tmp_path):
    assert known_hosts_file(stack, "gw-1") == str(tmp_path / ".llminfra" / "prod.known_hosts")
    stack.gateways["gw-1"].ssh.known_hosts = "~/pinned"
    assert known_hosts_file(stack, "gw-1") == os.path.expanduser("~/pinned")
