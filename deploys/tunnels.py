"""autossh tunnels: `pyinfra inventory/prod.py deploys/tunnels.py` (gateways and GPU hosts)."""

from pyinfra import host

from llminfra.deploys.tunnels import tunnel_endpoint, tunnels

if host.data.get("llminfra_role") == "gateway":
    tunnels(host.data.llminfra_stack, host.data.llminfra_name)
elif host.data.get("llminfra_role") == "gpu":
    tunnel_endpoint(host.data.llminfra_stack, host.data.llminfra_name)
