"""What listens on each host, in one table per host: two listeners on one port number are
refused before any deploy (Nginx and sshd listen on every address, so a port number is taken
on the whole host whatever address another listener binds)."""

from __future__ import annotations

from collections.abc import Iterator

from .errors import line
from .metrics import exports_node, host_metrics, metrics_of
from .stack import Stack

Loc = tuple[object, ...]


def _listeners(stack: Stack) -> Iterator[tuple[str, int, Loc, str]]:
    """(host, port, location of the field that sets it, what listens)."""
    for name, gpu in stack.gpu_hosts.items():
        # no sshd here: rented GPU boxes often reach SSH through a provider's NAT port, which
        # says nothing about what listens on the host itself
        base: Loc = ("gpu_hosts", name)
        for i, svc in enumerate(gpu.services):
            yield name, svc.port, base + ("services", i, "port"), f"services/{i} ({svc.name})"
        m = host_metrics(stack, name)
        if m is not None and exports_node(stack, name):
            scraper = stack.gateway_for(gpu)
            yield (name, m.node_exporter_port,
                   ("gateways", scraper, "metrics", "node_exporter_port"), "the node exporter")
    for name, gw in stack.gateways.items():
        base = ("gateways", name)
        yield name, gw.ssh.port, base + ("ssh", "port"), "sshd"
        yield name, gw.nginx.http_port, base + ("nginx", "http_port"), "nginx (http)"
        yield name, gw.nginx.https_port, base + ("nginx", "https_port"), "nginx (https)"
        engine = gw.engine_settings
        key = engine.port_key.split("/")
        yield name, engine.api_port, base + tuple(key), engine.port_key
        m = metrics_of(stack, name)
        if m is not None:
            yield name, m.port, base + ("metrics", "port"), "prometheus"
        for t in stack.tunnels(name):
            services = stack.gpu_hosts[t.gpu_host].services
            idx = [s.name for s in services].index(t.service)
            yield (name, t.local_port, ("gpu_hosts", t.gpu_host, "services", idx, "tunnel_port"),
                   f"the tunnel to {t.gpu_host}/{t.service}")
            for f in t.forwards:
                yield (name, f.local_port, base + ("metrics", "tunnel_ports", t.gpu_host),
                       f"the {f.what} forward of {t.gpu_host}")
    for name, relay in stack.relays.items():
        base = ("relays", name)
        yield name, relay.ssh.port, base + ("ssh", "port"), "sshd"
        if relay.tls.mode == "acme":
            yield name, 80, base + ("tls", "mode"), "nginx (http, for ACME)"
        yield name, relay.https_port, base + ("https_port",), "nginx (https)"


def _host_wide(what: str) -> bool:
    # Clashes among model servers, tunnels, exporters and the engine are reported by
    # validate and metrics_checks with their own advice; this adds sshd and Nginx.
    return what == "sshd" or what.startswith("nginx")


def check_ports(stack: Stack) -> Iterator[str]:
    taken: dict[tuple[str, int], str] = {}
    seen: set[str] = set()
    for host, port, loc, what in _listeners(stack):
        first = taken.setdefault((host, port), what)
        if first != what and (_host_wide(first) or _host_wide(what)):
            msg = line(loc, f"port {port} on {host} is also used by {first}")
            if msg not in seen:
                seen.add(msg)
                yield msg
