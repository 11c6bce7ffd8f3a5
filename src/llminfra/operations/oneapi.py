"""OneAPI channels and tokens as a pyinfra operation.

One plan per deploy: the planning phase plans (reads only, no login) and saves the plan, and
the execution phase applies exactly that saved plan in a child `llminfra channels apply --saved`
process, so what `--dry` shows is what runs, and the gateway is read once.

The plan starts when deploy code calls the op (or :func:`plan_ahead`), so it runs while the
hosts are read; the op uses its answer only if nothing has changed anywhere since, else it
plans again. When the op runs on the gateway itself, over SSH, with the stack the inventory
loaded, the plan runs here, in a greenlet, through pyinfra's own connection to the gateway
(:func:`llminfra.oneapi.tunnel.forwarded`): no second Python, no second SSH handshake.
Otherwise it runs in a child `llminfra channels plan --save`, which opens its own pinned
tunnel. Both print the same masked plan and save it the same way.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable, Generator
from typing import Any

import gevent
from pyinfra import host, logger, state
from pyinfra.api import FunctionCommand, OperationError, operation
from pyinfra.connectors.ssh import SSHConnector
from pyinfra.context import ctx_host

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


Result = subprocess.CompletedProcess[str]
_EARLY: dict[tuple[str, ...], Callable[[], Result]] = {}


def _plan_argv(stack_file: str, gateway: str, prune: bool = False, adopt: bool = False,
               reenable: bool = False, **_: object) -> list[str]:
    return channels_argv("plan", stack_file, gateway, prune=prune, adopt=adopt,
                         reenable=reenable)


def _connection_to(stack_file: str, gateway: str) -> tuple[Any, Any] | None:
    """(stack, paramiko transport) when this op runs on ``gateway`` over pyinfra's SSH
    connector with the stack loaded from ``stack_file``; else None (plan in a child)."""
    if not ctx_host.isset():  # type: ignore[no-untyped-call]
        return None
    stack = host.data.get("llminfra_stack")
    client = getattr(host.connector, "client", None)
    if (host.data.get("llminfra_name") != gateway or stack is None
            or str(stack.source) != stack_file or not isinstance(host.connector, SSHConnector)
            or client is None):
        return None
    transport = client.get_transport()
    return (stack, transport) if transport is not None and transport.is_active() else None


def _plan_here(argv: list[str], stack: Any, transport: Any, gateway: str, prune: bool,
               adopt: bool, reenable: bool) -> Result:
    """`channels plan --save` for one gateway, run in this process."""
    # httpcore probes for trio when a client is made; under gevent's patched select (no
    # epoll) trio's import fails with an error httpcore does not catch. It cannot run here.
    sys.modules.setdefault("trio", None)  # type: ignore[arg-type]
    from llminfra.oneapi.cli import Options, reconcile_reported
    from llminfra.oneapi.tunnel import forwarded

    oa = stack.gateways[gateway].oneapi_settings
    out, err = io.StringIO(), io.StringIO()
    opts = Options(prune=prune, adopt=adopt, reenable=reenable, save=True)
    try:
        with forwarded(transport, (oa.admin_bind.strip("[]"), oa.admin_port)) as url:
            code = reconcile_reported(stack, gateway, opts, admin_url=url, out=out, err=err)
    except Exception as exc:  # noqa: BLE001 - reported in one line, as the child's exit 1
        print(f"{gateway}: oneapi: plan failed: {exc.__class__.__name__}: {exc}", file=err)
        code = FAILED
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def _start_plan(stack_file: str, gateway: str, prune: bool = False, adopt: bool = False,
                reenable: bool = False, **_: object) -> None:
    argv = _plan_argv(stack_file, gateway, prune, adopt, reenable)
    if tuple(argv) in _EARLY:
        return
    here = _connection_to(stack_file, gateway)
    if here is not None:
        _EARLY[tuple(argv)] = gevent.spawn(_plan_here, argv, *here, gateway, prune, adopt,
                                           reenable).get
        return
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def finish() -> Result:
        out, err = proc.communicate(timeout=900)
        return subprocess.CompletedProcess(argv, proc.returncode, out, err)

    _EARLY[tuple(argv)] = finish


def _plan(stack_file: str, gateway: str, prune: bool, adopt: bool, reenable: bool) -> Result:
    """The plan started at call time if nothing has changed anywhere since, else a new one."""
    key = tuple(_plan_argv(stack_file, gateway, prune, adopt, reenable))
    early = _EARLY.pop(key, None)
    if early is not None:
        result = early()  # also before a new plan: one --save at a time
        if not batch.executed_anywhere():
            return result
    _start_plan(stack_file, gateway, prune, adopt, reenable)
    return _EARLY.pop(key)()


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
    _start_plan(stack_file, gateway, prune, adopt, reenable)


@expecting(lambda **a: [lambda: _start_plan(**a)])
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
    proc = _plan(stack_file, gateway, prune, adopt, reenable)
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
