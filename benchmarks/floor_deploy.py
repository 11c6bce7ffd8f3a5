"""The floor of a pyinfra run: connect, ask each host one fact, exit (benchmarks/redeploy.py)."""

from pyinfra import host
from pyinfra.facts.server import Hostname

host.get_fact(Hostname)
