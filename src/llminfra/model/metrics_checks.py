"""Checks of the `metrics` sections that span hosts (validate.check_stack runs them)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from .errors import line
from .metrics import exporter_bind, exports_node, host_metrics
from .stack import Stack


def check_metrics(stack: Stack) -> Iterator[str]:
    for gw_name, gw in stack.gateways.items():
        m = gw.metrics
        if m is None:
            continue
        loc = ("gateways", gw_name, "metrics")
        if m.gpu_exporter and not m.node_exporter:
            yield line(loc + ("gpu_exporter",), "needs node_exporter (the GPU metrics are served "
                       "by its textfile collector)")
        for host_name in m.tunnel_ports:
            gpu = stack.gpu_hosts.get(host_name)
            if gpu is None or gpu.reach != "tunnel" or stack.gateway_for(gpu) != gw_name:
                yield line(loc + ("tunnel_ports", host_name), f"{host_name!r} is not a "
                           f"tunnel-only GPU host reached through {gw_name}")
    for host_name, gpu in stack.gpu_hosts.items():
        m = host_metrics(stack, host_name)
        if m is None or not exports_node(stack, host_name):
            continue
        for i, svc in enumerate(gpu.services):
            if svc.port == m.node_exporter_port:
                yield line(("gpu_hosts", host_name, "services", i, "port"), f"{svc.port} is also "
                           "the node exporter's port (metrics)")
        if gpu.reach != "direct":
            continue
        address = exporter_bind(gpu)
        where = ("gpu_hosts", host_name, "address" if gpu.address else "ssh")
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            yield line(where, f"{address!r}: the node exporter (metrics) listens on this "
                       "host's address, which must be a private IP literal (set `address`)")
            continue
        if ip.is_global or ip.is_unspecified or ip.is_loopback:
            yield line(where, f"{address}: the node exporter (metrics) has no authentication "
                       "and listens on this address; give the host's private address "
                       "(`address`), or reach it through a tunnel")
