"""Docker's /etc/docker/daemon.json, as stable sorted JSON."""

from __future__ import annotations

import json

from llminfra.commands.docker import DAEMON_JSON
from llminfra.model import Stack

from .compose_service import LOG_MAX_FILE, LOG_MAX_SIZE
from .files import RenderedFile


def daemon_settings(registry_mirrors: list[str], nvidia: bool) -> dict:
    config: dict = {
        "log-driver": "json-file",
        "log-opts": {"max-file": LOG_MAX_FILE, "max-size": LOG_MAX_SIZE},
    }
    if registry_mirrors:
        # Only Docker Hub pulls use these; other registries go through image_rewrite.
        config["registry-mirrors"] = list(registry_mirrors)
    if nvidia:
        # What `nvidia-ctk runtime configure` would add, kept here so the file has one owner.
        config["runtimes"] = {"nvidia": {"args": [], "path": "nvidia-container-runtime"}}
    return config


def render_daemon_json(stack: Stack, host_name: str) -> RenderedFile:
    """The one daemon.json text: ``llminfra render`` writes it, the deploy uploads it."""
    gpu = stack.gpu_hosts.get(host_name)
    config = daemon_settings(stack.mirrors.registry_mirrors, bool(gpu and gpu.wants_toolkit))
    return RenderedFile(DAEMON_JSON, json.dumps(config, indent=2, sort_keys=True) + "\n")
