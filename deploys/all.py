"""The whole platform: `pyinfra inventory/prod.py deploys/all.py` (also with --limit)."""

from pyinfra import host

from llminfra.deploys.platform import platform
from llminfra.deploys.summary import unreachable_at_exit

unreachable_at_exit()
platform(host.data.llminfra_stack, host.data.llminfra_name)
