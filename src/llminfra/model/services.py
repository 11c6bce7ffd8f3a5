"""Model services on GPU hosts: vLLM, Ollama, or any OpenAI-compatible server."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from .base import Name, Port, SecretName, Strict


class ChannelOptions(Strict):
    """How the OneAPI channel derived from this service routes requests."""

    enabled: bool = Field(True, description="Create the channel enabled.")
    priority: int | None = Field(
        None, description="Higher wins; equal priorities share load. Default 0. Required when "
        "another channel serves the same model name."
    )
    weight: int = Field(0, ge=0, description="Stored by OneAPI, not used for routing by it.")
    groups: list[str] = Field(["default"], min_length=1, description="OneAPI user groups.")
    model_mapping: dict[str, str] = Field(
        {}, description="Public model name -> name sent upstream."
    )


Gpus = list[Annotated[int, Field(ge=0)]] | Literal["cpu"]


class ServiceBase(Strict):
    name: Name = Field(description="Service name; also the Compose project `llm-<name>`.")
    port: Port = Field(description="Port the server listens on, on the GPU host.")
    gpus: Gpus = Field(description="GPU indices this service may use, or `cpu`.")
    image: str = Field("", description="Container image; each kind has its own default.")
    bind: str | None = Field(
        None, description="Host address the port is published on. Default: `127.0.0.1` on "
        "tunnel-only hosts, `0.0.0.0` on directly reachable hosts."
    )
    env: dict[str, str] = Field({}, description="Extra environment (non-secret).")
    tunnel_port: Port | None = Field(
        None, description="Gateway-side tunnel port (tunnel-only hosts). Default: the "
        "stable hash of `<gpu host>/<service>` into the gateway's `tunnel_port_base` range."
    )
    channel: ChannelOptions = Field(default_factory=ChannelOptions)
    ready_timeout: int = Field(
        900, ge=10, description="Seconds to wait for the model to become servable."
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

    def served(self) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError


class VllmService(ServiceBase):
    kind: Literal["vllm"]
    image: str = Field("vllm/vllm-openai:v0.6.6", description="vLLM image.")
    model: str = Field(description="Hugging Face / ModelScope id, or a path inside `cache_dir`.")
    served_names: list[str] = Field(
        [], description="Names clients use. Default: the last part of `model`."
    )
    tensor_parallel_size: int | None = Field(
        None, ge=1, description="Default: the number of pinned GPUs."
    )
    max_model_len: int | None = Field(None, ge=16, description="Context length cap.")
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1, description="Share of VRAM vLLM uses.")
    dtype: Literal["auto", "half", "float16", "bfloat16", "float", "float32"] = "auto"
    quantization: str | None = Field(None, description="e.g. awq, gptq, fp8.")
    lora_modules: dict[str, str] = Field({}, description="LoRA name -> path or repo id.")
    api_key: SecretName | None = Field(
        None, description="Secret required by vLLM from clients (and used by the channel)."
    )
    hf_token: SecretName | None = Field(None, description="Secret with a Hugging Face token.")
    trust_remote_code: bool = False
    extra_args: list[str] = Field([], description="Appended verbatim to vLLM's arguments.")
    model_source: Literal["huggingface", "modelscope"] = Field(
        "huggingface", description="Where weights are downloaded from."
    )
    cache_dir: str | None = Field(
        None, description="Host directory for weights. Default `<data_dir>/models`."
    )
    shm_size: str = Field("16g", description="Shared memory for the container (NCCL/PyTorch).")

    def served(self) -> list[str]:
        return self.served_names or [self.model.rstrip("/").split("/")[-1]]


class OllamaService(ServiceBase):
    kind: Literal["ollama"]
    image: str = Field("ollama/ollama:0.5.7", description="Ollama image.")
    port: Port = 11434
    models: list[str] = Field([], description="Models pulled before the service counts as ready.")
    keep_alive: str = Field("5m", description="OLLAMA_KEEP_ALIVE.")
    num_parallel: int = Field(4, ge=1, description="OLLAMA_NUM_PARALLEL.")
    max_loaded_models: int = Field(1, ge=1, description="OLLAMA_MAX_LOADED_MODELS.")
    cache_dir: str | None = Field(
        None, description="Host directory for OLLAMA_MODELS. Default `<data_dir>/ollama`."
    )

    def served(self) -> list[str]:
        return list(self.models)


class OpenAIService(ServiceBase):
    kind: Literal["openai"]
    image: str = Field(description="Any image serving the OpenAI API (TGI, llama.cpp, ...).")
    command: list[str] = Field([], description="Container command (arguments).")
    container_port: Port | None = Field(None, description="Port inside the container. Default `port`.")
    models: list[str] = Field(min_length=1, description="Model names it serves.")
    api_key: SecretName | None = Field(None, description="Secret the server expects, if any.")
    volumes: list[str] = Field([], description="Compose volume lines, `host:container[:ro]`.")

    def served(self) -> list[str]:
        return list(self.models)


Service = Annotated[VllmService | OllamaService | OpenAIService, Field(discriminator="kind")]
