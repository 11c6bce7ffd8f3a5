"""`llminfra channels plan|apply`: reconcile each gateway's channels and tokens.

Exit codes are in :mod:`.cliargs` (0 ok, 1 failed, 2 invalid, 3 pending, 4 a test failed
after the writes, 5 a conflict needs a decision).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import TextIO

from llminfra.model import Stack

from .applying import ApplyError, ApplyResult, Writer, apply
from .chantest import TestMode, render_tests, run_tests, select
from .cliargs import CONFLICT, FAILED, INVALID, OK, PENDING, TEST_FAILED
from .errors import OneAPIError
from .flavor import ONEAPI
from .from_stack import desired_state, fingerprints, flavor_of
from .keys import KeyReport, capture_keys
from .plan import Plan
from .reconcile import desired_digest, plan
from .session import admin_client, local_state

SEVERITY = (FAILED, CONFLICT, TEST_FAILED, PENDING, OK)


def worst(codes: list[int]) -> int:
    return min(codes, key=SEVERITY.index, default=OK)


@dataclass(frozen=True)
class Options:
    apply: bool = False
    prune: bool = False
    adopt: bool = False
    reenable: bool = False
    test: TestMode = "changed"
    test_billed: bool = False
    test_concurrency: int = 4
    save: bool = False
    saved: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        return cls(apply=args.action == "apply", prune=args.prune, adopt=args.adopt,
                   reenable=args.reenable, test=args.test, test_billed=args.test_billed,
                   test_concurrency=args.test_concurrency, save=args.save, saved=args.saved)


def _report_keys(keys: KeyReport, path: str, out: TextIO, err: TextIO) -> None:
    if keys.captured:
        print(f"captured token keys into {path}: {', '.join(keys.captured)}", file=out)
    for line in keys.unrecoverable:
        print(line, file=err)


def _print_plan(gateway: str, p: Plan, out: TextIO) -> None:
    print(f"== {gateway}: {p.summary()}", file=out)
    notices = p.notices()
    if not p.is_empty or notices:
        print(p.render_table(), file=out)
    for line in notices:
        print(f"{gateway}: {line}", file=out)


def _apply(client: Writer, gateway: str, p: Plan, stack: Stack,
           out: TextIO, err: TextIO) -> tuple[int, ApplyResult]:
    local = local_state(stack, gateway)
    try:
        result = apply(client, p, local, fingerprints(stack, gateway))
        code = OK
    except ApplyError as exc:
        print(f"{gateway}: oneapi: {exc}", file=err)
        result, code = exc.result, FAILED
    if result.done:
        print(f"applied {len(result.done)} write(s); backup: {result.backup}", file=out)
    _report_keys(result.keys, local.secrets_path, out, err)
    if result.registry_error:
        print(f"{gateway}: oneapi: could not record ownership on the gateway "
              f"({result.registry_error}); the next run recognises its objects anyway", file=err)
    if result.root_unknown:
        print(f"{gateway}: root password: NOT verified ({result.root_unknown}); the default "
              "password may still work - the next apply checks again", file=err)
        code = FAILED
    return code, result


def reconcile_gateway(stack: Stack, gateway: str, opts: Options, *,
                      admin_url: str | None = None, out: TextIO | None = None,
                      err: TextIO | None = None) -> int:
    """Plan (and apply, test) one gateway; returns its exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    desired = desired_state(stack, gateway)
    fps = fingerprints(stack, gateway)
    local = local_state(stack, gateway)
    # New-API's root gets its password at setup (credentials.py); no default to replace
    root_pw = stack.secret(stack.gateways[gateway].oneapi_settings.root_password) \
        if flavor_of(stack, gateway) == ONEAPI else None
    with admin_client(stack, gateway, admin_url) as client:
        if opts.saved:
            text = local.take_plan()
            if text is None:
                print(f"{gateway}: no saved plan (run `channels plan --save` first)", file=err)
                return FAILED
            try:
                p = Plan.from_json(text, desired, root_pw, desired_digest(desired, fps))
            except (ValueError, KeyError, TypeError) as exc:
                print(f"{gateway}: saved plan not usable: {exc}", file=err)
                return FAILED
        else:
            p = plan(client, desired, fps, prune=opts.prune, adopt=opts.adopt,
                     reenable=opts.reenable, root_password=root_pw)
            _report_keys(capture_keys(p, local, client), local.secrets_path, out, err)
        _print_plan(gateway, p, out)
        if not opts.apply:
            if opts.save:
                local.save_plan(p.to_json())
            return CONFLICT if p.conflicts else PENDING if not p.is_empty else OK
        code, result = _apply(client, gateway, p, stack, out, err)
        tests = run_tests(client, select(p, result, opts.test), billed=opts.test_billed,
                          concurrency=opts.test_concurrency)
        if tests:
            print(p.scrub(render_tests(tests)), file=out)
        if code == OK and p.conflicts:
            code = CONFLICT
        if code == OK and any(t.failed for t in tests):
            code = TEST_FAILED
        return code


def reconcile_reported(stack: Stack, gateway: str, opts: Options, *,
                       admin_url: str | None = None, out: TextIO | None = None,
                       err: TextIO | None = None) -> int:
    """:func:`reconcile_gateway`, with a OneAPI error reported in one line as FAILED."""
    try:
        return reconcile_gateway(stack, gateway, opts, admin_url=admin_url, out=out, err=err)
    except OneAPIError as exc:
        print(f"{gateway}: oneapi: {exc}", file=err or sys.stderr)
        return FAILED


def run_channels(stack: Stack, args: argparse.Namespace) -> int:
    gateways = [args.gateway] if args.gateway else list(stack.gateways)
    unknown = [g for g in gateways if g not in stack.gateways]
    if unknown:
        print(f"stack: --gateway: {unknown[0]!r} is not a declared gateway", file=sys.stderr)
        return INVALID
    if (args.save or args.saved) and len(gateways) != 1:
        print("stack: --gateway: a saved plan is per gateway: name one", file=sys.stderr)
        return INVALID
    opts = Options.from_args(args)
    codes = []
    for gw in gateways:
        if stack.gateways[gw].engine != "oneapi":
            print(f"== {gw}: engine {stack.gateways[gw].engine}: its rendered config holds the "
                  "channels and tokens; nothing to reconcile")
            continue
        codes.append(reconcile_reported(stack, gw, opts, admin_url=args.admin_url))
    code = worst(codes)
    if args.action == "plan" and not args.detailed_exitcode and code in (PENDING, CONFLICT):
        return OK
    return code
