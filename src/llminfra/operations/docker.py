"""Configure the Docker engine itself."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

from pyinfra import host
from pyinfra.api import operation
from pyinfra.operations import files

from llminfra.facts.docker import DAEMON_JSON, DockerDaemonConfig


def render_daemon_json(config: dict[str, Any]) -> str:
    """Stable text for a daemon.json: sorted keys, two-space indent, final newline."""
    return json.dumps(config, indent=2, sort_keys=True) + "\n"


def merge_config(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """``overlay`` over ``base``, merging nested objects key by key."""
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_config(merged[key], value)
        else:
            merged[key] = value
    return merged


@operation()
def daemon_config(config: dict[str, Any], path: str = DAEMON_JSON, merge: bool = False):
    """
    Write Docker's ``daemon.json`` from a dict, as sorted, stable JSON.

    + config: the daemon settings, e.g. ``{"log-driver": "local"}``
    + path: file to write
    + merge: keep keys already in the file that ``config`` does not set (e.g. the
      ``runtimes.nvidia`` entry written by ``nvidia-ctk``); ``False`` makes ``config`` the
      whole file

    Restart dockerd only when this op changed the file, with pyinfra's ``_if``:

    **Examples:**

    .. code:: python

        from pyinfra.operations import systemd
        from llminfra.operations import docker

        daemon = docker.daemon_config(
            name="Configure dockerd",
            config={"log-driver": "local", "runtimes": NVIDIA_RUNTIME},
        )
        systemd.service(
            name="Restart dockerd",
            service="docker",
            restarted=True,
            _if=daemon.did_change,
        )
    """
    if merge:
        config = merge_config(host.get_fact(DockerDaemonConfig, path=path) or {}, config)
    content = StringIO(render_daemon_json(config))
    commands = list(files.put._inner(src=content, dest=path, mode="644"))
    if commands:
        yield from commands
    else:
        host.noop(f"{path} is up to date")
