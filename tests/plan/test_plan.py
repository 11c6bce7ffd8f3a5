"""`pyinfra --dry --json` of deploys/all.py on @fake hosts: which ops each role gets, in order.

The stack is a copy of inventory/prod.yml (ACME TLS, a direct and a tunnel-only GPU host
with pinned GPUs); nothing is contacted, facts come from canned command output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[2]
SECRETS = ["GPU1_VLLM_KEY", "ONEAPI_SESSION_SECRET", "ONEAPI_ROOT_ACCESS_TOKEN",
           "ONEAPI_ROOT_PASSWORD", "RELAY_SHARED_SECRET", "OPENAI_PROVIDER_KEY", "ANTHROPIC_PROVIDER_KEY",
           "GEMINI_PROVIDER_KEY"]  # fmt: skip
TRIXIE = '/etc/os-release\nID=debian\nVERSION_ID="13"\nVERSION_CODENAME=trixie\n---'
TWO_H200 = ROOT / "tests/facts/data/nvidia-smi/h200-x2/nvidia-smi-query.csv"
# the preflight probe reads /etc/os-release too: its answer must come first
PREFLIGHT = ["uid 0", "systemd yes", "sudo root", "apt yes", "os debian trixie"]
BASE = {"printf 'uid": PREFLIGHT, "-release": TRIXIE, "uname -s": "Linux", "command -v useradd": "/usr/sbin/useradd",
        "dpkg --print-architecture": "amd64"}  # fmt: skip


@pytest.fixture(scope="module")
def stack_file(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("plan")
    data = yaml.safe_load((ROOT / "inventory/prod.yml").read_text())
    # The channels op plans through an SSH tunnel to the gateway: point it at a closed local
    # port so the plan notes "not reachable yet" at once instead of waiting on a timeout.
    data["gateways"]["gw-1"]["ssh"].update(host="127.0.0.1", port=1)
    path = tmp / "prod.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def plan(stack_file: Path, *limits: str, responses: dict | None = None) -> list[dict]:
    canned = stack_file.parent / "responses.json"
    gpu = {**BASE, "nvidia-smi": TWO_H200.read_text().splitlines()}
    canned.write_text(json.dumps(responses or {"gpu": gpu, "gateway": BASE, "relay": BASE}))
    env = {**os.environ, "LLMINFRA_PLAN_STACK": str(stack_file),
           "LLMINFRA_PLAN_RESPONSES": str(canned),
           **{name: f"sk-plan-{i}-secret" for i, name in enumerate(SECRETS)}}  # fmt: skip
    argv = [sys.executable, "-m", "pyinfra", "--dry", "--json", "tests/plan/fake_inventory.py",
            "deploys/all.py"]  # fmt: skip
    for limit in limits:
        argv += ["--limit", f"@fake/{limit}"]
    proc = subprocess.run(argv, check=False, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in SECRETS:  # no secret value in anything pyinfra prints
        assert f"-{SECRETS.index(name)}-secret" not in proc.stdout + proc.stderr
    return json.loads(proc.stdout)["plan"]


def names(ops: list[dict]) -> list[str]:
    return [op["name"] for op in ops]


def test_gpu_host_with_tunnel(stack_file):
    # metrics are off: their retire ops are there, no-ops unless the kit set metrics up before
    ops = [n for n in names(plan(stack_file, "gpu-2")) if "(metrics off)" not in n]
    assert ops[:2] == ["GPU host | NVIDIA container toolkit | Install apt prerequisites",
                       "GPU host | NVIDIA container toolkit | NVIDIA apt key"]  # fmt: skip
    assert "GPU host | Model service | ollama: pull models" in ops
    assert ops[-5:] == [
        "GPU host | Model service | ollama: qwen2.5:7b is servable",
        "Barrier: model services and relays",
        "Tunnel endpoint | Tunnel login user",
        "Tunnel endpoint | Authorize gw-1's tunnel key",
        "Barrier: OneAPI and tunnel endpoints",
    ]
    assert not [n for n in ops if n.startswith(("Gateway", "Tunnels", "Relay", "OneAPI"))]


def test_gateway_order(stack_file):
    ops = names(plan(stack_file, "gw-1"))
    order = [
        "Barrier: model services and relays",
        "Gateway | Docker engine | Docker daemon.json",
        "Gateway | OneAPI | OneAPI secrets.env",
        "Gateway | OneAPI | OneAPI Compose project",
        "Gateway | OneAPI | OneAPI answers /api/status",
        "Gateway | Nginx | Install Nginx",
        "Gateway | Nginx | Install certbot",
        "Gateway | Nginx | TLS certificate for api.example.com (placeholder)",
        "Gateway | Nginx | Site /etc/nginx/conf.d/llminfra-gateway.conf",
        "Gateway | Nginx | nginx -t",
        "Gateway | Nginx | Reload Nginx (config changed)",
        "Gateway | Nginx | ACME certificate for api.example.com",
        "Barrier: OneAPI and tunnel endpoints",
        "Tunnels | Tunnel private key",
        "Tunnels | llminfra-tunnel-gpu-2-ollama.service",
        "Tunnels | Restart llminfra-tunnel-gpu-2-ollama",
        "Tunnels | llminfra-tunnel-gpu-2-ollama answers inside OneAPI",
        "OneAPI channels | Channels and tokens",
        "Retired tunnels | Tunnel units no longer declared",
    ]
    assert [n for n in ops if n in order] == order
    # tunnels no longer declared go last, once the channels moved off them
    assert ops[-1] == "Retired tunnels | Tunnel units no longer declared"


def test_relay(stack_file):
    ops = names(plan(stack_file, "relay-1"))
    assert ops == [
        "Relay | Nginx | Install Nginx",
        "Relay | Nginx | Remove Debian's default site",
        "Relay | Nginx | Install certbot",
        "Relay | Nginx | ACME webroot",
        "Relay | Nginx | TLS certificate for relay.example.com (placeholder)",
        "Relay | Nginx | Site /etc/nginx/conf.d/llminfra-relay.conf",
        "Relay | Nginx | nginx -t",
        "Relay | Nginx | Nginx running and enabled",
        "Relay | Nginx | Reload Nginx (config changed)",
        "Relay | Nginx | ACME certificate for relay.example.com",
        "Barrier: model services and relays",
        "Barrier: OneAPI and tunnel endpoints",
    ]


def test_whole_platform_orders_roles(stack_file):
    ops = names(plan(stack_file))
    first_barrier = ops.index("Barrier: model services and relays")
    second_barrier = ops.index("Barrier: OneAPI and tunnel endpoints")
    assert all(not n.startswith(("Gateway", "Tunnels", "OneAPI")) for n in ops[:first_barrier])
    assert all(not n.startswith(("GPU host", "Relay")) for n in ops[first_barrier:])
    assert "Tunnel endpoint | Authorize gw-1's tunnel key" in ops[first_barrier:second_barrier]
    assert all(n.startswith(("Tunnels", "OneAPI channels", "Prometheus", "Retired tunnels"))
               for n in ops[second_barrier + 1:])
