"""Docker Engine with the Compose v2 plugin, and its daemon.json."""

from __future__ import annotations

from io import StringIO

from pyinfra import host
from pyinfra.api import DeployError, deploy
from pyinfra.facts.deb import DebArch
from pyinfra.operations import apt, files, systemd

from llminfra.commands.apt import (
    APT_PROXY_CONF,
    DOCKER_KEYRING,
    apt_proxy_conf,
    docker_apt_source,
)
from llminfra.model import Mirrors, Stack
from llminfra.facts import batch
from llminfra.facts.preflight import Preflight
from llminfra.operations import docker
from llminfra.operations import systemd as kit_systemd
from llminfra.render.daemon import render_daemon_json

from ._apt import install

# Compose v2 plugin package per distribution archive (bookworm only has Compose v1).
DISTRO_COMPOSE = {("debian", "trixie"): "docker-compose", ("ubuntu", None): "docker-compose-v2"}


def _distro() -> tuple[str, str]:
    # the preflight read ID and VERSION_CODENAME of /etc/os-release already
    found = batch.static(Preflight, _sudo=False)
    return found.get("os", ""), found.get("codename", "")


def compose_package(name: str, codename: str) -> str | None:
    """The distribution's Compose v2 package, None when its archive has none."""
    return DISTRO_COMPOSE.get((name, codename)) or DISTRO_COMPOSE.get((name, None))


def _distro_packages(name: str, codename: str) -> list[str]:
    compose = compose_package(name, codename)
    if compose is None:
        raise DeployError(
            f"{host.name}: {name} {codename} ships no Compose v2 package: "
            "set mirrors.docker_install: docker-ce"
        )
    return ["docker.io", compose]


def _docker_ce(mirrors: Mirrors, name: str, codename: str) -> None:
    base = f"{mirrors.docker_ce_repo.rstrip('/')}/{name}"
    install("Install apt prerequisites", ["ca-certificates", "curl"])
    files.download(name="Docker apt key", src=f"{base}/gpg", dest=DOCKER_KEYRING, mode="644")
    source = files.put(
        name="Docker apt source",
        src=_text(docker_apt_source(host.get_fact(DebArch), codename, url=base) + "\n"),
        dest="/etc/apt/sources.list.d/docker.list",
        mode="644",
    )
    apt.update(name="apt update (Docker source)", _if=source.did_change)
    apt.packages(
        name="Install docker-ce",
        packages=["docker-ce", "docker-ce-cli", "containerd.io", "docker-compose-plugin"],
    )


def _text(content: str) -> StringIO:
    return StringIO(content)


@deploy("Docker engine")
def docker_engine(stack: Stack, host_name: str) -> None:
    """
    Install Docker (distribution packages or docker-ce) with Compose v2 and keep daemon.json.

    + stack: the loaded stack (mirrors: install source, apt proxy, registry mirrors)
    + host_name: the host; a GPU host that wants the toolkit gets the ``nvidia`` runtime

    dockerd is restarted only when daemon.json changed.
    """
    mirrors = stack.mirrors
    if mirrors.apt_proxy:
        files.put(
            name="apt proxy",
            src=_text(apt_proxy_conf(mirrors.apt_proxy)),
            dest=APT_PROXY_CONF,
            mode="644",
        )
    name, codename = _distro()
    if mirrors.docker_install == "docker-ce":
        _docker_ce(mirrors, name, codename)
    else:
        install("Install Docker and Compose v2", _distro_packages(name, codename))
    daemon_json = render_daemon_json(stack, host_name)
    daemon = docker.daemon_config(
        name="Docker daemon.json", content=daemon_json.content, path=daemon_json.path_on_host
    )
    systemd.service(
        name="Restart dockerd (daemon.json changed)",
        service="docker",
        restarted=True,
        _if=daemon.did_change,
    )
    kit_systemd.running(name="dockerd running and enabled", unit="docker")
