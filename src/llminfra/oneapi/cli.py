"""`llminfra channels plan|apply`: reconcile each gateway's channels and tokens.

Exit codes: 0 done / nothing to change, 1 an API or connection error, 2 invalid inventory,
3 (`plan --detailed-exitcode`) changes are pending.
"""

from __future__ import annotations

import argparse
import sys

from llminfra.model import Stack

from .errors import OneAPIError
from .flavor import ONEAPI
from .from_stack import desired_state, flavor_of
from .reconcile import apply, plan
from .session import admin_client, local_state

PENDING = 3


def reconcile_gateway(stack: Stack, gateway: str, *, do_apply: bool, prune: bool,
                      admin_url: str | None = None, out=sys.stdout) -> bool:
    """Plan (and apply) one gateway; returns whether changes were pending."""
    desired = desired_state(stack, gateway)
    local = local_state(stack, gateway)
    # New-API's root gets its password at setup (credentials.py); no default to replace
    root_pw = stack.secret(stack.gateways[gateway].oneapi_settings.root_password) \
        if flavor_of(stack, gateway) == ONEAPI else None
    with admin_client(stack, gateway, admin_url) as client:
        p = plan(client, desired, local, prune=prune, root_password=root_pw)
        print(f"== {gateway}: {p.summary()}", file=out)
        if not p.is_empty:
            print(p.render_table(), file=out)
        if do_apply and not p.is_empty:
            result = apply(client, p, local, test_channels=True)
            print(f"applied {len(result.done)} write(s); backup: {result.backup}", file=out)
            if result.tests:
                print(result.render_tests(), file=out)
        return not p.is_empty


def run_channels(stack: Stack, args: argparse.Namespace) -> int:
    gateways = [args.gateway] if args.gateway else list(stack.gateways)
    unknown = [g for g in gateways if g not in stack.gateways]
    if unknown:
        print(f"stack: --gateway: {unknown[0]!r} is not a declared gateway", file=sys.stderr)
        return 2
    pending = False
    for gw in gateways:
        if stack.gateways[gw].engine != "oneapi":
            print(f"== {gw}: engine {stack.gateways[gw].engine}: its rendered config holds the "
                  "channels and tokens; nothing to reconcile")
            continue
        try:
            pending |= reconcile_gateway(stack, gw, do_apply=args.action == "apply",
                                         prune=args.prune, admin_url=args.admin_url)
        except OneAPIError as exc:
            print(f"{gw}: oneapi: {exc}", file=sys.stderr)
            return 1
    if args.action == "plan" and args.detailed_exitcode and pending:
        return PENDING
    return 0
