"""Teardown: remove what the kit made on a host; its data stays unless purge is asked.

Kept without purge: model caches (``<data_dir>`` on GPU hosts), OneAPI's database and logs
(the engine's ``data_dir``), certificates (an ACME certificate is rate-limited to re-issue). Left
in place always: Docker, the NVIDIA toolkit, Nginx and autossh packages (other software may
use them) and the operator-side state beside the stack file.
"""

from __future__ import annotations

import posixpath

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import FindFiles
from pyinfra.operations import files, server, systemd

from llminfra.model import Stack
from llminfra.model.stack import TUNNEL_UNIT_PREFIX
from llminfra.operations import accounts, compose, ssh
from llminfra.operations import systemd as kit_systemd
from llminfra.operations.sync import barrier
from llminfra.render.nginx_gateway import GATEWAY_SITE
from llminfra.render.nginx_relay import RELAY_SITE
from llminfra.render.tls import TLS_DIR
from llminfra.render.tunnel_unit import TUNNEL_DIR, TUNNEL_USER

from .gateway import ENGINE_NAME
from .metrics import retire_exporters, retire_prometheus
from .preflight import preflight
from .tunnels import tunnel_public_key


def wants_purge(value: object) -> bool:
    """``--data purge=true`` (pyinfra turns ``true`` into True; a string is read too)."""
    return value is True or str(value).strip().lower() in ("1", "true", "yes")


def _site_absent(path: str) -> None:
    site = files.file(name=f"Remove site {path}", path=path, present=False)
    server.shell(name="nginx -t", commands=["nginx -t -q"], _if=site.did_change)
    systemd.service(name="Reload Nginx (site removed)", service="nginx", reloaded=True,
                    _if=site.did_change)  # fmt: skip


def _purge(paths: list[str]) -> None:
    for path in paths:
        files.directory(name=f"Purge {path}", path=path, present=False)


@deploy("Teardown gateway")
def gateway_teardown(stack: Stack, gateway: str, purge: bool = False) -> None:
    """
    Tunnels, the engine's containers and secret files, Prometheus (stopped), the Nginx site.

    + stack: the loaded stack
    + gateway: key of ``stack.gateways``
    + purge: also delete the engines' data directories (OneAPI's database) and certificates

    Both engine sections are handled when both are declared (one may be left from a switch).
    """
    gw = stack.gateways[gateway]
    kit_systemd.units_absent(name="Tunnel units", prefix=TUNNEL_UNIT_PREFIX, keep=[])
    files.directory(name="Tunnel key and pinned host keys", path=TUNNEL_DIR, present=False)
    accounts.absent(name="autossh user", user=TUNNEL_USER)
    data_dirs = []
    for engine in ENGINE_NAME:
        settings = getattr(gw, engine)
        if settings is None:
            continue
        data_dirs.append(settings.data_dir)
        compose.project(name=f"{ENGINE_NAME[engine]} Compose project down",
                      project_dir=settings.data_dir, present=False)  # fmt: skip
        for path in host.get_fact(FindFiles, path=settings.data_dir, fname="*secrets.env",
                                  maxdepth=1):  # fmt: skip
            files.file(name=f"Remove {ENGINE_NAME[engine]} {posixpath.basename(path)}",
                       path=path, present=False)  # fmt: skip
    retire_prometheus()
    _site_absent(GATEWAY_SITE)
    if purge:
        _purge([*data_dirs, TLS_DIR])


@deploy("Teardown GPU host")
def gpu_teardown(stack: Stack, host_name: str, purge: bool = False) -> None:
    """
    Every model-service project the kit made (GPUs freed), the tunnel login, the metrics
    exporters (stopped).

    + stack: the loaded stack
    + host_name: key of ``stack.gpu_hosts``
    + purge: also delete ``data_dir`` (model caches)
    """
    gpu = stack.gpu_hosts[host_name]
    compose.projects_absent(name="Model services", data_dir=gpu.data_dir, keep=[])
    for name, gw in stack.gateways.items():
        public = tunnel_public_key(stack, name)
        if public:
            ssh.authorized_key(name=f"Revoke {name}'s tunnel key", user=gw.tunnel_user,
                               key=public, present=False,
                               path=gw.tunnel_authorized_keys)  # fmt: skip
    # A login user opted in as tunnel user is not the kit's to delete.
    for user in dict.fromkeys(gw.tunnel_user for gw in stack.gateways.values()
                              if gw.owns_tunnel_user):
        accounts.absent(name=f"Tunnel login user {user}", user=user)
    retire_exporters()
    if purge:
        _purge([gpu.data_dir])


@deploy("Teardown relay")
def relay_teardown(stack: Stack, relay: str, purge: bool = False) -> None:
    """
    The relay's Nginx site.

    + stack: the loaded stack
    + relay: key of ``stack.relays``
    + purge: also delete the certificates the kit put there
    """
    _site_absent(RELAY_SITE)
    if purge:
        _purge([TLS_DIR])


def teardown(stack: Stack, name: str, purge: bool = False) -> None:
    """What the kit made on host ``name``: gateways first (their tunnels hold sessions on the
    GPU hosts), then GPU hosts and relays."""
    role = stack.role(name)
    preflight(stack, name, docker=False)
    if role == "gateway":
        gateway_teardown(stack, name, purge)
    barrier(name="Barrier: gateways torn down", reached="no tunnel or channel points onward")
    if role == "gpu":
        gpu_teardown(stack, name, purge)
    if role == "relay":
        relay_teardown(stack, name, purge)


__all__ = ["teardown", "wants_purge"]
