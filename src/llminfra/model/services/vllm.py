"""vLLM: settings, and the OpenAI server's command line, environment and secrets."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Literal

from pydantic import Field

from ..base import SecretName
from ..types import AbsPath, ImageRef, ModelName, ModelSource, Size, TokenWord
from ..mirrors import Mirrors
from .base import ExtraArgs, Healthcheck, Probe, Runtime, ServerMetrics, ServiceBase, host_dir


# The release the kit's vLLM command line is run against: the lab's real vLLM (CPU build of
# the same release, lab/llminfra_lab/images/vllm-cpu) serves the rendered arguments unchanged
# in tests/lab/test_vllm_real.py. Raising it means re-running that test with the new release.
VLLM_VERSION = "0.32.0"


class VllmService(ServiceBase):
    health_path: ClassVar[str | None] = "/health"
    # /metrics needs no key (the API key guards /v1 only); names read from the lab's vLLM
    metrics: ClassVar[ServerMetrics | None] = ServerMetrics(
        "/metrics", "vllm:generation_tokens_total", "vllm:num_requests_waiting",
        "vllm:num_requests_running")

    # vLLM's key check covers paths under /v1 only; /invocations runs a full generation
    unguarded_routes: ClassVar[tuple[str, ...]] = ("/metrics", "/tokenize", "/invocations")

    kind: Literal["vllm"]
    image: ImageRef = Field(
        f"vllm/vllm-openai:v{VLLM_VERSION}", description=f"vLLM image. The default is the "
        f"release whose flags the kit is tested with (vLLM {VLLM_VERSION}, the lab's real "
        "vLLM); another release may rename or drop a flag the kit passes."
    )
    model: ModelSource = Field(
        description="Hugging Face / ModelScope id, a path inside `cache_dir`, or a path inside "
        "the image."
    )
    task: Literal["generate", "embed"] = Field(
        "generate", description="`embed`: an embedding model, probed with `/v1/embeddings` "
        "instead of a one-token chat completion. vLLM detects embedding-only architectures "
        "itself; to use a generative architecture for embeddings add `--runner pooling` "
        "(vLLM >= 0.10) to `extra_args`."
    )
    served_names: list[ModelName] = Field(
        [], max_length=64, description="Names clients use. Default: the last part of `model`."
    )
    tensor_parallel_size: int | None = Field(
        None, ge=1, description="Default: the number of pinned GPUs."
    )
    max_model_len: int | None = Field(None, ge=16, le=2**24, description="Context length cap.")
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1, description="Share of VRAM vLLM uses.")
    dtype: Literal["auto", "half", "float16", "bfloat16", "float", "float32"] = "auto"
    quantization: TokenWord | None = Field(None, description="e.g. awq, gptq, fp8.")
    lora_modules: dict[ModelName, ModelSource] = Field({}, max_length=64, description="LoRA name -> path or repo id.")
    api_key: SecretName | None = Field(
        None, description="Secret required by vLLM from clients (and used by the channel), 16 "
        "characters at least."
    )
    hf_token: SecretName | None = Field(None, description="Secret with a Hugging Face token.")
    trust_remote_code: bool = False
    extra_args: ExtraArgs = Field([], description="Appended verbatim to vLLM's arguments.")
    model_source: Literal["huggingface", "modelscope"] = Field(
        "huggingface", description="Where weights are downloaded from."
    )
    cache_dir: AbsPath | None = Field(
        None, description="Host directory for weights. Default `<data_dir>/models`."
    )
    shm_size: Size = Field("16g", description="Shared memory for the container (NCCL/PyTorch).")

    def served(self) -> list[str]:
        return self.served_names or [self.model.rstrip("/").split("/")[-1]]

    def readiness_probe(self) -> Probe:
        # one real token (or one embedding): loaded weights, not just a listening port
        return "embeddings" if self.task == "embed" else "chat"

    def steady_probe(self) -> Probe:
        # vLLM accepts connections only once its engine is up, and /health is 200 only while
        # the engine runs: with the model listed (through the key) that is conclusive. The
        # real token, which also catches a model that cannot chat (no chat template), runs
        # whenever the run changed something (the container was just (re)created).
        return "list"

    def client_key(self) -> SecretName | None:
        return self.api_key

    def runtime(self, data_dir: str, mirrors: Mirrors) -> Runtime:
        cache = host_dir(self.cache_dir, data_dir, "models")
        # The key comes from the env file; the container's shell expands it (the template
        # escapes `$` so Compose does not).
        probe = (f'curl -fsS -o /dev/null -H "Authorization: Bearer ${{VLLM_API_KEY:-}}" '
                 f"http://127.0.0.1:{self.port}/v1/models")
        return Runtime(
            command=tuple(vllm_args(self, cache)), env=vllm_env(self, mirrors, cache),
            volumes=(f"{cache}:{cache}",), container_port=self.port,
            healthcheck=Healthcheck(("CMD-SHELL", probe), f"{self.ready_timeout}s"),
            ipc_host=True, shm_size=self.shm_size,
        )

    def secrets(self, secret: Callable[[str], str]) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.api_key:
            out["VLLM_API_KEY"] = secret(self.api_key)
        if self.hf_token:
            out["HF_TOKEN"] = secret(self.hf_token)
        return out


def tensor_parallel(svc: VllmService) -> int:
    return svc.tensor_parallel_size or max(len(svc.gpu_list), 1)


def download_dir(svc: VllmService, cache_dir: str) -> str:
    if svc.model_source == "modelscope":
        return f"{cache_dir}/modelscope"
    return f"{cache_dir}/huggingface/hub"  # HF_HOME/hub: the cache HF tools look in


def vllm_args(svc: VllmService, cache_dir: str) -> list[str]:
    """Arguments for the image's entrypoint (the OpenAI API server). The API key is not
    here: vLLM reads VLLM_API_KEY from the environment (the secrets file), so it never
    shows in `docker inspect` or `ps`."""
    args = ["--model", svc.model, "--served-model-name", *svc.served(),
            "--host", "0.0.0.0", "--port", str(svc.port),
            "--tensor-parallel-size", str(tensor_parallel(svc)),
            "--gpu-memory-utilization", str(svc.gpu_memory_utilization),
            "--dtype", svc.dtype, "--download-dir", download_dir(svc, cache_dir)]
    if svc.max_model_len is not None:
        args += ["--max-model-len", str(svc.max_model_len)]
    if svc.quantization:
        args += ["--quantization", svc.quantization]
    if svc.lora_modules:
        args += ["--enable-lora", "--lora-modules",
                 *(f"{name}={path}" for name, path in svc.lora_modules.items())]
    if svc.trust_remote_code:
        args.append("--trust-remote-code")
    return args + list(svc.extra_args)


def vllm_env(svc: VllmService, mirrors: Mirrors, cache_dir: str) -> dict[str, str]:
    env = {"HF_HOME": f"{cache_dir}/huggingface"}
    if svc.model_source == "modelscope":
        env["VLLM_USE_MODELSCOPE"] = "True"
        env["MODELSCOPE_CACHE"] = download_dir(svc, cache_dir)
        if mirrors.modelscope_endpoint:
            env["MODELSCOPE_DOMAIN"] = mirrors.modelscope_endpoint
    elif mirrors.huggingface_endpoint:
        env["HF_ENDPOINT"] = mirrors.huggingface_endpoint
    return env
