"""pyinfra inventory for production: everything comes from prod.yml beside this file."""

from pathlib import Path

from llminfra.inventory import pyinfra_groups

_groups = pyinfra_groups(Path(__file__).with_suffix(".yml"))
gpu_hosts = _groups["gpu_hosts"]
gateways = _groups["gateways"]
relays = _groups["relays"]
