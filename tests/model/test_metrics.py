"""The optional `metrics` section: defaults, what it derives (exporter forwards on the tunnels,
permitopen), and the inventories it refuses."""

import pytest

from llminfra.model import StackError, parse_stack
from llminfra.model.metrics import exporter_bind, exports_gpus, exports_node


def with_metrics(base, **settings):
    base["gateways"]["gw-1"]["metrics"] = settings
    return base


def errors(base, secrets):
    with pytest.raises(StackError) as exc:
        parse_stack(base, environ=secrets)
    return exc.value.lines


def test_no_section_no_metrics(base, secrets):
    stack = parse_stack(base, environ=secrets)
    assert not exports_node(stack, "gpu-1")
    assert all(t.forwards == () for t in stack.tunnels())


def test_defaults(base, secrets):
    stack = parse_stack(with_metrics(base), environ=secrets)
    m = stack.gateways["gw-1"].metrics
    assert (m.enabled, m.scrape_interval, m.retention, m.port, m.node_exporter_port) == (
        True, "15s", "15d", 9090, 9100)
    assert exports_node(stack, "gpu-1") and exports_node(stack, "gpu-2")
    # both hosts pin GPUs: the GPU collector defaults on
    assert exports_gpus(stack, "gpu-1") and exports_gpus(stack, "gpu-2")


def test_exporter_rides_on_the_hosts_first_tunnel(base, secrets):
    base["gpu_hosts"]["gpu-2"]["services"].append(
        {"kind": "openai", "name": "tgi", "image": "tgi:1", "port": 8081, "gpus": "cpu",
         "models": ["m"]})
    stack = parse_stack(with_metrics(base), environ=secrets)
    first, second = stack.tunnels("gw-1")
    [fwd] = first.forwards
    assert second.forwards == ()
    # loopback on the gateway (only Prometheus, not the engine's containers), hashed port
    assert (fwd.what, fwd.bind, fwd.local_port, fwd.remote_port) == (
        "node-exporter", "127.0.0.1", 20729, 9100)
    assert first.unit == "llminfra-tunnel-gpu-2-ollama"  # the unit keeps its name


def test_exporter_binds_loopback_behind_a_tunnel_else_the_private_address(base, secrets):
    base["gpu_hosts"]["gpu-1"]["address"] = "10.9.0.1"
    stack = parse_stack(with_metrics(base), environ=secrets)
    assert exporter_bind(stack.gpu_hosts["gpu-2"]) == "127.0.0.1"
    assert exporter_bind(stack.gpu_hosts["gpu-1"]) == "10.9.0.1"


def test_disabled_or_without_node_exporter_no_forward(base, secrets):
    for settings in ({"enabled": False}, {"node_exporter": False}):
        stack = parse_stack(with_metrics(base, **settings), environ=secrets)
        assert all(t.forwards == () for t in stack.tunnels()), settings


def test_gpu_exporter_follows_declared_gpus(base, secrets):
    base["gpu_hosts"]["gpu-2"]["services"][0]["gpus"] = "cpu"
    stack = parse_stack(with_metrics(base), environ=secrets)
    assert not exports_gpus(stack, "gpu-2") and exports_gpus(stack, "gpu-1")
    stack = parse_stack(with_metrics(base, gpu_exporter=True), environ=secrets)
    assert exports_gpus(stack, "gpu-2")


def test_explicit_forward_port(base, secrets):
    stack = parse_stack(with_metrics(base, tunnel_ports={"gpu-2": 29100}), environ=secrets)
    assert stack.tunnels()[0].forwards[0].local_port == 29100


@pytest.mark.parametrize("settings, expected", [
    ({"scrape_interval": "0s"}, "gw-1: metrics/scrape_interval: '0s' is not a positive duration"),
    ({"retention": "forever"}, "gw-1: metrics/retention: 'forever' is not a Prometheus duration"),
    ({"exporters": True}, "gw-1: metrics/exporters: unknown key"),
    ({"gpu_exporter": True, "node_exporter": False},
     "gw-1: metrics/gpu_exporter: needs node_exporter"),
    ({"port": 3000}, "gw-1: metrics/port: 3000 is already used by oneapi/admin_port"),
    ({"tunnel_ports": {"gpu-1": 29100}},
     "gw-1: metrics/tunnel_ports/gpu-1: 'gpu-1' is not a tunnel-only GPU host reached through gw-1"),
    ({"tunnel_ports": {"gpu-2": 20732}},
     "gw-1: metrics/tunnel_ports/gpu-2: gateway port 20732 of gpu-2's node-exporter forward is "
     "already used by gpu-2/ollama"),
])
def test_refused_settings(base, secrets, settings, expected):
    lines = errors(with_metrics(base, **settings), secrets)
    assert any(line.startswith(expected) for line in lines), lines


@pytest.mark.parametrize("address, why", [
    ("93.184.216.34", "no authentication"),  # a public address
    ("gpu-1.example.com", "private IP literal"),  # a name may resolve anywhere
])
def test_direct_host_exporter_needs_a_private_address(base, secrets, address, why):
    base["gpu_hosts"]["gpu-1"]["address"] = address
    lines = errors(with_metrics(base), secrets)
    assert any(line.startswith("gpu-1: address: ") and why in line for line in lines), lines


def test_direct_host_exporter_without_node_exporter_is_not_checked(base, secrets):
    base["gpu_hosts"]["gpu-1"]["address"] = "203.0.113.9"
    base["gpu_hosts"]["gpu-1"]["services"][0]["bind"] = "203.0.113.9"
    parse_stack(with_metrics(base, node_exporter=False), environ=secrets)


def test_exporter_port_taken_by_a_service(base, secrets):
    base["gpu_hosts"]["gpu-1"]["services"][0]["port"] = 9100
    lines = errors(with_metrics(base), secrets)
    assert "gpu-1: services/0/port: 9100 is also the node exporter's port (metrics)" in lines
