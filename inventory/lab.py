"""pyinfra inventory for the local lab: lab.yml is written by `llminfra lab up`."""

from pathlib import Path

from llminfra.inventory import pyinfra_groups

_groups = pyinfra_groups(Path(__file__).with_suffix(".yml"))
gpu_hosts = _groups["gpu_hosts"]
gateways = _groups["gateways"]
relays = _groups["relays"]
