"""llminfra.oporder gives pyinfra's own operation order, from the same call stacks."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pyinfra
import pytest
from pyinfra.api import util

from llminfra import oporder


def both(state):
    """(pyinfra's order, ours) for the same caller stack."""
    return util.get_operation_order_from_stack(state), oporder.operation_order(state)


def nested(depth, state):
    return nested(depth - 1, state) if depth else both(state)


DEPLOY = """
def inner(state, both):
    return both(state)

def outer(state, both):
    return inner(state, both)

result = outer(state, both)
"""


@pytest.mark.parametrize("is_cli", [True, False])
@pytest.mark.parametrize("deploy", ["this file", "exec'd file", "absent", None])
@pytest.mark.parametrize("depth", [0, 3])
def test_same_order_as_pyinfra(tmp_path, monkeypatch, is_cli, deploy, depth):
    monkeypatch.setattr(pyinfra, "is_cli", is_cli)
    deploy_file = tmp_path / "deploy.py"
    deploy_file.write_text(DEPLOY)
    name = {"this file": __file__, "exec'd file": str(deploy_file),
            "absent": str(tmp_path / "nowhere.py"), None: None}[deploy]
    state = SimpleNamespace(current_deploy_filename=name, current_op_file_number=7)
    if deploy == "exec'd file":  # as pyinfra runs a deploy script: compiled with its path
        scope = {"state": state, "both": lambda s: nested(depth, s)}
        exec(compile(DEPLOY, str(deploy_file), "exec"), scope)
        theirs, ours = scope["result"]
    else:
        theirs, ours = nested(depth, state)
    assert ours == theirs
    if deploy == "absent":  # pyinfra keeps only its own frame, which it skips
        assert ours == ([7] if is_cli else [])
    else:  # the frames below the deploy file count
        assert len(ours) >= (2 if is_cli else 1) + (depth if deploy is None else 0)


def test_installed_where_pyinfra_looks_it_up():
    module = importlib.import_module("pyinfra.api.operation")
    import llminfra.deploys  # noqa: F401 - installs it

    assert module.get_operation_order_from_stack is oporder.operation_order
