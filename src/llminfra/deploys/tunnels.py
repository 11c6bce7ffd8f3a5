"""autossh tunnels from a gateway to tunnel-only GPU hosts, and the GPU side that accepts them.

The tunnel key pair is made once on the operator's machine (next to the stack file, in
``.llminfra/``, like the pinned known_hosts) so the gateway's private key and the GPU hosts'
authorized_keys line are both known while pyinfra prepares, whatever the host order.
"""

from __future__ import annotations

import os
import subprocess
import threading
from io import StringIO
from pathlib import Path

from pyinfra.api import DeployError, deploy
from pyinfra.operations import systemd
from pyinfra.operations.util import any_changed

from llminfra.commands.net import reach
from llminfra.commands.ssh import tunnel_key_options
from llminfra.model import Stack
from llminfra.model.stack import TUNNEL_UNIT_PREFIX
from llminfra.operations import accounts, paths, private, ssh
from llminfra.operations import systemd as kit_systemd
from llminfra.operations.http import answers
from llminfra.operations.sync import barrier
from llminfra.paths import OperatorPaths
from llminfra.render import render_known_hosts, render_tunnel_unit
from llminfra.render.tunnel_unit import (
    TUNNEL_DIR, TUNNEL_KEY, TUNNEL_USER, exporter_target, forward_target, known_hosts_path,
)

from ._apt import install
from .gateway import ENGINE_NAME, ENGINE_SERVICE

NOLOGIN = "/usr/sbin/nologin"
TUNNEL_TIMEOUT = 60


# pyinfra prepares the gateway and its GPU hosts concurrently (gevent): both ends ask for the
# key on a first deploy. One generates it, the other waits and reads the same pair.
_KEYGEN = threading.Lock()


def tunnel_keypair(stack: Stack, gateway: str) -> tuple[str, str]:
    """(private, public) key text of ``gateway``'s tunnels; generated on first use."""
    path = OperatorPaths.of(stack).tunnel_key(gateway)
    with _KEYGEN:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}")
            for stale in (tmp, Path(f"{tmp}.pub")):
                stale.unlink(missing_ok=True)
            result = subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                 f"llminfra-tunnel@{gateway}", "-f", str(tmp)],
                capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            if result.returncode != 0:
                raise DeployError(f"ssh-keygen for the {gateway} tunnel key failed: "
                                  f"{(result.stderr or result.stdout).strip()}")
            # public first: whoever sees the private key finds its public half too
            os.replace(f"{tmp}.pub", f"{path}.pub")
            os.replace(tmp, path)
    return path.read_text(), Path(f"{path}.pub").read_text().strip()


def permitted_targets(stack: Stack, host_name: str) -> list[str]:
    """The ``permitopen`` entries of a GPU host: each service's tunnel target and the exporter
    forwards its tunnels carry, nothing else."""
    gpu = stack.gpu_hosts[host_name]
    exporters = [exporter_target(gpu, f) for t in stack.tunnels() if t.gpu_host == host_name
                 for f in t.forwards]
    return [forward_target(stack, gpu, svc) for svc in gpu.services] + exporters


@deploy("Tunnel endpoint")
def tunnel_endpoint(stack: Stack, host_name: str) -> None:
    """
    On a tunnel-only GPU host: a no-login user whose only power is forwarding to the ports
    of this host's services (``restrict``, ``permitopen``, forced ``/bin/false``).

    + stack: the loaded stack
    + host_name: key of ``stack.gpu_hosts`` (no-op unless its ``reach`` is ``tunnel``)
    """
    gpu = stack.gpu_hosts[host_name]
    gateway = stack.gateway_for(gpu) if gpu.reach == "tunnel" and gpu.services else None
    _revoke_other_gateways(stack, keep=gateway)
    if gateway is None:
        return
    gw = stack.gateways[gateway]
    user = gw.tunnel_user
    if gw.owns_tunnel_user:
        accounts.system_user(name="Tunnel login user", user=user, home=f"/home/{user}",
                             shell=NOLOGIN)  # fmt: skip
    ssh.authorized_key(
        name=f"Authorize {gateway}'s tunnel key",
        user=user,
        key=tunnel_keypair(stack, gateway)[1],
        options=tunnel_key_options(permitted_targets(stack, host_name)),
        path=gw.tunnel_authorized_keys,
    )


def tunnel_public_key(stack: Stack, gateway: str) -> str | None:
    """``gateway``'s tunnel public key if this machine ever made it (else it was never
    handed to any GPU host)."""
    public = Path(f"{OperatorPaths.of(stack).tunnel_key(gateway)}.pub")
    return public.read_text().strip() if public.exists() else None


def _revoke_other_gateways(stack: Stack, keep: str | None) -> None:
    """A host no longer tunnelled (direct now, no services, another gateway) takes back the
    access it gave: each other gateway's tunnel key leaves the tunnel user's authorized_keys."""
    for name, gw in stack.gateways.items():
        public = tunnel_public_key(stack, name)
        if name == keep or public is None:
            continue
        ssh.authorized_key(name=f"Revoke {name}'s tunnel key", user=gw.tunnel_user, key=public,
                           present=False, path=gw.tunnel_authorized_keys)


