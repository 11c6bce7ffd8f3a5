"""OneAPI channels and tokens as a pyinfra operation.

The reconcile runs in a child `llminfra channels` process on the operator's machine: it talks
to the gateway's loopback admin port through its own SSH tunnel, outside pyinfra's gevent
loop, and its plan output is already masked.
"""

from __future__ import annotations

import subprocess
import sys

from pyinfra import host, logger, state
from pyinfra.api import FunctionCommand, OperationError, operation

PENDING, ERROR = 3, 1


def channels_argv(action: str, stack_file: str, gateway: str, prune: bool = False) -> list[str]:
    argv = [sys.executable, "-m", "llminfra", "channels", action, stack_file, "--gateway", gateway]
    if action == "plan":
        argv.append("--detailed-exitcode")
    if prune:
        argv.append("--prune")
    return argv


def _run(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=600)


def _apply(stack_file: str, gateway: str, prune: bool) -> None:
    proc = _run(channels_argv("apply", stack_file, gateway, prune))
    for text in (proc.stdout, proc.stderr):
        if text.strip():
            logger.info(text.rstrip())
    if proc.returncode != 0:
        raise OperationError(f"{gateway}: OneAPI reconcile failed: {proc.stderr.strip()}")


@operation()
def objects(stack_file: str, gateway: str, prune: bool = False):
    """
    Reconcile a gateway's OneAPI channels and tokens with the inventory.

    + stack_file: the stack YAML the inventory was loaded from
    + gateway: gateway name in that stack
    + prune: delete managed (``lmi/``) objects that are no longer declared

    Plans first; when nothing differs this is a no-op. With ``--dry`` the plan is printed
    and nothing is written. A gateway that is not reachable yet during planning (first
    deploy: OneAPI starts earlier in the same run) is reconciled at execution.

    **Example:**

    .. code:: python

        oneapi.objects(stack_file="inventory/prod.yml", gateway="gw-1")
    """
    proc = _run(channels_argv("plan", stack_file, gateway, prune))
    if proc.returncode == 0:
        host.noop(f"OneAPI channels and tokens on {gateway} match the inventory")
        return
    if proc.returncode == PENDING:
        logger.info(proc.stdout.rstrip())
    elif proc.returncode == ERROR and not state.is_executing:
        logger.info(f"{gateway}: OneAPI not reachable yet ({proc.stderr.strip()}); "
                    "it is reconciled after the gateway is deployed")
    else:
        raise OperationError(f"{gateway}: OneAPI plan failed: {proc.stderr.strip()}")
    yield FunctionCommand(_apply, (stack_file, gateway, prune), {})
