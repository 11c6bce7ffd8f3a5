"""Gateways only (Docker, OneAPI, Nginx): `pyinfra inventory/prod.py deploys/gateway.py`."""

from pyinfra import host

from llminfra.deploys.gateway import gateway

if host.data.get("llminfra_role") == "gateway":
    gateway(host.data.llminfra_stack, host.data.llminfra_name)
