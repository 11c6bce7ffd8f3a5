"""GPU hosts. (Gateways and relays live in gateway.py and relay.py.)"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import AbsPath, Name, Strict
from .types import GpuRisk, HostAddress
from .services import Service
from .ssh import SshSettings


class GpuHost(Strict):
    ssh: SshSettings
    reach: Literal["direct", "tunnel"] = Field(
        "direct", description="`direct`: the gateway reaches service ports over the network; "
        "`tunnel`: only SSH is open, the gateway tunnels to the services."
    )
    via: Name | None = Field(None, description="Gateway that tunnels here. Default: the only gateway.")
    address: HostAddress | None = Field(
        None, description="`direct`: address the gateway uses for service ports. Default `ssh.host`."
    )
    gpus: int | None = Field(
        None, ge=0, le=1024, description="Number of GPUs; when set, GPU indices are range-checked "
        "before any SSH (the deploy always checks against nvidia-smi)."
    )
    data_dir: AbsPath = Field("/opt/llminfra", description="Where Compose projects and caches live.")
    nvidia_toolkit: bool | None = Field(
        None, description="Install the NVIDIA container toolkit. Default: when a service pins a GPU."
    )
    services: list[Service] = Field([], description="Model services on this host.")
    allow_risky: list[GpuRisk] = Field(
        [], description="Risky settings this host opts into, each listed as a warning by "
        "`check`: `public_model_port` (a service published on a public address without an api_key, or a "
        "vLLM service there: its key guards /v1 only, not /metrics, /tokenize or /invocations)."
    )

    @property
    def service_address(self) -> str:
        return self.address or self.ssh.host

    @property
    def wants_toolkit(self) -> bool:
        if self.nvidia_toolkit is not None:
            return self.nvidia_toolkit
        return any(s.gpu_list for s in self.services)
