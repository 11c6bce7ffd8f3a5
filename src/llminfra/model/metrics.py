"""Metrics: Prometheus on a gateway scraping the model servers and GPU hosts it reaches.

Everything is reached the way the gateway already reaches its GPU hosts: model servers' own
/metrics through their tunnels (or their direct address), and each GPU host's node exporter
through one more forward on that host's tunnel (or on its private address). Prometheus
listens on the gateway's loopback only; the public Nginx never routes to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import Field

from .base import Name, Port, Strict
from .types import PromDuration

if TYPE_CHECKING:
    from .hosts import GpuHost
    from .stack import Stack

PROMETHEUS_BIND = "127.0.0.1"
# Where a tunnel's exporter forward listens on the gateway: Prometheus runs on the host, so
# loopback is enough and the engine's containers (which reach the tunnels' bridge address)
# do not see the exporters.
EXPORTER_FORWARD_BIND = "127.0.0.1"
NODE_EXPORTER = "node-exporter"
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def duration_seconds(duration: str) -> float:
    """A Prometheus duration (`1m30s`) in seconds."""
    return sum(int(n) * _UNITS[u] for n, u in re.findall(r"([0-9]+)(ms|s|m|h|d|w|y)", duration))


class MetricsSettings(Strict):
    enabled: bool = Field(
        True, description="Run Prometheus on this gateway and the exporters on the GPU hosts it "
        "reaches. `false` stops them (their data stays)."
    )
    scrape_interval: PromDuration = Field("15s", description="How often every target is scraped.")
    retention: PromDuration = Field("15d", description="How long samples are kept on the gateway.")
    port: Port = Field(9090, description="Prometheus' port, on the gateway's loopback only.")
    model_servers: bool = Field(
        True, description="Scrape the model servers' own `/metrics` (vLLM, SGLang, and the "
        "LiteLLM engine); kinds without Prometheus metrics (Ollama) are skipped."
    )
    node_exporter: bool = Field(
        True, description="Debian's prometheus-node-exporter on each GPU host, on loopback "
        "(tunnel-only hosts, reached through one more forward on the host's tunnel) or on "
        "the host's private `address` (direct hosts)."
    )
    node_exporter_port: Port = Field(9100, description="The node exporter's port on GPU hosts.")
    gpu_exporter: bool | None = Field(
        None, description="NVIDIA GPU metrics (nvidia-smi every `gpu_poll_seconds`, served by "
        "the node exporter's textfile collector). Default: on hosts that pin GPUs or declare "
        "`gpus`. Needs `node_exporter`."
    )
    gpu_poll_seconds: int = Field(15, ge=5, le=3600, description="How often nvidia-smi is read.")
    tunnel_ports: dict[Name, Port] = Field(
        {}, max_length=1024, description="Gateway-side port of a tunnel-only GPU host's exporter "
        "forward, by host name. Default: the stable hash of `<gpu host>/node-exporter` into the "
        "gateway's `tunnel_port_base` range (`check` reports a collision)."
    )


@dataclass(frozen=True)
class Forward:
    """One more ``-L`` on a tunnel unit: an exporter port on the GPU host, seen on the gateway."""

    what: str  # "node-exporter"
    bind: str  # gateway side
    local_port: int  # gateway side
    remote_port: int  # on the GPU host, bound as `exporter_bind` says


def metrics_of(stack: Stack, gateway: str) -> MetricsSettings | None:
    """The gateway's metrics settings when they are on."""
    gw = stack.gateways.get(gateway)
    if gw is None or gw.metrics is None or not gw.metrics.enabled:
        return None
    return gw.metrics


def host_metrics(stack: Stack, host_name: str) -> MetricsSettings | None:
    """Settings of the gateway that scrapes GPU host ``host_name`` (the one that reaches it)."""
    gateway = stack.gateway_for(stack.gpu_hosts[host_name])
    return metrics_of(stack, gateway) if gateway else None


def exports_node(stack: Stack, host_name: str) -> bool:
    m = host_metrics(stack, host_name)
    # a tunnel-only host without services has no tunnel to carry the forward
    gpu = stack.gpu_hosts[host_name]
    return bool(m and m.node_exporter and (gpu.reach == "direct" or gpu.services))


def exports_gpus(stack: Stack, host_name: str) -> bool:
    m = host_metrics(stack, host_name)
    if not (m and exports_node(stack, host_name)):
        return False
    gpu = stack.gpu_hosts[host_name]
    return m.gpu_exporter if m.gpu_exporter is not None else has_gpus(gpu)


def has_gpus(gpu: GpuHost) -> bool:
    return bool(gpu.gpus) or any(s.gpu_list for s in gpu.services)


def exporter_bind(gpu: GpuHost) -> str:
    """Where the node exporter listens on a GPU host: loopback behind a tunnel, else the
    private address the gateway already uses for the host's services."""
    return "127.0.0.1" if gpu.reach == "tunnel" else gpu.service_address


def exporter_forward(stack: Stack, gateway: str, host_name: str) -> Forward | None:
    """The node exporter's forward on ``host_name``'s tunnel, when it has one."""
    from .stack import hashed_tunnel_port

    m = metrics_of(stack, gateway)
    gpu = stack.gpu_hosts[host_name]
    if m is None or gpu.reach != "tunnel" or not exports_node(stack, host_name):
        return None
    gw = stack.gateways[gateway]
    port = m.tunnel_ports.get(host_name) or hashed_tunnel_port(gw, host_name, NODE_EXPORTER)
    return Forward(NODE_EXPORTER, EXPORTER_FORWARD_BIND, port, m.node_exporter_port)
