"""Package repositories: apt sources for docker-ce and the NVIDIA container toolkit, apt proxy."""

from __future__ import annotations

DOCKER_APT_URL = "https://download.docker.com/linux/debian"
NVIDIA_APT_URL = "https://nvidia.github.io/libnvidia-container/stable/deb"
# Both keys are downloaded as published (ASCII-armoured); apt reads those only from *.asc files.
DOCKER_KEYRING = "/etc/apt/keyrings/docker.asc"
NVIDIA_KEYRING = "/etc/apt/keyrings/nvidia-container-toolkit.asc"
APT_PROXY_CONF = "/etc/apt/apt.conf.d/95llminfra-proxy"


def docker_apt_source(
    arch: str, codename: str, url: str = DOCKER_APT_URL, keyring: str = DOCKER_KEYRING
) -> str:
    """One-line apt source for docker-ce (``url`` may point at a mirror)."""
    return f"deb [arch={arch} signed-by={keyring}] {url.rstrip('/')} {codename} stable"


def nvidia_toolkit_apt_source(
    arch: str, url: str = NVIDIA_APT_URL, keyring: str = NVIDIA_KEYRING
) -> str:
    """One-line apt source for nvidia-container-toolkit (a flat repository per arch)."""
    return f"deb [signed-by={keyring}] {url.rstrip('/')}/{arch} /"


def apt_proxy_conf(proxy: str) -> str:
    """apt.conf line sending apt's HTTP downloads through ``proxy``."""
    return f'Acquire::http::Proxy "{proxy}";\n'


def apt_install(packages: list[str], update: bool = True, no_recommends: bool = False) -> str:
    """Install ``packages`` without prompts, keeping changed config files; refresh the lists
    first when ``update`` (a missing package may be newer than the cached lists)."""
    install = ("DEBIAN_FRONTEND=noninteractive apt-get -y -o Dpkg::Options::=--force-confdef "
               "-o Dpkg::Options::=--force-confold install "
               + ("--no-install-recommends " if no_recommends else "") + " ".join(packages))
    return f"apt-get update -q && {install}" if update else install
