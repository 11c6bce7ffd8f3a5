"""Reconcile at scale against the in-process OneAPI emulator (no lab needed).

Figures (N channels, default 500; tokens N/10):
- in sync: plan + apply time against the floor of one raw read of the channel and token
  listings (what any planner must read); writes against the 0 a no-change run needs;
- K changed (default 50; a different priority each repeat): writes against K, and the time of
  plan + apply against K raw channel updates sent by the same client.
The emulator keeps its state in memory, so disk syncs do not count.
"""

from __future__ import annotations

import tempfile
import time

from llminfra.oneapi.client import OneAPIClient
from llminfra.oneapi.desired import DesiredChannel, DesiredState, DesiredToken
from llminfra.oneapi.localstate import LocalState
from llminfra.oneapi.reconcile import apply, plan
from llminfra.oneapi.registry import Fingerprints
from llminfra_lab.oneapi_emulator import Emulator

from .figures import Figure, Goal

ACCESS = "0123456789abcdef0123456789abcdef"
FPS = Fingerprints("bench-root-password")
SUITE = "reconcile"


def desired(n: int, bump: int = 0, changed: int = 0) -> DesiredState:
    """n channels; the first ``changed`` have their priority raised by ``bump``."""
    channels = tuple(
        DesiredChannel(name=f"gpu-{i}/chat", type=50, models=(f"model-{i}",), key=f"key-{i}",
                       base_url=f"http://10.0.{i // 250}.{i % 250}:8000/v1",
                       priority=i % 5 + (bump if i < changed else 0))
        for i in range(n))
    tokens = tuple(DesiredToken(name=f"user-{i}") for i in range(max(1, n // 10)))
    return DesiredState(channels=channels, tokens=tokens)


def _reconcile(emu: Emulator, client: OneAPIClient, state: DesiredState,
               local: LocalState) -> tuple[float, int, int]:
    """(seconds, requests, writes) of one plan + apply."""
    before, before_w = len(emu.requests), len(emu.writes())
    start = time.perf_counter()
    apply(client, plan(client, state, FPS), local, FPS)
    took = time.perf_counter() - start
    return took, len(emu.requests) - before, len(emu.writes()) - before_w


def _read_floor(client: OneAPIClient) -> float:
    start = time.perf_counter()
    client.list_channels()
    client.list_tokens()
    return time.perf_counter() - start


def _write_floor(client: OneAPIClient, k: int) -> float:
    rows = sorted(client.list_channels(), key=lambda r: r["id"])[:k]
    start = time.perf_counter()
    for row in rows:
        client.update_channel({"id": row["id"], "priority": row.get("priority") or 0})
    return time.perf_counter() - start


def run(repeats: int, n: int = 500, k: int = 50, log=print) -> list[Figure]:
    sync_time = Figure(SUITE, f"{n} channels in sync: plan+apply time", "s",
                       "raw listing reads", goal=Goal("value", 1.0))
    sync_writes = Figure(SUITE, f"{n} channels in sync: writes", "writes",
                         "writes needed (0)", goal=Goal("value", 0))
    changed_writes = Figure(SUITE, f"{k} of {n} changed: writes", "writes",
                            f"channels changed ({k})", goal=Goal("ratio", 1.0))
    changed_time = Figure(SUITE, f"{k} of {n} changed: plan+apply time", "s",
                          f"{k} raw channel updates")
    with tempfile.TemporaryDirectory() as tmp, \
            Emulator(None, env={"INITIAL_ROOT_ACCESS_TOKEN": ACCESS}) as emu, \
            OneAPIClient(emu.url, ACCESS) as client:
        local = LocalState(f"{tmp}/state")
        took, requests, writes = _reconcile(emu, client, desired(n), local)
        log(f"[bench] reconcile: first apply of {n} channels {took:.1f} s, "
            f"{requests} requests, {writes} writes")
        for i in range(repeats):
            took, requests, writes = _reconcile(emu, client, desired(n), local)
            sync_time.add(took, _read_floor(client))
            sync_time.note = f"{requests} read requests per in-sync run"
            sync_writes.add(writes, 0)
            # a new priority each repeat, so every repeat changes the same K channels again
            took, requests, writes = _reconcile(emu, client, desired(n, i + 1, k), local)
            changed_writes.add(writes, k)
            changed_time.add(took, _write_floor(client, k))
            _reconcile(emu, client, desired(n), local)  # back in sync for the next repeat
    return [sync_time, sync_writes, changed_writes, changed_time]
