"""The lab's topology and the state it leaves in `<repo>/.lab/` (git-ignored)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

NETWORK = "llminfra-lab"
# fixed so addresses in inventory/lab.yml are stable; clear of Docker's default pools
SUBNET = os.environ.get("LLMINFRA_LAB_SUBNET", "10.213.37.0/24")
LABEL = "org.llminfra.lab"
PREFIX = "llminfra-lab-"


@dataclass(frozen=True)
class HostSpec:
    name: str
    role: str  # gpu | gateway | relay
    octet: int  # last byte of its lab address
    images: tuple[str, ...] = ()  # stand-in images (SPECS names) side-loaded into its engine
    tunnel_only: bool = False  # reached only through the gateway's SSH tunnel in the inventory


HOSTS: tuple[HostSpec, ...] = (
    HostSpec("gw-1", "gateway", 10, ("oneapi", "newapi")),
    HostSpec("gpu-1", "gpu", 11, ("ollama",)),
    # real vLLM (a 5 GB image) only where the inventory runs it: behind the tunnel
    HostSpec("gpu-2", "gpu", 12, ("vllm-cpu", "ollama"), tunnel_only=True),
    HostSpec("relay-1", "relay", 13),
)
UPSTREAM_OCTET = 20
# The fan-out knob (`lab up --gpu-hosts N`): gpu-3..gpu-N join gpu-1 and gpu-2, each like
# gpu-1 (an Ollama stand-in reached directly), from .31 on.
DEFAULT_GPU_HOSTS = 2
MAX_GPU_HOSTS = 12
EXTRA_GPU_OCTET = 28


def lab_hosts(gpu_hosts: int = DEFAULT_GPU_HOSTS) -> tuple[HostSpec, ...]:
    """The lab's hosts with ``gpu_hosts`` GPU hosts (2..12; gpu-1 and gpu-2 always)."""
    if not DEFAULT_GPU_HOSTS <= gpu_hosts <= MAX_GPU_HOSTS:
        raise ValueError(f"gpu_hosts must be {DEFAULT_GPU_HOSTS}..{MAX_GPU_HOSTS}, not {gpu_hosts}")
    extra = tuple(HostSpec(f"gpu-{i}", "gpu", EXTRA_GPU_OCTET + i, ("ollama",))
                  for i in range(3, gpu_hosts + 1))
    return HOSTS[:-1] + extra + HOSTS[-1:]

ENGINES = ("oneapi", "litellm")
# images the gateway gets besides its HostSpec's, per engine (LiteLLM's is a 1 GB real proxy,
# so only a LiteLLM lab builds and side-loads it)
ENGINE_IMAGES = {"oneapi": (), "litellm": ("litellm",)}
# Which gateway software the lab inventory deploys: `oneapi` or `new-api` (the same emulator
# in its New-API mode, image calciumion/new-api:lab). `lab up --flavor` or this variable.
FLAVOR_ENV = "LLMINFRA_LAB_FLAVOR"
FLAVORS = ("oneapi", "new-api")


def address(octet: int, subnet: str = SUBNET) -> str:
    return subnet.rsplit(".", 1)[0] + f".{octet}"


@dataclass
class LabHost:
    name: str
    role: str
    address: str
    container: str
    tunnel_only: bool
    host_key: str  # "ssh-ed25519 AAAA..." as pinned in known_hosts
    images: list[str] = field(default_factory=list)  # image tags loaded into its engine


@dataclass
class LabState:
    state_dir: str
    network: str
    subnet: str
    ssh_user: str
    ssh_key: str  # operator private key path (0600)
    known_hosts: str
    ca_cert: str
    upstream_address: str
    upstream_names: list[str]
    hosts: dict[str, LabHost]
    engine: str = "oneapi"  # the gateway engine inventory/lab.yml chooses (`lab up --engine`)
    flavor: str = "oneapi"  # the gateway software in inventory/lab.yml
    gpu_hosts: int = DEFAULT_GPU_HOSTS  # `lab up --gpu-hosts`

    @property
    def path(self) -> Path:
        return Path(self.state_dir) / "lab.json"

    def save(self) -> Path:
        self.path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return self.path

    @classmethod
    def load(cls, state_dir: Path) -> LabState:
        raw = json.loads((state_dir / "lab.json").read_text())
        raw["hosts"] = {k: LabHost(**v) for k, v in raw["hosts"].items()}
        return cls(**raw)


def state_dir(repo_root: Path) -> Path:
    return Path(repo_root) / ".lab"
