"""`llminfra smoke`: through the public URL, as a client would, with the official `openai` client.

One streamed chat completion per exposed chat model (and one embeddings call per embeddings
model): time to first token, gaps between chunks, tokens per second. A stream whose chunks all
arrive at once is reported as clumped: something on the way (a proxy buffer) holds it back, and
users see nothing until the whole answer is done.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from statistics import median
from typing import Any, Literal

from .model import Stack

Probe = Literal["chat", "embeddings"]
# chunks closer together than this are one burst; a stream that is one burst was buffered
BURST_GAP_S = 0.002
MIN_CHUNKS_TO_JUDGE = 4
# a buffering proxy clumps every stream; a stall on a busy host (the server process not scheduled
# while the model runs ahead) clumps one now and then, so a stream is judged on its best of 3 tries
CLUMP_TRIES = 3


@dataclass(frozen=True)
class Target:
    model: str
    probe: Probe
    origin: str  # "gpu-1/smol" or "channels/openai"


@dataclass
class Result:
    target: Target
    ok: bool = False
    error: str = ""
    ttft_s: float | None = None
    chunks: int = 0
    gaps_s: list[float] = field(default_factory=list)
    total_s: float = 0.0
    tokens: int = 0
    clumped: bool = False
    tries: int = 1

    @property
    def note(self) -> str:
        if self.error or self.tries == 1:
            return self.error
        return f"streamed on try {self.tries} (earlier tries arrived in one burst)"

    @property
    def tokens_per_s(self) -> float | None:
        if self.ttft_s is None or self.total_s <= self.ttft_s or self.tokens < 2:
            return None
        return (self.tokens - 1) / (self.total_s - self.ttft_s)


def targets(stack: Stack, include_external: bool = False) -> list[Target]:
    out: list[Target] = []
    for host, gpu in stack.gpu_hosts.items():
        for svc in gpu.services:
            probe: Probe = "embeddings" if _is_embeddings(svc) else "chat"
            out += [Target(m, probe, f"{host}/{svc.name}") for m in svc.served()]
    if include_external:  # providers bill per call: only when asked
        for ch in stack.channels:
            out += [Target(m, "chat", f"channels/{ch.name}") for m in ch.models]
    return out


def _is_embeddings(svc: Any) -> bool:
    return str(getattr(svc, "task", "") or "").startswith("embed")


def clumped(arrivals: list[float]) -> bool:
    """True when a stream long enough to judge arrived as a single burst."""
    if len(arrivals) < MIN_CHUNKS_TO_JUDGE:
        return False
    return all(b - a < BURST_GAP_S for a, b in zip(arrivals, arrivals[1:], strict=False))


def measure(arrivals: list[float], start: float, end: float, result: Result) -> Result:
    result.chunks = len(arrivals)
    result.total_s = end - start
    if arrivals:
        result.ttft_s = arrivals[0] - start
        result.gaps_s = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    result.clumped = clumped(arrivals)
    return result


def run_chat(client: Any, target: Target, max_tokens: int = 32, tries: int = CLUMP_TRIES) -> Result:
    for attempt in range(1, tries + 1):
        result = _stream_once(client, target, max_tokens)
        result.tries = attempt
        if not result.clumped:
            break
    if result.clumped:
        result.error = (f"{result.chunks} chunks arrived in one burst on each of {tries} tries "
                        "(buffered on the way)")
    return result


def _stream_once(client: Any, target: Target, max_tokens: int) -> Result:
    result = Result(target)
    start = time.monotonic()
    arrivals: list[float] = []
    stream = client.chat.completions.create(
        model=target.model, stream=True, max_tokens=max_tokens, temperature=0,
        messages=[{"role": "user", "content": "Count from one to twenty in words."}],
        stream_options={"include_usage": True})
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.monotonic())
        if getattr(chunk, "usage", None):
            result.tokens = chunk.usage.completion_tokens or 0
    measure(arrivals, start, time.monotonic(), result)
    result.tokens = result.tokens or result.chunks
    result.ok = result.chunks > 0 and not result.clumped
    if not result.chunks:
        result.error = "the stream carried no content"
    return result


def run_embeddings(client: Any, target: Target) -> Result:
    result = Result(target)
    start = time.monotonic()
    reply = client.embeddings.create(model=target.model, input=["smoke test"])
    result.total_s = result.ttft_s = time.monotonic() - start
    dims = len(reply.data[0].embedding) if reply.data else 0
    result.ok = dims > 0
    result.error = "" if result.ok else "no embedding returned"
    return result


def run(client: Any, target: Target) -> Result:
    try:
        return run_embeddings(client, target) if target.probe == "embeddings" \
            else run_chat(client, target)
    except Exception as exc:  # any client error is this hop's failure, reported in one line
        return Result(target, error=f"{type(exc).__name__}: {str(exc)[:200]}")


def rows(results: list[Result]) -> list[list[str]]:
    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v * 1000:.0f}"

    out = []
    for r in results:
        tps = r.tokens_per_s
        out.append([r.target.model, r.target.origin, r.target.probe, "yes" if r.ok else "NO",
                     ms(r.ttft_s), ms(median(r.gaps_s)) if r.gaps_s else "-",
                     ms(max(r.gaps_s)) if r.gaps_s else "-", "-" if tps is None else f"{tps:.1f}",
                     r.note])
    return out


HEADERS = ["model", "via", "probe", "ok", "ttft ms", "gap p50 ms", "gap max ms", "tok/s", "note"]
