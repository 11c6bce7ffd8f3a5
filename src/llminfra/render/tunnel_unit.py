"""systemd units (and pinned host keys) for the gateway's autossh tunnels."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from llminfra.commands.net import known_hosts_name, reach
from llminfra.commands.ssh import autossh_argv
from llminfra.model import GpuHost, Stack, Tunnel
from llminfra.model.metrics import Forward, exporter_bind
from llminfra.model.services import ServiceBase

from .files import RenderedFile, render

TUNNEL_USER = "llminfra-tunnel"  # local system user on the gateway that runs autossh
TUNNEL_DIR = "/etc/llminfra/tunnel"
TUNNEL_KEY = f"{TUNNEL_DIR}/id_ed25519"
AUTOSSH = "/usr/bin/autossh"
_PLAIN = re.compile(r"^[A-Za-z0-9@%+=:,./_\[\]-]+$")


def known_hosts_path(gpu_host: str) -> str:
    return f"{TUNNEL_DIR}/known_hosts.{gpu_host}"


def unit_path(tunnel: Tunnel) -> str:
    return f"/etc/systemd/system/{tunnel.unit}.service"


def systemd_word(arg: str) -> str:
    """One ExecStart= word: `%` and `$` would be specifiers / variables to systemd."""
    escaped = arg.replace("%", "%%").replace("$", "$$")
    if _PLAIN.match(arg):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def forward_target(stack: Stack, gpu: GpuHost, svc: ServiceBase) -> str:
    """``host:port`` on the GPU host a tunnel forwards to: the autossh ``-L`` target and the
    GPU side's ``permitopen`` entry, which sshd compares as written."""
    return f"{reach(stack.service_bind(gpu, svc))}:{svc.port}"


def exporter_target(gpu: GpuHost, forward: Forward) -> str:
    """``host:port`` of an exporter forward on the GPU host (same rule, same sshd comparison)."""
    return f"{reach(exporter_bind(gpu))}:{forward.remote_port}"


def forward_spec(gpu: GpuHost, forward: Forward) -> str:
    return f"{forward.bind}:{forward.local_port}:{exporter_target(gpu, forward)}"


@dataclass(frozen=True)
class TunnelUnit:
    description: str
    user: str
    exec_start: str
    restart_sec: int = 5


def tunnel_view(stack: Stack, tunnel: Tunnel) -> TunnelUnit:
    gw = stack.gateways[tunnel.gateway]
    gpu = stack.gpu_hosts[tunnel.gpu_host]
    svc = next(s for s in gpu.services if s.name == tunnel.service)
    argv = autossh_argv(
        user=gw.tunnel_user, host=gpu.ssh.host, port=gpu.ssh.port, key_path=TUNNEL_KEY,
        known_hosts=known_hosts_path(tunnel.gpu_host), bind=tunnel.bind,
        local_port=tunnel.local_port, target=forward_target(stack, gpu, svc),
        more=tuple(forward_spec(gpu, f) for f in tunnel.forwards),
    )
    argv[0] = AUTOSSH
    return TunnelUnit(
        description=f"llminfra tunnel to {tunnel.gpu_host}/{tunnel.service} "
                    f"({tunnel.bind}:{tunnel.local_port})"
                    + "".join(f", {f.what} ({f.bind}:{f.local_port})" for f in tunnel.forwards),
        user=TUNNEL_USER, exec_start=" ".join(systemd_word(a) for a in argv),
    )


def render_tunnel_unit(stack: Stack, tunnel: Tunnel) -> RenderedFile:
    return RenderedFile(unit_path(tunnel), render("systemd/tunnel.service.j2",
                                                  tunnel_view(stack, tunnel)))


def render_known_hosts(stack: Stack, gpu_host: str) -> RenderedFile:
    """The one host key a tunnel accepts for `gpu_host` (pinned, never learnt)."""
    ssh = stack.gpu_hosts[gpu_host].ssh
    if ssh.host_key:
        content = f"{known_hosts_name(ssh.host, ssh.port)} {ssh.host_key}\n"
    else:  # the model requires one of the two for reach: tunnel, and that the file exists
        content = Path(str(ssh.known_hosts)).expanduser().read_text()
    return RenderedFile(known_hosts_path(gpu_host), content)
