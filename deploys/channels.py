"""OneAPI channels and tokens only: `pyinfra inventory/prod.py deploys/channels.py`."""

from pyinfra import host

from llminfra.deploys.channels import channels
from llminfra.deploys.summary import unreachable_at_exit

unreachable_at_exit()
if host.data.get("llminfra_role") == "gateway":
    channels(host.data.llminfra_stack, host.data.llminfra_name)
