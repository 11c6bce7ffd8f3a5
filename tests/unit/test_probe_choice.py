"""models.servable asks the steady probe only while the run has changed nothing anywhere."""

from llminfra.facts import batch
from llminfra.operations import models


def test_steady_probe_only_while_nothing_executed(monkeypatch):
    monkeypatch.setattr(batch, "executed_anywhere", lambda: 0)
    assert models._first_probe("chat", "list") == "list"
    assert models._first_probe("chat", None) == "chat"
    monkeypatch.setattr(batch, "executed_anywhere", lambda: 1)  # an op ran a command somewhere
    assert models._first_probe("chat", "list") == "chat"
    fact, kwargs = models._endpoint_fact("http://127.0.0.1:8000", "smol", probe="chat",
                                         health="/health", steady_probe="list")
    assert kwargs["probe"] == "chat"
