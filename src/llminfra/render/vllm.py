"""vLLM's OpenAI server command line and environment, from a VllmService."""

from __future__ import annotations

from collections.abc import Callable

from llminfra.model import Mirrors, VllmService


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


def vllm_secrets(svc: VllmService, secret: Callable[[str], str]) -> dict[str, str]:
    """`secret` maps a secret name to its value (Stack.secret)."""
    out: dict[str, str] = {}
    if svc.api_key:
        out["VLLM_API_KEY"] = secret(svc.api_key)
    if svc.hf_token:
        out["HF_TOKEN"] = secret(svc.hf_token)
    return out
