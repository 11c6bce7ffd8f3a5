"""What `llminfra check` prints: the platform as the inventory describes it."""

from __future__ import annotations

from .model import Stack
from .table import table


def describe(stack: Stack) -> str:
    hosts = []
    for section, role in (("gpu_hosts", "gpu"), ("gateways", "gateway"), ("relays", "relay")):
        for name, h in getattr(stack, section).items():
            reach = getattr(h, "reach", "direct")
            engine = getattr(h, "engine", None)
            hosts.append([name, f"{role} ({engine})" if engine else role, f"{h.ssh.user}@{h.ssh.host}:{h.ssh.port}", reach,
                          "pinned" if h.ssh.host_key else "known_hosts"])  # check_pins ran first
    services = []
    for host_name, gpu in stack.gpu_hosts.items():
        for svc in gpu.services:
            gpus = "cpu" if svc.gpus == "cpu" else ",".join(map(str, svc.gpus))
            services.append([host_name, svc.name, svc.kind, f"{stack.service_bind(gpu, svc)}:{svc.port}",
                             gpus, ", ".join(svc.served())])
    tunnels = [[t.gateway, f"{t.bind}:{t.local_port}", f"{t.gpu_host}:127.0.0.1:{t.remote_port}",
                t.unit] for t in stack.tunnels()]
    channels = []
    for gw in stack.gateways:
        for c in stack.channel_specs(gw):
            channels.append([gw, c.name, c.kind, c.base_url, ", ".join(c.models), c.priority,
                             ",".join(c.groups), "yes" if c.enabled else "no"])
    tokens = [[t.name, t.quota, t.expires or "never", ", ".join(t.models) or "any",
               ", ".join(t.subnets) or "any"] for t in stack.tokens]
    parts = [
        f"stack {stack.name}: {len(hosts)} hosts, {len(services)} services, "
        f"{len(tunnels)} tunnels, {len(channels)} channels, {len(tokens)} tokens"
        + (f", {len(stack.warnings)} warnings (below)" if stack.warnings else ""),
        "", "HOSTS", table(["name", "role", "ssh", "reach", "host key"], hosts),
    ]
    if services:
        parts += ["", "SERVICES", table(["host", "service", "kind", "listen", "gpus", "serves"],
                                        services)]
    if tunnels:
        parts += ["", "TUNNELS", table(["gateway", "listens on", "forwards to", "unit"], tunnels)]
    if channels:
        parts += ["", "CHANNELS", table(["gateway", "name", "kind", "base url", "models",
                                         "priority", "groups", "enabled"], channels)]
    if tokens:
        parts += ["", "TOKENS", table(["name", "quota", "expires", "models", "subnets"], tokens)]
    if stack.warnings:
        # Opted-in risks stay visible on every check, so nobody forgets they were accepted;
        # example placeholders and certificates near expiry are listed with them.
        parts += ["", f"WARNINGS ({len(stack.warnings)})",
                  *stack.warnings]
    return "\n".join(parts)
