"""The one line naming unreachable hosts at the end of a deploy."""

from __future__ import annotations

from types import SimpleNamespace

from pyinfra.context import ctx_state

from llminfra.deploys import summary


def test_line_names_every_unreachable_host_once(monkeypatch):
    registered = []
    monkeypatch.setattr(summary.atexit, "register", registered.append)
    state = SimpleNamespace(failed_hosts=[SimpleNamespace(name="relay-1"),
                                          SimpleNamespace(name="gpu-3")])
    with ctx_state.use(state):
        summary.unreachable_at_exit()
        summary.unreachable_at_exit()  # every deploy file / host calls it; one line per run
    assert len(registered) == 1
    assert summary.unreachable_line(["gpu-3", "relay-1"]).startswith(
        "llminfra: NOT DEPLOYED (unreachable over SSH): gpu-3, relay-1;")


def test_no_line_when_every_host_answered(monkeypatch):
    registered = []
    monkeypatch.setattr(summary.atexit, "register", registered.append)
    with ctx_state.use(SimpleNamespace(failed_hosts=set())):
        summary.unreachable_at_exit()
    assert registered == []
