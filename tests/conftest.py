"""Test-process setup and fixtures shared by every tier."""

import gevent.monkey
import pytest
from pyinfra.api import Config, Inventory, State
from pyinfra.api.connect import connect_all
from pyinfra.api.exceptions import PyinfraError
from pyinfra.api.operation import add_op
from pyinfra.api.operations import run_ops

# pyinfra_testing imports pyinfra_cli, and importing pyinfra_cli monkey-patches the whole
# process for gevent. The OneAPI tunnel's accept and forwarding threads (sshtunnel's threads
# before) and the in-process HTTP servers in these tests must run on real threads, as they do
# in the `llminfra` CLI, so the test process stays unpatched; pyinfra runs that tests start as
# subprocesses patch themselves as usual.
gevent.monkey.patch_all = lambda *args, **kwargs: None


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
            pass  # a failed op is reported through meta.did_error()
        return meta

    return _apply
