"""One Compose project per model service: the view its template renders, and the files."""

from __future__ import annotations

from dataclasses import dataclass

from llminfra.model import OllamaService, OpenAIService, Stack, VllmService

from .envfile import secret_env_file
from .files import RenderError, RenderedFile, render
from .vllm import vllm_args, vllm_env, vllm_secrets

LOG_MAX_SIZE = "50m"
LOG_MAX_FILE = "5"
SECRETS_ENV = "secrets.env"
OLLAMA_MODELS_DIR = "/ollama-models"
# Set by the NVIDIA runtime from the device reservation; a value in `env` would fight it.
RESERVED_ENV = ("NVIDIA_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES")


@dataclass(frozen=True)
class Healthcheck:
    test: tuple[str, ...]
    start_period: str
    interval: str = "30s"
    timeout: str = "10s"
    retries: int = 3


@dataclass(frozen=True)
class ComposeService:
    project: str
    service: str
    image: str
    command: tuple[str, ...]
    ports: tuple[str, ...]
    environment: tuple[tuple[str, str], ...]
    env_file: str
    volumes: tuple[str, ...]
    device_ids: tuple[str, ...]  # empty: CPU only, no device reservation at all
    ipc_host: bool
    shm_size: str | None
    healthcheck: Healthcheck | None
    log_max_size: str = LOG_MAX_SIZE
    log_max_file: str = LOG_MAX_FILE


def publish(bind: str, host_port: int, container_port: int) -> str:
    addr = f"[{bind}]" if ":" in bind else bind
    return f"{addr}:{host_port}:{container_port}"


def project_dir(stack: Stack, host_name: str, svc) -> str:
    return f"{stack.gpu_hosts[host_name].data_dir}/llm-{svc.name}"


def _cache_dir(stack: Stack, host_name: str, svc, default: str) -> str:
    return (svc.cache_dir or f"{stack.gpu_hosts[host_name].data_dir}/{default}").rstrip("/")


def _kind_parts(stack: Stack, host_name: str, svc) -> dict:
    """command, environment, volumes, container port and healthcheck for each kind."""
    if isinstance(svc, VllmService):
        cache = _cache_dir(stack, host_name, svc, "models")
        # The key comes from the env file; the container's shell expands it (the template
        # escapes `$` so Compose does not).
        probe = (f'curl -fsS -o /dev/null -H "Authorization: Bearer ${{VLLM_API_KEY:-}}" '
                 f"http://127.0.0.1:{svc.port}/v1/models")
        return dict(command=vllm_args(svc, cache), env=vllm_env(svc, stack.mirrors, cache),
                    volumes=[f"{cache}:{cache}"], cport=svc.port,
                    health=Healthcheck(("CMD-SHELL", probe), f"{svc.ready_timeout}s"))
    if isinstance(svc, OllamaService):
        cache = _cache_dir(stack, host_name, svc, "ollama")
        env = {"OLLAMA_HOST": f"0.0.0.0:{svc.port}", "OLLAMA_MODELS": OLLAMA_MODELS_DIR,
               "OLLAMA_KEEP_ALIVE": svc.keep_alive, "OLLAMA_NUM_PARALLEL": str(svc.num_parallel),
               "OLLAMA_MAX_LOADED_MODELS": str(svc.max_loaded_models)}
        return dict(command=[], env=env, volumes=[f"{cache}:{OLLAMA_MODELS_DIR}"], cport=svc.port,
                    health=Healthcheck(("CMD", "ollama", "list"), "60s"))
    assert isinstance(svc, OpenAIService)
    # Arbitrary images: no tool inside is known to exist, so no healthcheck.
    return dict(command=list(svc.command), env={}, volumes=list(svc.volumes),
                cport=svc.container_port or svc.port, health=None)


def service_view(stack: Stack, host_name: str, svc) -> ComposeService:
    gpu = stack.gpu_hosts[host_name]
    parts = _kind_parts(stack, host_name, svc)
    env = dict(parts["env"])
    if stack.mirrors.pip_index:
        env["PIP_INDEX_URL"] = stack.mirrors.pip_index
    env.update(svc.env)
    clash = [k for k in RESERVED_ENV if k in env]
    if clash and svc.gpu_list:
        raise RenderError(f"{host_name}: service {svc.name}: env {clash[0]} conflicts with "
                          "`gpus` (the device reservation decides which GPUs the container sees)")
    is_vllm = isinstance(svc, VllmService)
    return ComposeService(
        project=f"llm-{svc.name}", service=svc.name, image=stack.mirrors.image(svc.image),
        command=tuple(parts["command"]),
        ports=(publish(stack.service_bind(gpu, svc), svc.port, parts["cport"]),),
        environment=tuple(env.items()), env_file=SECRETS_ENV, volumes=tuple(parts["volumes"]),
        device_ids=tuple(str(i) for i in svc.gpu_list),
        ipc_host=is_vllm, shm_size=svc.shm_size if is_vllm else None,
        healthcheck=parts["health"],
    )


def service_secrets(stack: Stack, svc) -> dict[str, str]:
    if isinstance(svc, VllmService):
        return vllm_secrets(svc, stack.secret)
    if isinstance(svc, OpenAIService) and svc.api_key:
        return {"API_KEY": stack.secret(svc.api_key)}
    return {}


def render_service_compose(stack: Stack, host_name: str, svc) -> RenderedFile:
    content = render("compose/service.yaml.j2", service_view(stack, host_name, svc))
    return RenderedFile(f"{project_dir(stack, host_name, svc)}/compose.yaml", content)


def render_service_secrets(stack: Stack, host_name: str, svc) -> RenderedFile:
    path = f"{project_dir(stack, host_name, svc)}/{SECRETS_ENV}"
    return secret_env_file(path, service_secrets(stack, svc))
