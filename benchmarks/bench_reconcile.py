"""Reconcile N channels and tokens against the in-process OneAPI emulator; print time and
request counts for the first apply, the no-change re-plan, and a one-field change.

    python3 benchmarks/bench_reconcile.py [SIZES...]      # default: 10 100 300 channels
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
import time

from llminfra.oneapi.client import OneAPIClient
from llminfra.oneapi.desired import DesiredChannel, DesiredState, DesiredToken
from llminfra_lab.oneapi_emulator import Emulator
from llminfra.oneapi.localstate import LocalState
from llminfra.oneapi.reconcile import apply, plan
from llminfra.oneapi.registry import Fingerprints

ACCESS = "0123456789abcdef0123456789abcdef"


def desired(n: int) -> DesiredState:
    channels = tuple(DesiredChannel(name=f"gpu-{i}/chat", type=50, base_url=f"http://10.0.{i // 250}.{i % 250}:8000/v1",
                                    models=(f"model-{i}",), key=f"key-{i}", priority=i % 5)
                     for i in range(n))
    tokens = tuple(DesiredToken(name=f"user-{i}") for i in range(max(1, n // 10)))
    return DesiredState(channels=channels, tokens=tokens)


def run(n: int) -> list[str]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp, \
            Emulator(f"{tmp}/one-api.json", env={"INITIAL_ROOT_ACCESS_TOKEN": ACCESS}) as emu, \
            OneAPIClient(emu.url, ACCESS) as client:
        local = LocalState(f"{tmp}/state")
        fps = Fingerprints(ACCESS)
        want = desired(n)
        for label, state in (("first apply", want), ("no-change", want),
                             ("one priority changed", dataclasses.replace(
                                 want, channels=(dataclasses.replace(want.channels[0], priority=99),
                                                 *want.channels[1:])))):
            before_all, before_w = len(emu.requests), len(emu.writes())
            start = time.perf_counter()
            p = plan(client, state, fps)
            apply(client, p, local, fps)
            took = time.perf_counter() - start
            rows.append(f"{n:>8} {label:<22} {took:>8.2f} {len(emu.requests) - before_all:>9} "
                        f"{len(emu.writes()) - before_w:>7}")
    return rows


def main(argv: list[str]) -> None:
    print(f"{'channels':>8} {'step':<22} {'seconds':>8} {'requests':>9} {'writes':>7}")
    for n in [int(a) for a in argv] or [10, 100, 300]:
        print("\n".join(run(n)))


if __name__ == "__main__":
    main(sys.argv[1:])
