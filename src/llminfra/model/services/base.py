"""What every service kind shares: the common settings and the runtime a kind hands to render."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal

from pydantic import Field, field_validator

from ..base import Name, Port, SecretName, Strict
from ..types import Arg, Env, GroupName, ImageRef, IpAddress, ModelName
from ..mirrors import Mirrors

# What the gateways store priorities and weights in (32-bit is what every engine keeps).
PRIORITY_MIN, PRIORITY_MAX = -(2**31), 2**31 - 1


class ChannelOptions(Strict):
    """How the OneAPI channel derived from this service routes requests."""

    enabled: bool = Field(True, description="Create the channel enabled.")
    priority: int | None = Field(
        None, ge=PRIORITY_MIN, le=PRIORITY_MAX, description="Higher wins; equal priorities share load. Default 0. Required when "
        "another channel serves the same model name."
    )
    weight: int = Field(0, ge=0, le=PRIORITY_MAX, description="Stored by OneAPI, not used for routing by it.")
    groups: list[GroupName] = Field(["default"], min_length=1, max_length=64,
                                    description="OneAPI user groups.")
    model_mapping: dict[ModelName, ModelName] = Field(
        {}, max_length=1024, description="Public model name -> name sent upstream."
    )


Gpus = Annotated[list[Annotated[int, Field(ge=0, le=1023)]], Field(max_length=64)] | Literal["cpu"]
# Extra server arguments, appended after the ones a kind builds. One definition, so every
# kind that takes them applies the same rules.
ExtraArgs = Annotated[list[Arg], Field(max_length=256)]
# How the deploy decides a model is servable: `chat` sends one real token, `embeddings` one
# embedding, `list` only asks /v1/models (Ollama lists once pulled; other servers may serve
# embeddings only).
Probe = Literal["chat", "embeddings", "list"]


@dataclass(frozen=True)
class ServerMetrics:
    """A kind's Prometheus endpoint and the series `status` reads from it."""

    path: str
    generated_tokens: str  # counter of generated tokens (its rate is tokens per second)
    waiting: str  # gauge: requests queued
    running: str  # gauge: requests being served


@dataclass(frozen=True)
class Healthcheck:
    test: tuple[str, ...]
    start_period: str
    interval: str = "30s"
    timeout: str = "10s"
    retries: int = 3


@dataclass(frozen=True)
class Runtime:
    """How one kind's container runs; render adds what every kind shares (image rewrite,
    ports, extra env, GPUs, logging)."""

    command: tuple[str, ...]
    env: dict[str, str]
    volumes: tuple[str, ...]
    container_port: int
    healthcheck: Healthcheck | None
    # NCCL/PyTorch tensor-parallel workers exchange tensors through shared memory.
    ipc_host: bool = False
    shm_size: str | None = None


def host_dir(configured: str | None, data_dir: str, default: str) -> str:
    """A directory on the GPU host: the configured one, else `<data_dir>/<default>`."""
    return (configured or f"{data_dir}/{default}").rstrip("/")


class ServiceBase(Strict):
    """Fields every kind has. A kind module subclasses this, adds `kind: Literal[...]`, and
    is listed in `KINDS` (services/__init__.py); nothing else names kinds."""

    # Answers 2xx only once the model is loaded, and needs no key; None: the server has none.
    health_path: ClassVar[str | None] = None
    # The server's own Prometheus metrics; None: it has none (Ollama).
    metrics: ClassVar[ServerMetrics | None] = None
    # Shown after the kind in the README reference's section title.
    reference_note: ClassVar[str] = ""
    # Routes the server answers without its api_key (the key guards the rest): on a public
    # bind they are as open as a server without a key.
    unguarded_routes: ClassVar[tuple[str, ...]] = ()

    name: Name = Field(description="Service name; also the Compose project `llm-<name>`.")
    port: Port = Field(description="Port the server listens on, on the GPU host.")
    gpus: Gpus = Field(description="GPU indices this service may use, or `cpu`.")
    image: ImageRef = Field(description="Container image; each kind has its own default.")
    bind: IpAddress | None = Field(
        None, description="Host address the port is published on. Default: `127.0.0.1` on "
        "tunnel-only hosts, `0.0.0.0` on directly reachable hosts."
    )
    env: Env = Field({}, description="Extra environment (non-secret).")
    tunnel_port: Port | None = Field(
        None, description="Gateway-side tunnel port (tunnel-only hosts). Default: the "
        "stable hash of `<gpu host>/<service>` into the gateway's `tunnel_port_base` range."
    )
    channel: ChannelOptions = Field(default_factory=ChannelOptions)
    ready_timeout: int = Field(
        900, ge=10, le=86400, description="Seconds to wait for the model to become servable."
    )

    @field_validator("gpus")
    @classmethod
    def _unique_gpus(cls, value: Gpus) -> Gpus:
        if isinstance(value, list):
            if not value:
                raise ValueError("should list at least one GPU index, or be 'cpu'")
            dup = sorted({i for i in value if value.count(i) > 1})
            if dup:
                raise ValueError(f"GPU {dup[0]} listed twice")
        return value

    @property
    def gpu_list(self) -> list[int]:
        return [] if self.gpus == "cpu" else list(self.gpus)

    @classmethod
    def tag(cls) -> str:
        """The `kind:` value that selects this class."""
        return str(cls.model_fields["kind"].annotation.__args__[0])  # type: ignore[union-attr]

    def served(self) -> list[str]:  # pragma: no cover - every kind overrides it
        raise NotImplementedError

    def readiness_probe(self) -> Probe:
        """The smallest real request the deploy waits for (see Probe)."""
        return "list"

    def steady_probe(self) -> Probe:
        """The probe of a run that has changed nothing anywhere (any change: readiness_probe)."""
        return self.readiness_probe()

    def client_key(self) -> SecretName | None:
        """Secret clients must send as a bearer token (the channel and the readiness probe)."""
        return None

    def runtime(self, data_dir: str, mirrors: Mirrors) -> Runtime:  # pragma: no cover
        raise NotImplementedError

    def pulls(self) -> list[str]:
        """Models pulled into the running server (`ollama pull`) before it counts as ready."""
        return []

    def secrets(self, secret: Callable[[str], str]) -> dict[str, str]:
        """Environment for the 0600 secrets file; `secret` maps a secret name to its value."""
        return {}
