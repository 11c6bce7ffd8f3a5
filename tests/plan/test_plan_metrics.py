"""Plans with `metrics` on: exporters after the model services, Prometheus after the channels,
arguments written before the packages (which start their daemons at once)."""

from __future__ import annotations

import pytest
import yaml

from test_plan import ROOT, names, plan


@pytest.fixture(scope="module")
def metrics_stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plan-metrics")
    data = yaml.safe_load((ROOT / "inventory/prod.yml").read_text())
    data["gateways"]["gw-1"]["metrics"] = {}
    data["gateways"]["gw-1"]["ssh"].update(host="127.0.0.1", port=1)
    path = tmp / "prod.yml"
    path.write_text(yaml.safe_dump(data))
    return path


NODE = [
    "GPU host | Node exporter | Node exporter arguments",
    "GPU host | Node exporter | Install the node exporter",
    "GPU host | Node exporter | Restart the node exporter (arguments changed)",
    "GPU host | Node exporter | Node exporter running",
    "GPU host | Node exporter | nvidia-smi to Prometheus text",
    "GPU host | Node exporter | llminfra-gpu-metrics.service",
    "GPU host | Node exporter | llminfra-gpu-metrics.timer",
    "GPU host | Node exporter | systemd daemon-reload (GPU metrics)",
    "GPU host | Node exporter | Restart the GPU metrics timer",
    "GPU host | Node exporter | GPU metrics timer running",
    "GPU host | Node exporter | Node exporter answers",
]


@pytest.mark.parametrize("gpu_host", ["gpu-1", "gpu-2"])
def test_gpu_hosts_run_the_exporters_after_their_services(metrics_stack, gpu_host):
    ops = names(plan(metrics_stack, gpu_host))
    barrier = ops.index("Barrier: model services and relays")
    assert ops[barrier - len(NODE):barrier] == NODE


def test_gateway_scrapes_after_the_channels(metrics_stack):
    ops = names(plan(metrics_stack, "gw-1"))
    order = [
        "Tunnels | llminfra-tunnel-gpu-2-ollama answers inside OneAPI",
        "Tunnels | gpu-2's node-exporter answers through llminfra-tunnel-gpu-2-ollama",
        "OneAPI channels | Channels and tokens",
        "Prometheus | Prometheus arguments (loopback only)",
        "Prometheus | Prometheus scrape configuration",
        "Prometheus | Install Prometheus",
        "Prometheus | Model server keys directory",
        "Prometheus | Key gpu-1-qwen.key",
        "Prometheus | Restart Prometheus (arguments changed)",
        "Prometheus | Reload Prometheus (targets changed)",
        "Prometheus | Prometheus running",
        "Prometheus | Prometheus is ready",
        "Prometheus | Prometheus scrapes every target",
        "Retired tunnels | Tunnel units no longer declared",
    ]
    assert [n for n in ops if n in order] == order


def test_without_metrics_nothing_is_installed(tmp_path):
    data = yaml.safe_load((ROOT / "inventory/prod.yml").read_text())
    data["gateways"]["gw-1"]["ssh"].update(host="127.0.0.1", port=1)
    path = tmp_path / "prod.yml"
    path.write_text(yaml.safe_dump(data))
    ops = plan(path, "gw-1") + plan(path, "gpu-1")
    metrics = [op for op in ops if "Prometheus" in op["name"] or "exporter" in op["name"]]
    # only the retire steps (stop what the kit set up, if it ever did), and they change nothing
    assert all(op["name"].endswith("stopped (metrics off)") for op in metrics)
    assert not [op for op in metrics if op["hosts_with_change"]]
