"""Relays only: `pyinfra inventory/prod.py deploys/relay.py`."""

from pyinfra import host

from llminfra.deploys.relay import relay

if host.data.get("llminfra_role") == "relay":
    relay(host.data.llminfra_stack, host.data.llminfra_name)
