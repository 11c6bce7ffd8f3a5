"""Every download location in one place, for restricted networks."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Strict
from .types import HostPort, Registry, Url


class Mirrors(Strict):
    docker_install: Literal["distro", "docker-ce"] = Field(
        "distro", description="Install Docker from the distribution (docker.io + Compose v2) "
        "or from the docker-ce apt repository."
    )
    docker_ce_repo: Url = Field(
        "https://download.docker.com/linux", description="docker-ce apt repository base URL "
        "(`<url>/<distro>` is used), e.g. a mirror."
    )
    registry_mirrors: list[Url] = Field(
        [], max_length=16, description="Docker Hub pull-through mirrors (daemon.json `registry-mirrors`)."
    )
    image_rewrite: dict[Registry, Registry] = Field(
        {}, max_length=64, description="Registry prefix rewrites applied to every image we render, e.g. "
        "`{ghcr.io: ghcr.m.example.cn, docker.io: hub.m.example.cn}`; "
        "registry mirrors alone only cover Docker Hub."
    )
    nvidia_repo: Url = Field(
        "https://nvidia.github.io/libnvidia-container", description="NVIDIA container "
        "toolkit apt repository base URL."
    )
    huggingface_endpoint: Url | None = Field(None, description="HF_ENDPOINT for vLLM, e.g. a mirror.")
    modelscope_endpoint: HostPort | None = Field(
        None, description="MODELSCOPE_DOMAIN (a host name, no scheme) for services with "
        "model_source modelscope."
    )
    pip_index: Url | None = Field(None, description="PIP_INDEX_URL passed to model containers.")
    apt_proxy: Url | None = Field(
        None, description="HTTP proxy for apt on all hosts (`http://host:port`).")

    def image(self, ref: str) -> str:
        """Apply `image_rewrite` to an image reference."""
        first, _, rest = ref.partition("/")
        has_registry = bool(rest) and ("." in first or ":" in first or first == "localhost")
        registry, path = (first, rest) if has_registry else ("docker.io", ref)
        if registry not in self.image_rewrite:
            return ref
        if registry == "docker.io" and "/" not in path:
            path = f"library/{path}"
        return f"{self.image_rewrite[registry].rstrip('/')}/{path}"
