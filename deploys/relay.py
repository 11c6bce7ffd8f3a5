"""Relays only: `pyinfra inventory/prod.py deploys/relay.py`."""

from pyinfra import host

from llminfra.deploys.relay import relay
from llminfra.deploys.summary import unreachable_at_exit

unreachable_at_exit()
if host.data.get("llminfra_role") == "relay":
    relay(host.data.llminfra_stack, host.data.llminfra_name)
