"""Preflight: one line naming the host and every reason, raised while pyinfra prepares (so
before any host is changed)."""

from __future__ import annotations

import pytest
from pyinfra.api.exceptions import DeployError
from test_deploys_plan import LINUX, TRIXIE, prepare, stack  # noqa: F401 - fixture

from llminfra.deploys.gpu import gpu_host
from llminfra.deploys.preflight import problems

GOOD = {"uid": 0, "systemd": True, "sudo": "root", "apt": True, "os": "debian",
        "codename": "trixie"}


def reasons(found: dict, user="root", sudo=False, docker="distro") -> list[str]:
    return problems({**GOOD, **found}, user=user, sudo=sudo, docker_install=docker)


def test_a_good_host_passes():
    assert reasons({}) == []
    assert reasons({"os": "ubuntu", "codename": "noble"}) == []
    assert reasons({"uid": 1000, "sudo": "yes"}, user="ops", sudo=True) == []


def test_each_reason_in_plain_words():
    assert reasons({"systemd": False}) == [
        "systemd is not running (Docker, Nginx and the tunnels run as systemd services)"]
    assert reasons({"uid": 1000, "sudo": "yes"}, user="ops") == [
        "ops is not root and ssh.sudo is false (set ssh.sudo: true)"]
    assert reasons({"uid": 1000, "sudo": "no"}, user="ops", sudo=True) == [
        "sudo asks ops for a password (the kit needs passwordless sudo)"]
    assert reasons({"uid": 1000, "sudo": "none"}, user="ops", sudo=True) == [
        "ops is not root and sudo is not installed"]
    assert reasons({"codename": "bookworm"}) == [
        "debian bookworm has no Docker Compose v2 package (set mirrors.docker_install: "
        "docker-ce)"]
    assert reasons({"codename": "bookworm"}, docker="docker-ce") == []
    assert reasons({"os": "fedora", "apt": False}, docker="docker-ce") == [
        "fedora has no apt-get (the kit installs packages with apt: Debian, Ubuntu)"]
    assert reasons({"os": "linuxmint"}, docker="docker-ce") == [
        "docker-ce has no packages for linuxmint"]
    assert reasons({"codename": "bookworm"}, docker=None) == []  # relays need no Docker


def test_a_host_without_systemd_stops_the_deploy_in_one_line(stack):  # noqa: F811
    bad = {"printf 'uid": ["uid 0", "systemd no", "sudo root", "apt yes", "os debian bookworm"]}
    with pytest.raises(DeployError) as caught:
        prepare(gpu_host, stack, "gpu-1", {**LINUX, **bad, "-release": TRIXIE})
    message = str(caught.value)
    assert "\n" not in message
    assert message == (
        "gpu-1: cannot deploy: systemd is not running (Docker, Nginx and the tunnels run as "
        "systemd services); debian bookworm has no Docker Compose v2 package (set "
        "mirrors.docker_install: docker-ce)")
