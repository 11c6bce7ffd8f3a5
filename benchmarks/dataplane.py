"""Data plane: time to first token and chunk gaps through the platform's hops against the same
model server reached directly, at 1 and at 50 concurrent streams.

Paths (each against its own floor, measured in the same repeat):
- gateway: client -> Nginx (TLS) -> OneAPI -> gpu-1's Ollama, floor: gpu-1's Ollama directly;
- tunnel: client -> Nginx -> OneAPI -> autossh tunnel -> gpu-2's vLLM, floor: that vLLM on
  gpu-2's loopback, measured from inside gpu-2;
- relay: client -> Nginx -> OneAPI -> relay Nginx (TLS) -> the provider stand-in, floor: the
  stand-in directly (TLS, the provider's name).
The client is benchmarks/stream_probe.py everywhere (stdlib http.client, a connection opened
before the clock starts). Each side gets one unmeasured round at the same concurrency first
(model loaded, the hops' kept connections made), then the sides alternate. TTFT is the median
over the streams of one repeat; a gap is the time between two content chunks; a stream is
clumped when it arrives as one burst (llminfra.smoke).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

from llminfra.model import load_stack
from llminfra.model.secrets import parse_dotenv
from llminfra.paths import OperatorPaths
from llminfra.smoke import clumped

from .figures import Figure, Goal
from .lab import counted_pyinfra, lab_lock, lab_up

SUITE = "dataplane"
PROBE = Path(__file__).with_name("stream_probe.py")
ADDED_MS = 5.0
PROMPT = [{"role": "user", "content": "Count from one to ten."}]


def probe(spec: dict, inside: str | None = None) -> list[dict]:
    """Run the probe here, or inside the lab host container ``inside``."""
    if inside:
        argv = ["docker", "exec", "-i", inside, "python3", "-", json.dumps(spec)]
        proc = subprocess.run(argv, input=PROBE.read_text(), capture_output=True, text=True,
                              timeout=900, check=False)
    else:
        proc = subprocess.run([sys.executable, str(PROBE), json.dumps(spec)],
                              capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"stream probe failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def paths(repo: Path, state) -> list[tuple[str, dict, dict, str | None]]:
    """(name, via-spec, direct-spec, container the direct probe runs in)."""
    stack = load_stack(repo / "inventory" / "lab.yml")
    gw = stack.gateways["gw-1"]
    token = parse_dotenv(OperatorPaths.beside(repo / "inventory" / "lab.yml")
                         .oneapi_tokens("gw-1").read_text())["LMI_TOKEN_APPS"]
    gateway = {"url": f"https://{state.hosts['gw-1'].address}/v1/chat/completions",
               "sni": gw.nginx.server_name, "headers": {"Authorization": f"Bearer {token}"}}

    def body(model: str) -> dict:
        return {"model": model, "max_tokens": 12, "temperature": 0, "messages": PROMPT}

    gpu1 = {"url": f"http://{state.hosts['gpu-1'].address}:11434/v1/chat/completions"}
    smol = next(s for s in stack.gpu_hosts["gpu-2"].services if s.name == "smol")
    vllm = {"url": f"http://127.0.0.1:{smol.port}/v1/chat/completions",
            "headers": {"Authorization": f"Bearer {stack.secret(smol.client_key())}"}}
    upstream = {"url": f"https://{state.upstream_address}/v1/chat/completions",
                "sni": "api.openai.com", "headers": {"Authorization": "Bearer lab"}}
    return [
        ("gateway", {**gateway, "body": body("qwen2.5:0.5b")},
         {**gpu1, "body": body("qwen2.5:0.5b")}, None),
        ("tunnel", {**gateway, "body": body("smollm2-135m")},
         {**vllm, "body": body(smol.served()[0])}, state.hosts["gpu-2"].container),
        ("relay", {**gateway, "body": body("gpt-4o-mini")},
         {**upstream, "body": body("gpt-4o-mini")}, None),
    ]


def _summary(streams: list[dict]) -> tuple[float, float, int, int, str]:
    """(median TTFT ms, median gap ms, clumped streams, failed streams, an error seen); a
    stream that answered without any content counts as failed."""
    for s in streams:
        if not s["error"] and not s["arrivals"]:
            s["error"] = "answered 200 with no content chunk"
    good = [s["arrivals"] for s in streams if not s["error"]]
    if not good:
        errors = {s["error"] for s in streams}
        raise RuntimeError(f"every stream failed: {sorted(errors)[:3]}")
    ttft = statistics.median(a[0] for a in good) * 1000
    gaps = [b - a for arr in good for a, b in zip(arr, arr[1:], strict=False)]
    gap = statistics.median(gaps) * 1000 if gaps else 0.0
    errors = [s["error"] for s in streams if s["error"]]
    return (ttft, gap, sum(1 for a in good if clumped(a)), len(streams) - len(good),
            errors[0][:120] if errors else "")


def run(repo: Path, repeats: int, quick: bool = False, log=print,
        concurrency: tuple[int, ...] = (1, 50)) -> list[Figure]:
    figures: dict[tuple[str, int, str], Figure] = {}
    with lab_lock(log):
        state = lab_up(repo, log)
        # a lab brought up by this run (or by another worktree) serves nothing yet
        converge = counted_pyinfra(repo, "deploys/all.py")
        log(f"[bench] converge run {converge.seconds:.1f} s, changed {len(converge.changed())} ops")
        routes = paths(repo, state)
        for n in concurrency:
            for name, via, direct, inside in routes:
                ttft = Figure(SUITE, f"{name}, {n} stream(s): TTFT p50", "ms", "direct",
                              goal=Goal("added", ADDED_MS, at="median"))
                gap = Figure(SUITE, f"{name}, {n} stream(s): chunk gap p50", "ms", "direct",
                             note="the provider stand-in answers in one content chunk: no gap "
                                  "to compare" if name == "relay" else "")
                clump = Figure(SUITE, f"{name}, {n} stream(s): clumped streams", "streams",
                               "direct", goal=Goal("added", 0))
                failed = {"via": 0, "direct": 0}
                seen = ""
                # one unmeasured round per side first: a model (re)started since the last run
                # loads on its first request, and OneAPI's connections to the next hop are made
                # once and then kept (as the probe's own are opened before the clock)
                probe({**direct, "streams": n}, inside)
                probe({**via, "streams": n})
                for i in range(repeats):
                    # sides alternate which goes first, so neither always runs after the other
                    if i % 2:
                        value = _summary(probe({**via, "streams": n}))
                    floor = _summary(probe({**direct, "streams": n}, inside))
                    if not i % 2:
                        value = _summary(probe({**via, "streams": n}))
                    ttft.add(value[0], floor[0])
                    gap.add(value[1], floor[1])
                    clump.add(value[2], floor[2])
                    failed["via"] += value[3]
                    failed["direct"] += floor[3]
                    seen = seen or value[4] or floor[4]
                if failed["via"] or failed["direct"]:
                    ttft.note = (f"streams without an answer, of {n * repeats} each: "
                                 f"{failed['via']} via {name}, {failed['direct']} direct "
                                 f"(e.g. {seen}); medians are over the others")
                log(f"[bench] {name} x{n}: TTFT {ttft.values[-1]:.1f} ms vs direct "
                    f"{ttft.floors[-1]:.1f} ms")
                figures.update({(name, n, "ttft"): ttft, (name, n, "gap"): gap,
                                (name, n, "clump"): clump})
    return list(figures.values())
