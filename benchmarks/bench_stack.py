"""Validate and render stacks of growing size; print time and peak memory per size.

    python3 benchmarks/bench_stack.py [SIZES...]      # default: 10 50 200 GPU hosts
"""

from __future__ import annotations

import base64
import struct
import sys
import time
import tracemalloc

from llminfra.model import parse_stack
from llminfra.render import render_all

# `check` wants 16 characters at least for the kit's own access-control secrets
SECRETS = {"KEY": "model-key-value-0001", "SESSION": "session-value-0001",
           "ROOT_TOKEN": "root-token-value-0001", "ROOT_PW": "root-password-0001",
           "RELAY": "relay-secret-value-0001"}


def host_key(h: int) -> str:
    """A well-formed ed25519 public key of its own per host (one pin per machine)."""
    blob = b"".join(struct.pack(">I", len(part)) + part
                    for part in (b"ssh-ed25519", h.to_bytes(32, "big")))
    return "ssh-ed25519 " + base64.b64encode(blob).decode()


def stack_data(gpu_hosts: int) -> dict:
    gpus = {}
    for h in range(gpu_hosts):
        ip = f"10.1.{h // 250}.{h % 250 + 1}"
        direct = not h % 2
        # direct hosts publish on their private address (a public bind needs an opt-in)
        bind = {"bind": ip} if direct else {}
        services = [
            {"kind": "vllm", "name": "chat", "model": f"org/model-{h}", "port": 8000,
             "gpus": [0, 1], "api_key": "KEY", "channel": {"priority": h}, **bind},
            {"kind": "ollama", "name": "ollama", "gpus": [2], "models": [f"m{h}:7b"], **bind},
            {"kind": "openai", "name": "embed", "image": "ghcr.io/x/tei:1", "port": 8080,
             "gpus": "cpu", "models": [f"embed-{h}"], **bind},
        ]
        gpus[f"gpu-{h}"] = {"ssh": {"host": ip,
                                    "host_key": host_key(h)},
                            "reach": "direct" if direct else "tunnel", "gpus": 4,
                            "services": services}
    return {
        "mirrors": {"image_rewrite": {"ghcr.io": "ghcr.m.example"}},
        "gpu_hosts": gpus,
        "gateways": {"gw-1": {"ssh": {"host": "10.0.0.1"}, "nginx": {"server_name": "api.x"},
                              "oneapi": {"session_secret": "SESSION",
                                         "root_access_token": "ROOT_TOKEN",
                                         "root_password": "ROOT_PW"}}},
        "relays": {"relay-1": {"ssh": {"host": "10.0.0.2"}, "server_name": "relay.x",
                               "providers": [{"kind": "openai"}],
                               "access": {"allow_cidrs": ["10.0.0.1/32"], "shared_secret": "RELAY"}}},
        "tokens": [{"name": f"t{i}"} for i in range(20)],
    }


def measure(size: int) -> tuple[float, float, int, float]:
    data = stack_data(size)
    tracemalloc.start()
    start = time.perf_counter()
    stack = parse_stack(data, environ=SECRETS)
    validated = time.perf_counter() - start
    files = render_all(stack)
    rendered = time.perf_counter() - start - validated
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return validated, rendered, sum(len(f) for f in files.values()), peak / 2**20


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [10, 50, 200]
    print(f"{'gpu hosts':>9} {'services':>8} {'validate s':>10} {'render s':>9} "
          f"{'files':>6} {'peak MiB':>8}")
    for size in sizes:
        validated, rendered, files, peak = measure(size)
        print(f"{size:>9} {size * 3:>8} {validated:>10.3f} {rendered:>9.3f} {files:>6} {peak:>8.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
