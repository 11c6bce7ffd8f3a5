"""OneAPI channels and tokens, reconciled through the gateway's admin API."""

from __future__ import annotations

from pyinfra.api import DeployError, deploy

from llminfra.model import Stack
from llminfra.operations import oneapi


@deploy("OneAPI channels")
def channels(stack: Stack, gateway: str, prune: bool = False, adopt: bool = False,
             reenable: bool = False, test: str = "changed") -> None:
    """
    Channels (model services, relays) and tokens of one gateway, as the stack declares them.

    + stack: the loaded stack (its source file is handed to ``llminfra channels``)
    + gateway: key of ``stack.gateways``
    + prune: also delete managed tokens no longer declared (managed channels no longer
      declared always go, after the new ones exist)
    + adopt: take over objects with a managed name that llminfra did not create
    + reenable: turn channels the gateway disabled itself back on
    + test: which channels to test after the writes (``changed``, ``all``, ``none``)

    Runs after OneAPI answers and the tunnels are up, so each channel's test reaches it.
    """
    if stack.gateways[gateway].engine != "oneapi":
        return  # LiteLLM: its rendered config is the source of truth, there is nothing to reconcile
    if stack.source is None:
        raise DeployError("channels: the stack was not loaded from a file")
    oneapi.objects(name="Channels and tokens", stack_file=str(stack.source), gateway=gateway,
                   prune=prune, adopt=adopt, reenable=reenable, test=test)  # fmt: skip


def plan_ahead(stack: Stack, gateway: str, prune: bool = False, adopt: bool = False,
               reenable: bool = False) -> None:
    """Start the plan :func:`channels` (called with the same options) will read; call it first
    in the gateway's deploy code."""
    if stack.gateways[gateway].engine == "oneapi" and stack.source is not None:
        oneapi.plan_ahead(str(stack.source), gateway, prune=prune, adopt=adopt, reenable=reenable)
