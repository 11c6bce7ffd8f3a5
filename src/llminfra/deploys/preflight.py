"""Say plainly why a host cannot be deployed to, before anything changes anywhere.

pyinfra prepares every host's operations before it executes any, so a DeployError raised
here stops the whole run with nothing changed.
"""

from __future__ import annotations

from typing import Any

from pyinfra.api import DeployError

from llminfra.facts import batch
from llminfra.facts.preflight import Preflight
from llminfra.model import Stack

from .docker import compose_package

DOCKER_CE_DISTROS = ("debian", "ubuntu")  # download.docker.com has apt repositories for these


def problems(found: dict[str, Any], *, user: str, sudo: bool, docker_install: str | None
             ) -> list[str]:
    """Why the host cannot take the deploy (empty: it can). ``docker_install`` is None for a
    role without Docker (relays)."""
    out = []
    if not found.get("systemd"):
        out.append("systemd is not running (Docker, Nginx and the tunnels run as systemd "
                   "services)")
    if found.get("sudo") != "root":
        if not sudo:
            out.append(f"{user} is not root and ssh.sudo is false (set ssh.sudo: true)")
        elif found.get("sudo") == "none":
            out.append(f"{user} is not root and sudo is not installed")
        elif found.get("sudo") != "yes":
            out.append(f"sudo asks {user} for a password (the kit needs passwordless sudo)")
    name, codename = found.get("os", "unknown"), found.get("codename", "unknown")
    if not found.get("apt"):
        out.append(f"{name} has no apt-get (the kit installs packages with apt: Debian, Ubuntu)")
    elif docker_install == "docker-ce" and name not in DOCKER_CE_DISTROS:
        out.append(f"docker-ce has no packages for {name}")
    elif docker_install == "distro" and compose_package(name, codename) is None:
        out.append(f"{name} {codename} has no Docker Compose v2 package (set "
                   "mirrors.docker_install: docker-ce)")
    return out


def preflight(stack: Stack, name: str, docker: bool = True) -> None:
    """Raise one line naming the host and every reason it cannot be deployed to."""
    ssh = stack.host(name).ssh
    found = batch.static(Preflight, _sudo=False)
    errors = problems(found, user=ssh.user, sudo=ssh.sudo,
                      docker_install=stack.mirrors.docker_install if docker else None)
    if errors:
        raise DeployError(f"{name}: cannot deploy: {'; '.join(errors)}")
