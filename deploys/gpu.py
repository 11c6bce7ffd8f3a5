"""GPU hosts: `pyinfra inventory/prod.py deploys/gpu.py` (other roles are skipped)."""

from pyinfra import host

from llminfra.deploys.gpu import gpu_host
from llminfra.deploys.tunnels import tunnel_endpoint
from llminfra.deploys.summary import unreachable_at_exit

unreachable_at_exit()
if host.data.get("llminfra_role") == "gpu":
    gpu_host(host.data.llminfra_stack, host.data.llminfra_name)
    tunnel_endpoint(host.data.llminfra_stack, host.data.llminfra_name)
