"""The packaged deploys, prepared (not executed) against @fake hosts from inventory/prod.yml.

Catches broken wiring between model, renderers and ops: every op must prepare, names must
show, a pinned GPU that nvidia-smi does not list must stop the host before any change.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pyinfra.api import Config, Inventory, State
from pyinfra.api.connect import connect_all
from pyinfra.api.deploy import add_deploy
from pyinfra.api.exceptions import DeployError

from llminfra.deploys.gpu import gpu_host
from llminfra.deploys.tunnels import tunnel_endpoint, tunnels
from llminfra.model import load_stack

PROD = Path(__file__).parents[2] / "inventory" / "prod.yml"
SECRETS = ["GPU1_VLLM_KEY", "ONEAPI_SESSION_SECRET", "ONEAPI_ROOT_ACCESS_TOKEN",
           "ONEAPI_ROOT_PASSWORD", "RELAY_SHARED_SECRET", "OPENAI_PROVIDER_KEY", "ANTHROPIC_PROVIDER_KEY",
           "GEMINI_PROVIDER_KEY"]  # fmt: skip
TRIXIE = '/etc/os-release\nID=debian\nVERSION_ID="13"\nVERSION_CODENAME=trixie\n---'
LINUX = {"uname -s": "Linux", "command -v useradd": "/usr/sbin/useradd",
         "printf 'uid": ["uid 0", "systemd yes", "sudo root", "apt yes", "os debian trixie"]}
TWO_H200 = Path(__file__).parents[1] / "facts/data/nvidia-smi/h200-x2/nvidia-smi-query.csv"


@pytest.fixture
def stack(tmp_path):
    source = tmp_path / "prod.yml"
    shutil.copy(PROD, source)  # tunnel keys get generated beside it, in .llminfra/
    return load_stack(
        source, environ={name: f"t-{i}-secret-value" for i, name in enumerate(SECRETS)}
    )


def prepare(deploy, stack, host_name, responses):
    inventory = Inventory(
        ([(f"@fake/{host_name}", {"fake_responses": responses, "fake_delay": 0})], {})
    )
    state = State(inventory, Config())
    connect_all(state)
    add_deploy(state, deploy, stack, host_name)
    host = inventory.get_host(f"@fake/{host_name}")
    names = []
    for op_hash in state.get_op_order():
        meta = state.get_op_meta(op_hash)
        if op_hash in state.ops[host]:
            names.extend(sorted(meta.names))
    return names


def test_gpu_host_plan(stack):
    responses = {**LINUX, "-release": TRIXIE, "nvidia-smi": TWO_H200.read_text().splitlines(),
                 "dpkg --print-architecture": "amd64"}  # fmt: skip
    names = prepare(gpu_host, stack, "gpu-1", responses)
    assert "GPU host | NVIDIA container toolkit | Install nvidia-container-toolkit" in names
    assert "GPU host | Docker engine | Docker daemon.json" in names
    assert "GPU host | Model service | qwen: secrets.env" in names
    assert "GPU host | Model service | qwen: Compose project" in names
    assert "GPU host | Model service | qwen: qwen2.5-14b is servable" in names
    assert "GPU host | Model service | embed: bge-m3 is servable" in names
    # The toolkit comes before Docker (daemon.json names its runtime), services last.
    assert names.index("GPU host | Docker engine | Docker daemon.json") < names.index(
        "GPU host | Model service | qwen: Compose project"
    )


def test_pinned_gpu_missing_stops_the_host(stack):
    one_gpu = TWO_H200.read_text().splitlines()[:1]
    with pytest.raises(DeployError, match="GPU 1 does not exist"):
        prepare(gpu_host, stack, "gpu-1", {**LINUX, "-release": TRIXIE, "nvidia-smi": one_gpu})


def test_tunnels_on_both_ends(stack):
    gateway = prepare(tunnels, stack, "gw-1", {**LINUX, "-release": TRIXIE})
    assert "Tunnels | Tunnel private key" in gateway
    assert "Tunnels | Pin gpu-2 host key" in gateway
    assert any(name.startswith("Tunnels | Restart llminfra-tunnel-gpu-2-") for name in gateway)
    endpoint = prepare(tunnel_endpoint, stack, "gpu-2", LINUX)
    assert endpoint == [
        "Tunnel endpoint | Tunnel login user",
        "Tunnel endpoint | Authorize gw-1's tunnel key",
    ]
    # Both ends agree on one key, made once on the operator's machine.
    keys = list((stack.source.parent / ".llminfra").glob("tunnel-gw-1_ed25519*"))
    assert sorted(k.name for k in keys) == ["tunnel-gw-1_ed25519", "tunnel-gw-1_ed25519.pub"]


def test_opted_in_login_tunnel_user_keeps_its_account(tmp_path):
    """root as tunnel user (allow_risky: login_tunnel_user): only the key line is managed, in
    root's own authorized_keys; the account's shell and home are never touched."""
    import yaml

    data = yaml.safe_load(PROD.read_text())
    data["gateways"]["gw-1"].update(tunnel_user="root", allow_risky=["login_tunnel_user"])
    source = tmp_path / "prod.yml"
    source.write_text(yaml.safe_dump(data))
    stack = load_stack(source, environ={name: f"t-{i}-secret-value"
                                        for i, name in enumerate(SECRETS)})
    assert stack.gateways["gw-1"].tunnel_authorized_keys == "/root/.ssh/authorized_keys"
    assert prepare(tunnel_endpoint, stack, "gpu-2", LINUX) == [
        "Tunnel endpoint | Authorize gw-1's tunnel key"]
