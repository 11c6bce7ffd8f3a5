"""Gateways only (Docker, OneAPI, Nginx): `pyinfra inventory/prod.py deploys/gateway.py`."""

from pyinfra import host

from llminfra.deploys.gateway import gateway
from llminfra.deploys.summary import unreachable_at_exit

unreachable_at_exit()
if host.data.get("llminfra_role") == "gateway":
    gateway(host.data.llminfra_stack, host.data.llminfra_name)
