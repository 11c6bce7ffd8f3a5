"""Reconcile N channels and tokens against the in-process emulator, per gateway flavour; print
time, requests and writes for the first apply, the no-change run, the same no-change plan from a
fresh clone (no local state), and a one-field change.

    python3 benchmarks/bench_reconcile.py [SIZES...]      # default: 10 100 300 channels
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
import time

from llminfra.oneapi.client import OneAPIClient
from llminfra.oneapi.credentials import CredentialCache, newapi_credentials
from llminfra.oneapi.desired import DesiredChannel, DesiredState, DesiredToken
from llminfra.oneapi.keys import capture_keys
from llminfra.oneapi.localstate import LocalState
from llminfra.oneapi.reconcile import apply, plan
from llminfra.oneapi.registry import Fingerprints
from llminfra_lab.oneapi_emulator import Emulator

ACCESS = "0123456789abcdef0123456789abcdef"
ROOT_PW = "bench-root-pw1"


def desired(n: int, flavor: str) -> DesiredState:
    type_, suffix = (50, "/v1") if flavor == "oneapi" else (1, "")
    channels = tuple(DesiredChannel(name=f"gpu-{i}/chat", type=type_,
                                    base_url=f"http://10.0.{i // 250}.{i % 250}:8000{suffix}",
                                    models=(f"model-{i}",), key=f"key-{i}", priority=i % 5)
                     for i in range(n))
    tokens = tuple(DesiredToken(name=f"user-{i}") for i in range(max(1, n // 10)))
    return DesiredState(channels=channels, tokens=tokens)


def _client(emu: Emulator, flavor: str, tmp: str) -> OneAPIClient:
    if flavor == "oneapi":
        return OneAPIClient(emu.url, ACCESS)
    creds = newapi_credentials(emu.url, ROOT_PW, CredentialCache(f"{tmp}/creds"))
    return OneAPIClient(emu.url, creds.access_token, flavor="newapi", user_id=creds.user_id)


def run(n: int, flavor: str) -> list[str]:
    rows = []
    fps = Fingerprints(ROOT_PW)
    with tempfile.TemporaryDirectory() as tmp, \
            Emulator(f"{tmp}/gw.json", env={"INITIAL_ROOT_ACCESS_TOKEN": ACCESS},
                     flavor=flavor) as emu, _client(emu, flavor, tmp) as client:
        want = desired(n, flavor)
        changed = dataclasses.replace(want, channels=(
            dataclasses.replace(want.channels[0], priority=99), *want.channels[1:]))
        steps = (("first apply", want, "here"), ("no-change", want, "here"),
                 ("no-change, fresh clone", want, "fresh"), ("one priority changed", changed, "here"))
        for label, state, where in steps:
            local = LocalState(f"{tmp}/{where}")
            before_all, before_w = len(emu.requests), len(emu.writes())
            start = time.perf_counter()
            p = plan(client, state, fps)
            capture_keys(p, local, client)  # what every `channels` run does
            apply(client, p, local, fps)
            took = time.perf_counter() - start
            rows.append(f"{flavor:<7} {n:>8} {label:<24} {took:>8.2f} "
                        f"{len(emu.requests) - before_all:>9} {len(emu.writes()) - before_w:>7}")
    return rows


def main(argv: list[str]) -> None:
    print(f"{'flavor':<7} {'channels':>8} {'step':<24} {'seconds':>8} {'requests':>9} "
          f"{'writes':>7}")
    for flavor in ("oneapi", "newapi"):
        for n in [int(a) for a in argv] or [10, 100, 300]:
            print("\n".join(run(n, flavor)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
