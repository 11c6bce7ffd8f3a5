"""OneAPI channels and tokens as a pyinfra operation.

The reconcile runs in a child `llminfra channels` process on the operator's machine: it talks
to the gateway's loopback admin port through its own SSH tunnel, outside pyinfra's gevent
loop, and its plan output is already masked.

One plan per deploy: the planning phase runs `channels plan --save` (reads only, no login) and
the execution phase applies exactly that saved plan (`channels apply --saved`), so what
`--dry` shows is what runs, and the gateway is read once.

The plan process starts when deploy code calls the op, so it runs while the hosts are deployed
(a child Python and its SSH tunnel take about a second); the op uses its answer only if nothing
has changed anywhere since, else it plans again.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Generator

from pyinfra import host, logger, state
from pyinfra.api import FunctionCommand, OperationError, operation

from llminfra.facts import batch
from llminfra.facts.batch import expecting
from llminfra.oneapi.cliargs import CONFLICT, FAILED, OK, PENDING, TEST_FAILED


def channels_argv(action: str, stack_file: str, gateway: str, *, prune: bool = False,
                  adopt: bool = False, reenable: bool = False, test: str = "changed",
                  saved: bool = False) -> list[str]:
    """`llminfra channels` command line: plans save, applies run the saved plan if any."""
    argv = [sys.executable, "-m", "llminfra", "channels", action, stack_file, "--gateway", gateway]
    if action == "plan":
        argv += ["--detailed-exitcode", "--save"]
    else:
        argv += ["--test", test] + (["--saved"] if saved else [])
    argv += [flag for flag, on in (("--prune", prune), ("--adopt", adopt),
                                   ("--reenable", reenable)) if on]
    return argv


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=900)


_EARLY: dict[tuple[str, ...], subprocess.Popen[str]] = {}


def _plan_argv(stack_file: str, gateway: str, prune: bool = False, adopt: bool = False,
               reenable: bool = False, **_: object) -> list[str]:
    return channels_argv("plan", stack_file, gateway, prune=prune, adopt=adopt,
                         reenable=reenable)


def _start_plan(argv: list[str]) -> None:
    if tuple(argv) not in _EARLY:
        _EARLY[tuple(argv)] = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                               stderr=subprocess.PIPE, text=True)


def _plan(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """The plan started at call time if nothing has changed anywhere since, else a new one."""
    early = _EARLY.pop(tuple(argv), None)
    if early is not None:
        out, err = early.communicate(timeout=900)  # also before a new plan: one --save at a time
        if not batch.executed_anywhere():
            return subprocess.CompletedProcess(argv, early.returncode, out, err)
    return _run(argv)


def _apply(argv: list[str], gateway: str) -> None:
    proc = _run(argv)
    for text in (proc.stdout, proc.stderr):
        if text.strip():
            logger.info(text.rstrip())
    why = {FAILED: "reconcile failed", TEST_FAILED: "writes done, but a channel test failed",
           CONFLICT: "objects need a decision (see above); everything else was done"}
    if proc.returncode != OK:
        reason = why.get(proc.returncode, f"exit {proc.returncode}")
        raise OperationError(f"{gateway}: OneAPI: {reason}: {proc.stderr.strip()}")


def plan_ahead(stack_file: str, gateway: str, prune: bool = False, adopt: bool = False,
               reenable: bool = False) -> None:
    """Start the plan :func:`objects` will read (same arguments) now, before deploy code gets
    to that op: it reads only the admin API, so it can run while the hosts are read."""
    _start_plan(_plan_argv(stack_file, gateway, prune, adopt, reenable))


@expecting(lambda **a: [lambda: _start_plan(_plan_argv(**a))])
@operation()
def objects(stack_file: str, gateway: str, prune: bool = False, adopt: bool = False,
            reenable: bool = False, test: str = "changed"
            ) -> Generator[FunctionCommand, None, None]:
    """
    Reconcile a gateway's OneAPI channels and tokens with the inventory.

    + stack_file: the stack YAML the inventory was loaded from
    + gateway: gateway name in that stack
    + prune: also delete managed (``lmi/``) tokens no longer declared; managed channels no
      longer declared are always deleted, after every create
    + adopt: take over objects with a managed name that llminfra did not create
    + reenable: turn channels the gateway disabled itself back on
    + test: channels to test after the writes: ``changed`` (default), ``all`` or ``none``

    Plans first (no login); when nothing differs this is a no-op. With ``--dry`` the plan is
    printed and nothing is written. A gateway that is not reachable yet during planning (first
    deploy: OneAPI starts earlier in the same run) is planned and applied at execution.

    **Example:**

    .. code:: python

        oneapi.objects(stack_file="inventory/prod.yml", gateway="gw-1")
    """
    proc = _plan(_plan_argv(stack_file, gateway, prune, adopt, reenable))
    if proc.returncode == OK:
        host.noop(f"OneAPI channels and tokens on {gateway} match the inventory")
        return
    if proc.returncode in (PENDING, CONFLICT):
        logger.info(proc.stdout.rstrip())
        saved = True
    elif proc.returncode == FAILED and not state.is_executing:
        logger.info(f"{gateway}: OneAPI not reachable yet ({proc.stderr.strip()}); "
                    "it is planned and reconciled after the gateway is deployed")
        saved = False
    else:
        raise OperationError(f"{gateway}: OneAPI plan failed: {proc.stderr.strip()}")
    argv = channels_argv("apply", stack_file, gateway, prune=prune, adopt=adopt,
                         reenable=reenable, test=test, saved=saved)
    yield FunctionCommand(_apply, (argv, gateway), {})
