"""GPU hosts: NVIDIA container toolkit, Docker, one Compose project per model service."""

from __future__ import annotations

import posixpath
from io import StringIO

from pyinfra import host
from pyinfra.api import DeployError, deploy
from pyinfra.facts.deb import DebArch
from pyinfra.operations import apt, files

from llminfra.commands.apt import NVIDIA_KEYRING, nvidia_toolkit_apt_source
from llminfra.commands.net import reach
from llminfra.facts.gpu import NvidiaGpus, check_pinning
from llminfra.model import GpuHost, Mirrors, Stack
from llminfra.operations import compose, models, ollama, private
from llminfra.operations.docker import image
from llminfra.render import (
    project_dir, render_service_compose, render_service_secrets, service_view,
)

from ._apt import install
from .docker import docker_engine
from .metrics import node_exporter
from .preflight import preflight


def check_gpus(settings: GpuHost) -> None:
    """Fail before any change when a service pins a GPU that nvidia-smi does not list."""
    pinned = [index for svc in settings.services for index in svc.gpu_list]
    if not pinned:
        return
    errors = check_pinning(host.get_fact(NvidiaGpus), pinned)
    if errors:
        raise DeployError(f"{host.name}: " + "; ".join(errors))


@deploy("NVIDIA container toolkit")
def nvidia_toolkit(mirrors: Mirrors) -> None:
    """
    Install nvidia-container-toolkit from NVIDIA's apt repository (or ``mirrors.nvidia_repo``).

    + mirrors: the stack's mirror settings

    The ``nvidia`` runtime is registered by :func:`docker_engine` in daemon.json (one owner
    for that file) rather than by ``nvidia-ctk runtime configure``.
    """
    repo = mirrors.nvidia_repo.rstrip("/")
    install("Install apt prerequisites", ["ca-certificates", "curl"])
    files.download(name="NVIDIA apt key", src=f"{repo}/gpgkey", dest=NVIDIA_KEYRING, mode="644")
    line = nvidia_toolkit_apt_source(
        host.get_fact(DebArch), url=f"{repo}/stable/deb", keyring=NVIDIA_KEYRING
    )
    source = files.put(
        name="NVIDIA apt source",
        src=StringIO(line + "\n"),
        dest="/etc/apt/sources.list.d/nvidia-container-toolkit.list",
        mode="644",
    )
    apt.update(name="apt update (NVIDIA source)", _if=source.did_change)
    install("Install nvidia-container-toolkit", ["nvidia-container-toolkit"])


@deploy("Model service")
def model_service(stack: Stack, host_name: str, service_name: str) -> None:
    """
    One model service: its secrets, its Compose project, its models, and a wait until it serves.

    + stack: the loaded stack
    + host_name: GPU host (key of ``stack.gpu_hosts``)
    + service_name: the service's ``name``
    """
    gpu = stack.gpu_hosts[host_name]
    svc = next(s for s in gpu.services if s.name == service_name)
    directory = project_dir(stack, host_name, svc)
    secrets = render_service_secrets(stack, host_name, svc)
    private.file(name=f"{svc.name}: secrets.env", path=secrets.path_on_host,
                 src=StringIO(secrets.content))  # fmt: skip
    key_file = None
    api_key = svc.client_key()
    if api_key:
        key_file = f"{directory}/api-key"  # read by the readiness probe (via stdin, not argv)
        private.file(name=f"{svc.name}: api key for probes", path=key_file,
                     src=StringIO(f"{stack.secret(api_key)}\n"))  # fmt: skip
    image(name=f"{svc.name}: image", image=service_view(stack, host_name, svc).image,
          user_of=svc.name)  # fmt: skip
    compose.project(
        name=f"{svc.name}: Compose project",
        project_dir=directory,
        compose=render_service_compose(stack, host_name, svc).content,
    )
    address = reach(stack.service_bind(gpu, svc))
    if svc.pulls():
        ollama.models(name=f"{svc.name}: pull models", project_dir=directory, service=svc.name,
                      models=svc.pulls(), url=f"http://{address}:{svc.port}")  # fmt: skip
    for model in svc.served()[:1]:
        models.servable(
            name=f"{svc.name}: {model} is servable",
            url=f"http://{address}:{svc.port}",
            model=model,
            service=svc.name,
            project_dir=directory,
            api_key_file=key_file,
            timeout=svc.ready_timeout,
            probe=svc.readiness_probe(),
            steady_probe=svc.steady_probe(),
            health=svc.health_path,
        )


@deploy("GPU host")
def gpu_host(stack: Stack, host_name: str) -> None:
    """
    Everything a GPU host runs: toolkit (when GPUs are pinned), Docker, the model services.

    + stack: the loaded stack
    + host_name: key of ``stack.gpu_hosts``
    """
    settings = stack.gpu_hosts[host_name]
    preflight(stack, host_name)
    check_gpus(settings)
    if settings.wants_toolkit:
        nvidia_toolkit(stack.mirrors)
    docker_engine(stack, host_name)
    # Before the declared services start: a renamed service's GPUs must be free for it.
    compose.projects_absent(
        name="Model services no longer declared", data_dir=settings.data_dir,
        keep=[posixpath.basename(project_dir(stack, host_name, s)) for s in settings.services],
    )
    for svc in settings.services:
        model_service(stack, host_name, svc.name)
    node_exporter(stack, host_name)