@deploy("Retired tunnels")
def retired_tunnels(stack: Stack, gateway: str) -> None:
    """
    On a gateway, after the channels moved off them: tunnel units and pinned host keys no
    longer declared (a removed service, a removed or re-reached GPU host) are deleted.

    + stack: the loaded stack
    + gateway: key of ``stack.gateways``
    """
    wanted = stack.tunnels(gateway)
    paths.absent_except(name="Unpin host keys no longer tunnelled", directory=TUNNEL_DIR,
                        fname="known_hosts.*",
                        keep=[known_hosts_path(t.gpu_host) for t in wanted])  # fmt: skip
    kit_systemd.units_absent(name="Tunnel units no longer declared", prefix=TUNNEL_UNIT_PREFIX,
                             keep=[t.unit for t in wanted])  # fmt: skip


@deploy("Tunnels")
def tunnels(stack: Stack, gateway: str) -> None:
    """
    On a gateway: one systemd-managed autossh per tunnelled service, with pinned host keys.

    + stack: the loaded stack
    + gateway: key of ``stack.gateways``

    A unit is restarted only when its unit file, the key or the pinned host key changed.
    """
    wanted = stack.tunnels(gateway)
    if not wanted:
        return
    units = {t.unit: render_tunnel_unit(stack, t) for t in wanted}
    pinned = {g: render_known_hosts(stack, g) for g in dict.fromkeys(t.gpu_host for t in wanted)}
    install("Install autossh", ["autossh", "openssh-client"])
    accounts.system_user(name="autossh user", user=TUNNEL_USER, shell=NOLOGIN)
    paths.directory(name="Tunnel directory", path=TUNNEL_DIR, user=TUNNEL_USER,
                    group=TUNNEL_USER, mode="700")  # fmt: skip
    private_key, public_key = tunnel_keypair(stack, gateway)
    key = private.file(name="Tunnel private key", path=TUNNEL_KEY, src=StringIO(private_key),
                       user=TUNNEL_USER, group=TUNNEL_USER)  # fmt: skip
    paths.file(name="Tunnel public key", src=StringIO(public_key + "\n"),
               path=f"{TUNNEL_KEY}.pub", mode="644")  # fmt: skip
    pins = {
        gpu_host: paths.file(name=f"Pin {gpu_host} host key", src=StringIO(known.content),
                             path=known.path_on_host, mode="644")  # fmt: skip
        for gpu_host, known in pinned.items()
    }
    written = {
        name: paths.file(
            name=f"{name}.service", src=StringIO(unit.content), path=unit.path_on_host, mode="644"
        )
        for name, unit in units.items()
    }
    systemd.daemon_reload(
        name="systemd daemon-reload (tunnel units)",
        _if=any_changed(*written.values()),
    )
    for tunnel in wanted:
        systemd.service(
            name=f"Restart {tunnel.unit}",
            service=f"{tunnel.unit}.service",
            restarted=True,
            _if=any_changed(written[tunnel.unit], key, pins[tunnel.gpu_host]),
        )
        kit_systemd.running(name=f"{tunnel.unit} running", unit=f"{tunnel.unit}.service")
    gw = stack.gateways[gateway]
    inside = {t.unit: f"http://{t.bind}:{t.local_port}/v1/models" for t in wanted}
    for tunnel in wanted:
        # Seen from the engine's own container: that is where the channels connect from.
        answers(
            name=f"{tunnel.unit} answers inside {ENGINE_NAME[gw.engine]}",
            url=inside[tunnel.unit],
            what=f"tunnel {tunnel.bind}:{tunnel.local_port} to {tunnel.gpu_host}/{tunnel.service}",
            project_dir=gw.engine_settings.data_dir, service=ENGINE_SERVICE[gw.engine],
            statuses=None, timeout=TUNNEL_TIMEOUT, along=tuple(inside.values()),
        )
        for f in tunnel.forwards:  # seen from the host: that is where Prometheus scrapes from
            answers(name=f"{tunnel.gpu_host}'s {f.what} answers through {tunnel.unit}",
                    url=f"http://{reach(f.bind)}:{f.local_port}/metrics",
                    what=f"{f.what} forward {f.bind}:{f.local_port} to {tunnel.gpu_host}",
                    timeout=TUNNEL_TIMEOUT)  # fmt: skip


def both_ends(stack: Stack, name: str) -> None:
    """Tunnel endpoints on GPU hosts, then (past a barrier) the tunnels on gateways."""
    role = stack.role(name)
    if role == "gpu":
        tunnel_endpoint(stack, name)
    barrier(name="Barrier: tunnel endpoints", reached="tunnel endpoints accept the gateway's key")
    if role == "gateway":
        tunnels(stack, name)
        retired_tunnels(stack, name)
