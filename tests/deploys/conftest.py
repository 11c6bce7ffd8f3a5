"""Run the deploys' private ops for real against @local through pyinfra's API."""

from __future__ import annotations

import os
import shutil

import pytest
from pyinfra.api import Config, Inventory, State
from pyinfra.api.connect import connect_all
from pyinfra.api.exceptions import PyinfraError
from pyinfra.api.operation import add_op
from pyinfra.api.operations import run_ops


@pytest.fixture
def apply():
    def _apply(op, **kwargs):
        """Prepare and execute one op on @local; return its OperationMeta."""
        inventory = Inventory((["@local"], {}))
        state = State(inventory, Config())
        connect_all(state)
        meta = add_op(state, op, **kwargs)[inventory.get_host("@local")]
        try:
            run_ops(state)
        except PyinfraError:
            pass  # a failed op shows in meta.did_error()
        return meta

    return _apply


@pytest.fixture
def need():
    def _need(tool: str) -> str:
        path = shutil.which(tool)
        if path is None:
            if os.environ.get("CI") == "true":
                pytest.fail(f"{tool} is required under CI")
            pytest.skip(f"{tool} not installed")
        return path

    return _need
