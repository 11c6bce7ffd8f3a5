"""One Compose project per model service: the view its template renders, and the files.

What differs by kind comes from the service's own `runtime()` and `secrets()`
(model/services/<kind>.py); this module adds what every kind shares."""

from __future__ import annotations

from dataclasses import dataclass

from llminfra.model import Stack
from llminfra.model.services import Healthcheck, ServiceBase

from .envfile import secret_env_file
from .files import RenderedFile, render

LOG_MAX_SIZE = "50m"
LOG_MAX_FILE = "5"
SECRETS_ENV = "secrets.env"
# Set by the NVIDIA runtime from the device reservation; a value in `env` would fight it.


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


def project_dir(stack: Stack, host_name: str, svc: ServiceBase) -> str:
    return f"{stack.gpu_hosts[host_name].data_dir}/llm-{svc.name}"


def service_view(stack: Stack, host_name: str, svc: ServiceBase) -> ComposeService:
    gpu = stack.gpu_hosts[host_name]
    run = svc.runtime(gpu.data_dir, stack.mirrors)
    env = dict(run.env)
    if stack.mirrors.pip_index:
        env["PIP_INDEX_URL"] = stack.mirrors.pip_index
    env.update(svc.env)
    return ComposeService(
        project=f"llm-{svc.name}", service=svc.name, image=stack.mirrors.image(svc.image),
        command=run.command,
        ports=(publish(stack.service_bind(gpu, svc), svc.port, run.container_port),),
        environment=tuple(env.items()), env_file=SECRETS_ENV, volumes=run.volumes,
        device_ids=tuple(str(i) for i in svc.gpu_list),
        ipc_host=run.ipc_host, shm_size=run.shm_size, healthcheck=run.healthcheck,
    )


def service_secrets(stack: Stack, svc: ServiceBase) -> dict[str, str]:
    return svc.secrets(stack.secret)


def render_service_compose(stack: Stack, host_name: str, svc: ServiceBase) -> RenderedFile:
    content = render("compose/service.yaml.j2", service_view(stack, host_name, svc))
    return RenderedFile(f"{project_dir(stack, host_name, svc)}/compose.yaml", content)


def render_service_secrets(stack: Stack, host_name: str, svc: ServiceBase) -> RenderedFile:
    path = f"{project_dir(stack, host_name, svc)}/{SECRETS_ENV}"
    return secret_env_file(path, service_secrets(stack, svc))
