"""Arguments of `llminfra channels` (kept apart so building the parser imports no HTTP/SSH)."""

from __future__ import annotations

import argparse

# Exit codes of `llminfra channels` (README "OneAPI channels and tokens as code").
OK, FAILED, INVALID, PENDING, TEST_FAILED, CONFLICT = 0, 1, 2, 3, 4, 5
EXIT_CODES = {
    OK: "done, or nothing to change",
    FAILED: "a request or write failed, or root's password could not be verified: re-run",
    INVALID: "invalid inventory or arguments (nothing was contacted)",
    PENDING: "plan --detailed-exitcode: changes are pending",
    TEST_FAILED: "the writes were done, but a channel test failed",
    CONFLICT: "an object needs a decision (duplicate names, or made outside llminfra); "
              "everything else was done",
}


def add_channel_arguments(ch: argparse.ArgumentParser) -> None:
    ch.add_argument("--gateway", help="only this gateway")
    ch.add_argument("--prune", action="store_true",
                    help="also delete managed tokens no longer declared (managed channels no "
                    "longer declared are always deleted)")
    ch.add_argument("--adopt", action="store_true",
                    help="take over objects with a managed name that llminfra did not create")
    ch.add_argument("--reenable", action="store_true",
                    help="turn channels the gateway disabled itself (status 3) back on")
    ch.add_argument("--test", choices=("all", "changed", "none"), default="changed",
                    help="apply: which channels to test afterwards (default: changed)")
    ch.add_argument("--test-billed", action="store_true",
                    help="apply: also test channels of providers that bill per call")
    ch.add_argument("--test-concurrency", type=int, default=4, metavar="N",
                    help="apply: channel tests in flight at once (default 4)")
    ch.add_argument("--admin-url", help="talk to this admin URL directly instead of through "
                    "an SSH tunnel to the gateway (e.g. a local emulator)")
    ch.add_argument("--detailed-exitcode", action="store_true",
                    help="plan: exit 3 when changes are pending, 5 when objects conflict")
    ch.add_argument("--save", action="store_true",
                    help="plan: keep the plan (no secrets) for `apply --saved` (one gateway)")
    ch.add_argument("--saved", action="store_true",
                    help="apply: run the plan saved by `plan --save` instead of planning again")
