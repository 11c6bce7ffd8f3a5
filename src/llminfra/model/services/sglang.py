"""SGLang: settings, and `sglang.launch_server`'s command line, environment and secrets."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Literal

from pydantic import Field

from ..base import SecretName
from ..types import AbsPath, ImageRef, ModelName, ModelSource, Size
from ..mirrors import Mirrors
from .base import ExtraArgs, Healthcheck, Probe, Runtime, ServerMetrics, ServiceBase, host_dir

KEY_ENV = "SGLANG_API_KEY"
# SGLang reads its key only from argv: this shell line adds it from the secrets file when the
# container starts, so it never appears in compose.yaml or `docker inspect` (it does appear in
# the server's own process list inside the container).
WITH_KEY = ("sh", "-c", f'exec "$@" --api-key "${KEY_ENV}"', "sglang")


class SglangService(ServiceBase):
    health_path: ClassVar[str | None] = "/health"  # 503 until warm-up ends
    # served only with --enable-metrics, which sglang_args always passes
    metrics: ClassVar[ServerMetrics | None] = ServerMetrics(
        "/metrics", "sglang:generation_tokens_total", "sglang:num_queue_reqs",
        "sglang:num_running_reqs")

    kind: Literal["sglang"]
    image: ImageRef = Field("lmsysorg/sglang:v0.4.7.post1-cu124", description="SGLang image.")
    model: ModelSource = Field(description="Hugging Face id, or a path inside `cache_dir`.")
    served_name: ModelName | None = Field(
        None, description="Name clients use (SGLang serves one). Default: the last part of `model`."
    )
    tensor_parallel_size: int | None = Field(
        None, ge=1, description="Default: the number of pinned GPUs."
    )
    context_length: int | None = Field(None, ge=16, le=2**24, description="Context length cap.")
    mem_fraction_static: float | None = Field(
        None, gt=0, lt=1, description="Share of VRAM for weights and KV cache. Default: SGLang's."
    )
    api_key: SecretName | None = Field(
        None, description="Secret required by SGLang from clients (and used by the channel), 16 "
        "characters at least."
    )
    hf_token: SecretName | None = Field(None, description="Secret with a Hugging Face token.")
    trust_remote_code: bool = False
    extra_args: ExtraArgs = Field([], description="Appended verbatim to SGLang's arguments.")
    cache_dir: AbsPath | None = Field(
        None, description="Host directory for weights. Default `<data_dir>/models`."
    )
    shm_size: Size = Field("16g", description="Shared memory for the container (NCCL/PyTorch).")

    def served(self) -> list[str]:
        return [self.served_name or self.model.rstrip("/").split("/")[-1]]

    def readiness_probe(self) -> Probe:
        return "chat"  # it lists the model before warm-up ends; one real token proves it serves

    def client_key(self) -> SecretName | None:
        return self.api_key

    def runtime(self, data_dir: str, mirrors: Mirrors) -> Runtime:
        cache = host_dir(self.cache_dir, data_dir, "models")
        env = {"HF_HOME": f"{cache}/huggingface"}
        if mirrors.huggingface_endpoint:
            env["HF_ENDPOINT"] = mirrors.huggingface_endpoint
        return Runtime(
            command=tuple(sglang_command(self)), env=env, volumes=(f"{cache}:{cache}",),
            container_port=self.port,
            healthcheck=Healthcheck(health_test(self.port), f"{self.ready_timeout}s"),
            ipc_host=True, shm_size=self.shm_size,
        )

    def secrets(self, secret: Callable[[str], str]) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.api_key:
            out[KEY_ENV] = secret(self.api_key)
        if self.hf_token:
            out["HF_TOKEN"] = secret(self.hf_token)
        return out


def tensor_parallel(svc: SglangService) -> int:
    return svc.tensor_parallel_size or max(len(svc.gpu_list), 1)


def sglang_args(svc: SglangService) -> list[str]:
    """`sglang.launch_server` arguments, without the API key (see WITH_KEY)."""
    args = ["python3", "-m", "sglang.launch_server", "--model-path", svc.model,
            "--served-model-name", svc.served()[0], "--host", "0.0.0.0", "--port", str(svc.port),
            "--tp-size", str(tensor_parallel(svc))]
    if "--enable-metrics" not in svc.extra_args:
        args.append("--enable-metrics")
    if svc.context_length is not None:
        args += ["--context-length", str(svc.context_length)]
    if svc.mem_fraction_static is not None:
        args += ["--mem-fraction-static", str(svc.mem_fraction_static)]
    if svc.trust_remote_code:
        args.append("--trust-remote-code")
    return args + list(svc.extra_args)


def sglang_command(svc: SglangService) -> list[str]:
    return [*WITH_KEY, *sglang_args(svc)] if svc.api_key else sglang_args(svc)


def health_test(port: int) -> tuple[str, ...]:
    """/health answers 200 only after warm-up and needs no key; python3 is in the image,
    curl is not promised."""
    url = f"http://127.0.0.1:{port}{SglangService.health_path}"
    return ("CMD", "python3", "-c", f"import urllib.request as u; u.urlopen({url!r}, timeout=5)")
