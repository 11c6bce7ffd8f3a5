"""Channel tests after an apply: which channels, how many at once, and the result table.

By default only channels this apply created or changed are tested (``changed``); ``all``
tests every declared channel, ``none`` skips tests. Channels whose upstream bills per call
(external providers) are tested only when asked, since every test is a paid request.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from .applying import ApplyResult
from .desired import DesiredChannel
from .errors import OneAPIError
from .plan import Plan

TestMode = Literal["all", "changed", "none"]
TEST_MODES: tuple[TestMode, ...] = ("all", "changed", "none")
Outcome = Literal["ok", "FAIL", "skipped"]


class Tester(Protocol):
    def test_channel(self, channel_id: int, model: str | None = None,
                     timeout: float = 60.0) -> Any: ...


@dataclass(frozen=True)
class ChannelTest:
    name: str
    id: int
    outcome: Outcome
    seconds: float
    message: str

    @property
    def failed(self) -> bool:
        return self.outcome == "FAIL"


def select(plan: Plan, result: ApplyResult, mode: TestMode
           ) -> list[tuple[DesiredChannel, int]]:
    """(declared channel, id) to test, in plan order."""
    if mode == "none":
        return []
    out = []
    for a in plan.actions:
        if a.kind != "channel" or not isinstance(a.desired, DesiredChannel):
            continue
        cid = result.changed_channels.get(a.name)
        if cid is None and mode == "all" and a.op == "unchanged":
            cid = a.id
        if cid is not None and a.desired.enabled:
            out.append((a.desired, cid))
    return out


def _one(client: Tester, d: DesiredChannel, cid: int, timeout: float) -> ChannelTest:
    start = time.monotonic()
    try:
        answer = client.test_channel(cid, model=d.models[0], timeout=timeout)
    except OneAPIError as exc:
        return ChannelTest(d.server_name, cid, "FAIL", time.monotonic() - start, str(exc))
    ok = isinstance(answer, dict) and answer.get("success") is True
    took = float(answer.get("time") or 0) if isinstance(answer, dict) else 0.0
    message = str(answer.get("message", "")) if isinstance(answer, dict) else repr(answer)
    return ChannelTest(d.server_name, cid, "ok" if ok else "FAIL", took, message)


def run_tests(client: Tester, targets: list[tuple[DesiredChannel, int]], *,
              billed: bool = False, concurrency: int = 4, timeout: float = 60.0
              ) -> list[ChannelTest]:
    """Test ``targets`` with at most ``concurrency`` tests in flight."""
    skipped, todo = [], []
    for d, cid in targets:
        why = "serves embeddings; the gateway's test is a chat request" if not d.chat else \
            "bills per call; --test-billed includes it" if d.billed and not billed else ""
        if why:
            skipped.append(ChannelTest(d.server_name, cid, "skipped", 0.0, why))
        else:
            todo.append((d, cid))
    if not todo:
        return skipped
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(todo)))) as pool:
        done = list(pool.map(lambda t: _one(client, t[0], t[1], timeout), todo))
    return done + skipped


def render_tests(tests: list[ChannelTest]) -> str:
    """Table of channel test results (messages cut to one short line)."""
    rows = [("CHANNEL", "ID", "RESULT", "TIME", "MESSAGE")]
    for t in tests:
        msg = " ".join(t.message.split())[:60]
        rows.append((t.name, str(t.id), t.outcome, f"{t.seconds:.2f}s", msg))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join(("  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4]).rstrip()
                     for r in rows)
