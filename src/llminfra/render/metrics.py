"""Prometheus on a gateway, the node exporter and the GPU collector on GPU hosts.

The GPU exporter is nvidia-smi on a systemd timer feeding the node exporter's textfile
collector, not an image-based exporter (nvidia_gpu_exporter, dcgm-exporter): no further image
to mirror and pull, no container toolkit needed by a metrics host, no further port (the GPU
series ride on the node exporter's port, so a tunnel carries one exporter forward, not two),
and the parser is a short awk script tested against real nvidia-smi output. What it gives up:
DCGM's profiling counters (SM occupancy, NVLink bandwidth) and sub-poll resolution.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass

from llminfra.commands.gpu import gpu_metrics_command
from llminfra.commands.net import reach
from llminfra.model import Stack
from llminfra.model.services.base import ServerMetrics
from llminfra.model.metrics import (
    MetricsSettings, PROMETHEUS_BIND, exporter_bind, exports_gpus, exports_node, metrics_of,
)

from .files import RenderedFile, render
from .tunnel_unit import systemd_word

PROMETHEUS_CONFIG = "/etc/prometheus/prometheus.yml"
PROMETHEUS_DEFAULTS = "/etc/default/prometheus"
KEY_DIR = "/etc/prometheus/llminfra"  # bearer keys of model servers (0600, user prometheus)
NODE_DEFAULTS = "/etc/default/prometheus-node-exporter"
TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"  # Debian's default, written explicitly
GPU_SCRIPT = "/usr/local/lib/llminfra/nvidia_smi.awk"
GPU_UNIT = "llminfra-gpu-metrics"
UNIT_DIR = "/etc/systemd/system"


@dataclass(frozen=True)
class Target:
    job: str  # "gpu-2/smol", "gpu-2/node", "gw-1/litellm"
    address: str  # host:port as Prometheus connects from the gateway
    path: str
    host: str
    service: str  # "node" for the node exporter
    kind: str
    key_secret: str | None = None
    series: ServerMetrics | None = None  # a model server's load series (status reads them)

    @property
    def key_file(self) -> str | None:
        return f"{KEY_DIR}/{self.job.replace('/', '-')}.key" if self.key_secret else None


@dataclass(frozen=True)
class PrometheusView:
    gateway: str
    scrape_interval: str
    port: int
    targets: tuple[Target, ...]


def listen(address: str, port: int) -> str:
    """A specific (non-wildcard) address and port as a Go listener takes it."""
    return f"{reach(address)}:{port}"


def scrape_targets(stack: Stack, gateway: str) -> list[Target]:
    """What Prometheus on ``gateway`` scrapes, each through the path its channels already use
    (a service's tunnel, a direct host's address) or the exporter forward on that tunnel."""
    m = metrics_of(stack, gateway)
    if m is None:
        return []
    out: list[Target] = []
    tunnels = stack.tunnels(gateway)
    for host_name, gpu in stack.gpu_hosts.items():
        if stack.gateway_for(gpu) != gateway:
            continue
        mine = [t for t in tunnels if t.gpu_host == host_name]
        for svc in gpu.services if m.model_servers else []:
            if svc.metrics is None:
                continue
            if gpu.reach == "direct":
                address = f"{reach(gpu.service_address)}:{svc.port}"
            else:
                t = next(t for t in mine if t.service == svc.name)
                address = f"{reach(t.bind)}:{t.local_port}"
            out.append(Target(f"{host_name}/{svc.name}", address, svc.metrics.path, host_name,
                              svc.name, svc.tag(), svc.client_key(), svc.metrics))
        if exports_node(stack, host_name):
            if gpu.reach == "direct":
                address = listen(exporter_bind(gpu), m.node_exporter_port)
            else:
                f = next(f for t in mine for f in t.forwards)
                address = f"{reach(f.bind)}:{f.local_port}"
            out.append(Target(f"{host_name}/node", address, "/metrics", host_name, "node",
                              "node-exporter"))
    gw = stack.gateways[gateway]
    if m.model_servers and gw.engine == "litellm":
        engine = gw.engine_settings
        # /metrics answers 307 to /metrics/ (LiteLLM 1.108): ask the final path
        out.append(Target(f"{gateway}/litellm", f"{reach(engine.api_bind)}:{engine.api_port}",
                          "/metrics/", gateway, "litellm", "litellm"))
    return out


def prometheus_view(stack: Stack, gateway: str) -> PrometheusView:
    m = metrics_of(stack, gateway)
    assert m is not None
    return PrometheusView(gateway, m.scrape_interval, m.port,
                          tuple(scrape_targets(stack, gateway)))


def render_prometheus_config(stack: Stack, gateway: str) -> RenderedFile:
    return RenderedFile(PROMETHEUS_CONFIG, render("metrics/prometheus.yml.j2",
                                                  prometheus_view(stack, gateway)))


def prometheus_args(m: MetricsSettings) -> str:
    return (f"--web.listen-address={listen(PROMETHEUS_BIND, m.port)} "
            f"--storage.tsdb.retention.time={m.retention}")


def render_prometheus_defaults(stack: Stack, gateway: str) -> RenderedFile:
    m = metrics_of(stack, gateway)
    assert m is not None
    return RenderedFile(PROMETHEUS_DEFAULTS, _defaults("Prometheus", prometheus_args(m)))


def prometheus_key_files(stack: Stack, gateway: str) -> list[RenderedFile]:
    """One 0600 file per keyed model server: Prometheus reads it (credentials_file), so the
    key is never in prometheus.yml."""
    return [RenderedFile(t.key_file, str(stack.secret(t.key_secret)), mode="0600", secret=True)
            for t in scrape_targets(stack, gateway) if t.key_file and t.key_secret]


def node_exporter_args(stack: Stack, host_name: str) -> str:
    m = metrics_of(stack, stack.gateway_for(stack.gpu_hosts[host_name]) or "")
    assert m is not None
    gpu = stack.gpu_hosts[host_name]
    return (f"--web.listen-address={listen(exporter_bind(gpu), m.node_exporter_port)} "
            f"--collector.textfile.directory={TEXTFILE_DIR}")


def render_node_defaults(stack: Stack, host_name: str) -> RenderedFile:
    return RenderedFile(NODE_DEFAULTS, _defaults("the node exporter",
                                                 node_exporter_args(stack, host_name)))


@dataclass(frozen=True)
class GpuCollector:
    exec_start: str
    interval: int
    textfile_dir: str = TEXTFILE_DIR


def render_gpu_collector(stack: Stack, host_name: str) -> list[RenderedFile]:
    """The awk script and the service + timer that run nvidia-smi through it."""
    m = metrics_of(stack, stack.gateway_for(stack.gpu_hosts[host_name]) or "")
    assert m is not None
    command = systemd_word(gpu_metrics_command(GPU_SCRIPT, TEXTFILE_DIR))
    view = GpuCollector(f"/bin/sh -c {command}", m.gpu_poll_seconds)
    script = importlib.resources.files("llminfra").joinpath("templates/metrics/nvidia_smi.awk")
    return [RenderedFile(GPU_SCRIPT, script.read_text()),
            RenderedFile(f"{UNIT_DIR}/{GPU_UNIT}.service",
                         render("metrics/gpu-metrics.service.j2", view)),
            RenderedFile(f"{UNIT_DIR}/{GPU_UNIT}.timer", render("metrics/gpu-metrics.timer.j2",
                                                                view))]


def gpu_metrics_files(stack: Stack, host_name: str) -> list[RenderedFile]:
    out = [render_node_defaults(stack, host_name)] if exports_node(stack, host_name) else []
    return out + (render_gpu_collector(stack, host_name) if exports_gpus(stack, host_name) else [])


def gateway_metrics_files(stack: Stack, gateway: str) -> list[RenderedFile]:
    if metrics_of(stack, gateway) is None:
        return []
    return [render_prometheus_defaults(stack, gateway), render_prometheus_config(stack, gateway),
            *prometheus_key_files(stack, gateway)]


def _defaults(what: str, args: str) -> str:
    return (f"# Written by llminfra: arguments of {what} (Debian's unit reads ARGS).\n"
            "# Loopback or a private address only: the exporters and Prometheus have no "
            "authentication.\n"
            f'ARGS="{args}"\n')
