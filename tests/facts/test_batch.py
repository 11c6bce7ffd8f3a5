"""The fact batch for real on @local: one command for the facts ops announced, live reads once
anything changed, a failed fact read again on its own."""

from __future__ import annotations

from io import StringIO

import pytest
from pyinfra.api import Config, FactBase, Inventory, State
from pyinfra.api.connect import connect_all
from pyinfra.api.exceptions import PyinfraError
from pyinfra.api.operations import run_ops
from pyinfra.connectors.local import LocalConnector
from pyinfra.context import ctx_host, ctx_state
from pyinfra.facts.files import FileContents

from llminfra.facts import batch
from llminfra.facts.batch import MARK, Batch
from llminfra.operations import paths, ssh


class Fails(FactBase):
    def command(self):
        return "echo partial; exit 3"


@pytest.fixture
def sent(monkeypatch):
    commands: list[str] = []
    real = LocalConnector.run_shell_command

    def run(self, command, *args, **kwargs):
        commands.append(str(command))
        return real(self, command, *args, **kwargs)

    monkeypatch.setattr(LocalConnector, "run_shell_command", run)
    return commands


def _local(check_for_changes: bool = False):
    inventory = Inventory((["@local"], {}))
    state = State(inventory, Config(), check_for_changes=check_for_changes)
    connect_all(state)
    return state, inventory.get_host("@local")


def test_batch_splits_outputs_and_statuses():
    command = Batch().command(((FileContents, (("path", "/x"),)),))
    assert MARK in str(command)
    assert Batch().process([f"{MARK} 0", "a", "b", f"{MARK}-status 0 0", f"{MARK} 1",
                            f"{MARK}-status 1 2"]) == [(0, ["a", "b"]), (2, [])]


def test_announced_facts_travel_in_one_command(tmp_path, sent):
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFA4BCPuk2t5kRUZL0f9CXgpxMi9EfZC77nv8p7t3qEH t@g"
    keys, unit = tmp_path / "ak", tmp_path / "t.service"
    keys.write_text(f"{key}\n")
    keys.chmod(0o600)
    unit.write_text("[Unit]\n")
    state, host = _local()
    with ctx_state.use(state), ctx_host.use(host):
        ssh.authorized_key(user="root", key=key, path=str(keys))  # FileContents + HostState
        paths.file(path=str(unit), src=StringIO("[Unit]\n"), mode="644")
    sent.clear()
    run_ops(state)
    assert len(sent) == 1 and MARK in sent[0]  # both ops decided on one answer


def test_after_a_change_reads_are_live(tmp_path, sent):
    first, second = tmp_path / "a", tmp_path / "b"
    second.write_text("same\n")
    second.chmod(0o644)
    state, host = _local()
    with ctx_state.use(state), ctx_host.use(host):
        paths.file(path=str(first), src=StringIO("new\n"), mode="644")  # changes the host
        paths.file(path=str(second), src=StringIO("same\n"), mode="644")
    sent.clear()
    run_ops(state)
    assert first.read_text() == "new\n"
    reads = [c for c in sent if MARK in c or c.startswith("set --; for p in")]
    assert len(reads) == 2  # the batch, then the second op's own read after the change


def test_a_fact_failing_in_the_batch_is_read_again_alone(sent):
    state, host = _local()
    with ctx_state.use(state), ctx_host.use(host):
        batch.expect(FileContents, path="/etc/hostname")
        batch.expect(Fails)
        sent.clear()
        assert batch.get(FileContents, path="/etc/hostname")
        with pytest.raises(PyinfraError):  # asked alone: pyinfra fails the host, as it would
            batch.get(Fails)
    assert len(sent) == 2 and MARK in sent[0] and sent[1].startswith("echo partial")


def test_read_ahead_answers_the_first_op_without_a_new_command(tmp_path, sent):
    unit = tmp_path / "t.service"
    unit.write_text("[Unit]\n")
    unit.chmod(0o644)
    state, host = _local()
    with ctx_state.use(state), ctx_host.use(host):
        paths.file(path=str(unit), src=StringIO("[Unit]\n"), mode="644")
        batch.expect(FileContents, path=str(unit))
        sent.clear()
        batch.gather_ahead()
        assert batch._store()["ahead"].get()  # read in the background, before any op ran
    assert len(sent) == 1
    run_ops(state)
    assert len(sent) == 1  # the op decided on the answer read ahead
