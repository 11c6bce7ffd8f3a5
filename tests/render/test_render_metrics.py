"""Prometheus on the gateway, the node exporter and the nvidia-smi collector on GPU hosts:
what is scraped through which path, that none of it listens publicly, and the GPU parser
against real nvidia-smi output."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from render_helpers import make_stack, require

from llminfra.commands.gpu import METRIC_FIELDS, gpu_metrics_command
from llminfra.deploys.tunnels import permitted_targets
from llminfra.render import render_gateway_nginx
from llminfra.render.bundle import render_all
from llminfra.render.metrics import (
    gateway_metrics_files, gpu_metrics_files, render_prometheus_config, scrape_targets,
)
from llminfra.render.tunnel_unit import render_tunnel_unit

FIXTURES = Path(__file__).parents[1] / "facts/data/nvidia-smi"
AWK = Path(__file__).parents[2] / "src/llminfra/templates/metrics/nvidia_smi.awk"


@pytest.fixture
def stack(data):
    data["gateways"]["gw-1"]["metrics"] = {"scrape_interval": "10s", "retention": "30d"}
    return make_stack(data)


def test_targets_use_the_channels_paths(stack):
    got = [(t.job, t.address, t.path, t.key_file) for t in scrape_targets(stack, "gw-1")]
    assert got == [
        # vLLM on the direct host's private address, its key from a 0600 file
        ("gpu-1/qwen", "10.8.0.10:8000", "/metrics", "/etc/prometheus/llminfra/gpu-1-qwen.key"),
        ("gpu-1/node", "10.8.0.10:9100", "/metrics", None),
        # Ollama has no /metrics; the tunnel host's exporter through the forward on its tunnel
        ("gpu-2/node", "127.0.0.1:20729", "/metrics", None),
    ]


def test_prometheus_config_is_valid_and_holds_no_secret(stack, tmp_path):
    config = render_prometheus_config(stack, "gw-1").content
    path = tmp_path / "prometheus.yml"
    path.write_text(config)
    subprocess.run([require("promtool"), "check", "config", "--syntax-only", str(path)],
                   check=True, capture_output=True)
    doc = yaml.safe_load(config)
    assert doc["global"]["scrape_interval"] == "10s"
    jobs = {job["job_name"]: job for job in doc["scrape_configs"]}
    assert jobs["gpu-1/qwen"]["authorization"] == {
        "credentials_file": "/etc/prometheus/llminfra/gpu-1-qwen.key"}
    assert jobs["gpu-2/node"]["static_configs"][0]["labels"] == {
        "instance": "gpu-2/node", "host": "gpu-2", "service": "node", "kind": "node-exporter"}
    every = "\n".join(f.content for files in render_all(stack).values() for f in files
                      if not f.secret)
    assert str(stack.secret("GPU1_VLLM_KEY")) not in every
    [key] = [f for f in gateway_metrics_files(stack, "gw-1") if f.secret]
    assert (key.mode, key.content) == ("0600", str(stack.secret("GPU1_VLLM_KEY")))


def test_nothing_listens_publicly(stack):
    files = {f.path_on_host: f.content for f in gateway_metrics_files(stack, "gw-1")}
    assert 'ARGS="--web.listen-address=127.0.0.1:9090 --storage.tsdb.retention.time=30d"\n' in \
        files["/etc/default/prometheus"]
    node = {f.path_on_host: f.content for f in gpu_metrics_files(stack, "gpu-2")}
    assert ('ARGS="--web.listen-address=127.0.0.1:9100 '
            '--collector.textfile.directory=/var/lib/prometheus/node-exporter"\n'
            ) in node["/etc/default/prometheus-node-exporter"]
    direct = {f.path_on_host: f.content for f in gpu_metrics_files(stack, "gpu-1")}
    assert "--web.listen-address=10.8.0.10:9100 " in direct["/etc/default/prometheus-node-exporter"]


def test_public_nginx_does_not_route_to_prometheus(stack):
    from llminfra.render.nginx_gateway import CLIENT_API

    site = render_gateway_nginx(stack, "gw-1").content
    # the engine is the only upstream; Prometheus' port appears nowhere
    assert set(re.findall(r"proxy_pass\s+(\S+);", site)) == {"http://127.0.0.1:3000"}
    assert "9090" not in site and "prometheus" not in site.lower()
    # and the one proxied location takes neither /metrics nor Prometheus' API paths
    for path in ("/metrics", "/api/v1/query", "/-/ready", "/graph", "/v1/metrics"):
        assert not re.search(CLIENT_API, path), path


def test_exporter_forward_on_the_tunnel_and_permitopen(stack):
    assert permitted_targets(stack, "gpu-2") == ["127.0.0.1:11434", "127.0.0.1:9100"]
    unit = render_tunnel_unit(stack, stack.tunnels("gw-1")[0]).content
    assert (" -L 172.30.0.1:20732:127.0.0.1:11434 -L 127.0.0.1:20729:127.0.0.1:9100 -p 2222 "
            in unit)


def test_permitopen_unchanged_without_metrics(data):
    stack = make_stack(data)
    assert permitted_targets(stack, "gpu-2") == ["127.0.0.1:11434"]
    assert "9100" not in render_tunnel_unit(stack, stack.tunnels("gw-1")[0]).content


def test_litellm_engine_is_scraped_on_loopback(data):
    data["gateways"]["gw-1"]["metrics"] = {}
    data["gateways"]["gw-1"]["engine"] = "litellm"
    data["gateways"]["gw-1"]["litellm"] = {"master_key": "LITELLM_MASTER_KEY",
                                           "client_key_secret": "ONEAPI_SESSION_SECRET"}
    for token in data["tokens"]:
        token["quota"] = "unlimited"
    stack = make_stack(data)
    assert [(t.job, t.address, t.path) for t in scrape_targets(stack, "gw-1")][-1] == (
        "gw-1/litellm", "127.0.0.1:4000", "/metrics/")


def test_gpu_collector_units(stack):
    files = {f.path_on_host: f.content for f in gpu_metrics_files(stack, "gpu-2")}
    service = files["/etc/systemd/system/llminfra-gpu-metrics.service"]
    command = gpu_metrics_command("/usr/local/lib/llminfra/nvidia_smi.awk",
                                  "/var/lib/prometheus/node-exporter")
    assert command == (
        f"nvidia-smi --query-gpu={METRIC_FIELDS} --format=csv,nounits 2>/dev/null | awk -f "
        "/usr/local/lib/llminfra/nvidia_smi.awk > /var/lib/prometheus/node-exporter/"
        "llminfra_gpu.prom.tmp && mv /var/lib/prometheus/node-exporter/llminfra_gpu.prom.tmp "
        "/var/lib/prometheus/node-exporter/llminfra_gpu.prom")
    assert f'ExecStart=/bin/sh -c "{command}"\n' in service
    assert "OnUnitActiveSec=15s" in files["/etc/systemd/system/llminfra-gpu-metrics.timer"]
    assert files["/usr/local/lib/llminfra/nvidia_smi.awk"] == AWK.read_text()


# -- the nvidia-smi parser, on real output ------------------------------------------------

def parse(csv: str) -> dict[str, list[tuple[dict, float]]]:
    out = subprocess.run([require("awk"), "-f", str(AWK)], input=csv, text=True,
                         capture_output=True, check=True).stdout
    names = [line.split()[2] for line in out.splitlines() if line.startswith("# TYPE")]
    assert len(names) == len(set(names)), "a metric's samples must be grouped"
    return {f.name: [(s.labels, s.value) for s in f.samples]
            for f in text_string_to_metric_families(out)}


def test_header_csv_with_units():
    got = parse((FIXTURES / "h200-x1/nvidia-smi-query-header.csv").read_text())
    labels = {"gpu": "0", "uuid": "GPU-76525661-e7a4-5d2e-531f-88a968fc2b64", "name": "NVIDIA H200"}
    assert got["llminfra_gpu_memory_total_bytes"] == [(labels, 143771 * 1024 * 1024)]
    assert got["llminfra_gpu_memory_used_bytes"] == [(labels, 0)]
    assert got["llminfra_gpu_info"] == [({**labels, "driver_version": "580.159.04"}, 1)]
    assert got["llminfra_gpu_nvidia_smi_up"] == [({}, 1)]


def test_two_gpus_any_column_order():
    header = "index, uuid, name, memory.total [MiB], memory.used [MiB], driver_version, compute_cap"
    got = parse(header + "\n" + (FIXTURES / "h200-x2/nvidia-smi-query.csv").read_text())
    assert [labels["gpu"] for labels, _ in got["llminfra_gpu_memory_total_bytes"]] == ["0", "1"]


def query_line_from_xml(xml: Path) -> str:
    """The CSV line nvidia-smi prints for METRIC_FIELDS, from the same host's `-q -x`."""
    gpu = ET.parse(xml).getroot().find("gpu")
    assert gpu is not None
    get = {
        "index": lambda: "0", "uuid": lambda: gpu.findtext("uuid"),
        "name": lambda: gpu.findtext("product_name"),
        "driver_version": lambda: ET.parse(xml).getroot().findtext("driver_version"),
        "utilization.gpu": lambda: gpu.findtext("utilization/gpu_util"),
        "utilization.memory": lambda: gpu.findtext("utilization/memory_util"),
        "memory.used": lambda: gpu.findtext("fb_memory_usage/used"),
        "memory.total": lambda: gpu.findtext("fb_memory_usage/total"),
        "temperature.gpu": lambda: gpu.findtext("temperature/gpu_temp"),
        "power.draw": lambda: (gpu.findtext("gpu_power_readings/instant_power_draw")
                               or gpu.findtext("gpu_power_readings/power_draw")),
        "power.limit": lambda: gpu.findtext("gpu_power_readings/current_power_limit"),
    }
    return ", ".join(str(get[f]()) for f in METRIC_FIELDS.split(","))


def test_every_metric_field_from_the_hosts_own_values():
    fields = METRIC_FIELDS.split(",")
    line = query_line_from_xml(FIXTURES / "h200-x1/nvidia-smi-q.xml")
    got = parse(", ".join(fields) + "\n" + line + "\n")
    for name in ("utilization_ratio", "memory_utilization_ratio", "memory_used_bytes",
                 "memory_total_bytes", "temperature_celsius", "power_draw_watts",
                 "power_limit_watts"):
        assert len(got[f"llminfra_gpu_{name}"]) == 1, (name, line)
    assert got["llminfra_gpu_temperature_celsius"][0][1] == 41


def test_values_nvidia_smi_cannot_give_are_left_out():
    got = parse("index, uuid, name, memory.used [MiB], power.draw [W]\n"
                "0, GPU-x, NVIDIA A100 \"80GB\", [N/A], [Not Supported]\n")
    assert "llminfra_gpu_memory_used_bytes" not in got
    assert got["llminfra_gpu_info"][0][0]["name"] == 'NVIDIA A100 "80GB"'


def test_no_gpu_or_no_nvidia_smi():
    assert parse("") == {"llminfra_gpu_nvidia_smi_up": [({}, 0)]}
