"""The whole platform, in dependency order, for whatever host pyinfra is on.

pyinfra runs a deploy op by op across all hosts, but across hosts only by each op's position in
its host's list (see ``llminfra.operations.sync``). The barriers below make the order hold across
hosts: model services and relays first, then OneAPI and the tunnel endpoints, then the tunnels
then the channels that point at all of them, and finally the tunnels no longer declared
(removed model services were stopped on their GPU hosts before the new ones started, so
their GPUs are free).
"""

from __future__ import annotations

from llminfra.facts import batch
from llminfra.model import Stack
from llminfra.operations.sync import barrier

from .channels import channels, plan_ahead
from .gateway import gateway
from .gpu import gpu_host
from .metrics import prometheus
from .relay import relay
from .tunnels import retired_tunnels, tunnel_endpoint, tunnels


def platform(stack: Stack, name: str) -> None:
    """Everything host ``name`` runs, given its role in ``stack``."""
    role = stack.role(name)
    if role == "gateway":  # the channels plan reads the admin API only: it runs meanwhile
        plan_ahead(stack, name)
    if role == "gpu":
        gpu_host(stack, name)
    if role == "relay":
        relay(stack, name)
    barrier(name="Barrier: model services and relays", reached="model services serve, relays run")
    if role == "gateway":
        gateway(stack, name)
    if role == "gpu":
        tunnel_endpoint(stack, name)
    barrier(name="Barrier: OneAPI and tunnel endpoints", reached="OneAPI answers, "
            "tunnel endpoints accept the gateway's key")  # fmt: skip
    if role == "gateway":
        tunnels(stack, name)
        channels(stack, name)
        prometheus(stack, name)
        # last: channels were moved off what is retired before it goes
        retired_tunnels(stack, name)
    # every op is announced: read this host's state now, while the other hosts are read too
    batch.gather_ahead()
