"""autossh tunnels: `pyinfra inventory/prod.py deploys/tunnels.py` (gateways and GPU hosts)."""

from pyinfra import host

from llminfra.deploys.tunnels import both_ends
from llminfra.deploys.summary import unreachable_at_exit

unreachable_at_exit()
both_ends(host.data.llminfra_stack, host.data.llminfra_name)
