"""HostState for real on @local, and observe(): one command for many ops, re-read after a
change."""

from __future__ import annotations

import hashlib
import os
from io import StringIO

import pytest
from pyinfra.api import Config, Inventory, State
from pyinfra.api.connect import connect_all
from pyinfra.api.facts import get_facts
from pyinfra.api.operation import add_op
from pyinfra.api.operations import run_ops
from pyinfra.connectors.local import LocalConnector
from pyinfra.context import ctx_host, ctx_state

from llminfra.facts.host import HostState, prefetch
from llminfra.operations import paths


def test_host_state_reads_files_dirs_links_and_users(tmp_path):
    state = State(Inventory((["@local"], {})), Config())
    connect_all(state)
    (tmp_path / "a.conf").write_text("x=1\n")
    os.chmod(tmp_path / "a.conf", 0o640)
    (tmp_path / "link").symlink_to(tmp_path / "a.conf")
    asked = [str(tmp_path / n) for n in ("a.conf", "link", "missing")] + [str(tmp_path)]
    fact = next(iter(get_facts(state, HostState, kwargs={
        "paths": asked, "users": ["root", "no-such-user-x"], "packages": ["no-such-pkg-x"],
    }).values()))
    seen = fact["paths"]
    assert seen[asked[0]]["type"] == "file" and seen[asked[0]]["mode"] == 640
    assert seen[asked[0]]["sha256"] == hashlib.sha256(b"x=1\n").hexdigest()
    assert seen[asked[1]]["type"] == "link"
    assert seen[asked[2]]["type"] == "absent"
    assert seen[asked[3]]["type"] == "dir"
    assert fact["users"]["root"]["uid"] == 0 and "no-such-user-x" not in fact["users"]
    assert fact["packages"] == {}


@pytest.fixture
def counted(monkeypatch):
    sent: list[str] = []
    real = LocalConnector.run_shell_command

    def run(self, command, *args, **kwargs):
        sent.append(str(command))
        return real(self, command, *args, **kwargs)

    monkeypatch.setattr(LocalConnector, "run_shell_command", run)
    return sent


def _run(files: dict, contents: dict, counted: list[str]) -> list[str]:
    """`pyinfra -y` style (ops evaluated as they execute) of one paths.file op per file."""
    inventory = Inventory((["@local"], {}))
    state = State(inventory, Config(), check_for_changes=False)
    connect_all(state)
    host = inventory.get_host("@local")
    with ctx_state.use(state), ctx_host.use(host):
        prefetch(paths=list(files.values()))
    for name, path in files.items():
        add_op(state, paths.file, path=path, src=StringIO(contents[name]), mode="644")
    counted.clear()
    run_ops(state)
    return [c for c in counted if c.startswith("set --; for p in")]


def test_one_state_command_for_many_ops_and_a_fresh_one_after_a_change(tmp_path, counted):
    files = {n: str(tmp_path / f"{n}.conf") for n in ("a", "b", "c")}
    same = {n: f"{n}\n" for n in files}
    for name, path in files.items():
        with open(path, "w") as fh:
            fh.write(same[name])
        os.chmod(path, 0o644)
    assert len(_run(files, same, counted)) == 1  # nothing changes: one answer for all three
    changed = {**same, "a": "new\n"}
    reads = _run(files, changed, counted)
    assert len(reads) == 2  # a changed a file: b and c are decided on a fresh answer
    assert open(files["a"]).read() == "new\n"
