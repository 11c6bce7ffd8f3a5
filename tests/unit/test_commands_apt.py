"""Exact-string tests for llminfra.commands.apt (apt sources)."""

from __future__ import annotations

from llminfra.commands import apt as c


def test_apt_sources():
    assert c.docker_apt_source("amd64", "bookworm") == (
        "deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc]"
        " https://download.docker.com/linux/debian bookworm stable"
    )
    assert (
        c.docker_apt_source(
            "arm64", "noble", url="https://mirror.example/docker/ubuntu/", keyring="/k.asc"
        )
        == "deb [arch=arm64 signed-by=/k.asc] https://mirror.example/docker/ubuntu noble stable"
    )
    assert c.nvidia_toolkit_apt_source("amd64") == (
        "deb [signed-by=/etc/apt/keyrings/nvidia-container-toolkit.asc]"
        " https://nvidia.github.io/libnvidia-container/stable/deb/amd64 /"
    )
    assert c.nvidia_toolkit_apt_source("arm64", url="http://m/nv/", keyring="/n.gpg") == (
        "deb [signed-by=/n.gpg] http://m/nv/arm64 /"
    )


def test_apt_proxy_conf():
    assert c.apt_proxy_conf("http://10.0.0.2:3142") == (
        'Acquire::http::Proxy "http://10.0.0.2:3142";\n'
    )


def test_apt_install_refreshes_first_and_keeps_config():
    assert c.apt_install(["nginx", "openssl"]) == (
        "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get -y"
        " -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"
        " install nginx openssl"
    )
    assert c.apt_install(["x"], update=False).startswith("DEBIAN_FRONTEND=")
