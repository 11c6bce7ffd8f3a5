"""Docker's daemon.json."""

import json

from render_helpers import make_stack

from llminfra.render import render_all, render_daemon_json


def test_gpu_host_gets_the_nvidia_runtime_and_log_rotation(data):
    data["mirrors"]["registry_mirrors"] = ["https://hub.m.example.cn"]
    stack = make_stack(data)
    f = render_daemon_json(stack, "gpu-1")
    assert (f.path_on_host, f.mode) == ("/etc/docker/daemon.json", "0644")
    assert f.content == """{
  "log-driver": "json-file",
  "log-opts": {
    "max-file": "5",
    "max-size": "50m"
  },
  "registry-mirrors": [
    "https://hub.m.example.cn"
  ],
  "runtimes": {
    "nvidia": {
      "args": [],
      "path": "nvidia-container-runtime"
    }
  }
}
"""


def test_gateway_and_toolkit_off_get_no_runtime(data):
    data["gpu_hosts"]["gpu-1"]["nvidia_toolkit"] = False
    stack = make_stack(data)
    assert "runtimes" not in json.loads(render_daemon_json(stack, "gpu-1").content)
    assert json.loads(render_daemon_json(stack, "gw-1").content) == {
        "log-driver": "json-file", "log-opts": {"max-file": "5", "max-size": "50m"}}


def test_render_all_covers_every_host(prod):
    files = {h: sorted(f.path_on_host for f in fs) for h, fs in render_all(prod).items()}
    assert files == {
        "gpu-1": ["/etc/docker/daemon.json", "/opt/llminfra/llm-embed/compose.yaml",
                  "/opt/llminfra/llm-embed/secrets.env", "/opt/llminfra/llm-qwen/compose.yaml",
                  "/opt/llminfra/llm-qwen/secrets.env"],
        "gpu-2": ["/etc/docker/daemon.json", "/opt/llminfra/llm-ollama/compose.yaml",
                  "/opt/llminfra/llm-ollama/secrets.env"],
        "gw-1": ["/etc/docker/daemon.json", "/etc/llminfra/tunnel/known_hosts.gpu-2",
                 "/etc/nginx/conf.d/llminfra-gateway.conf",
                 "/etc/systemd/system/llminfra-tunnel-gpu-2-ollama.service",
                 "/opt/llminfra/oneapi/compose.yaml", "/opt/llminfra/oneapi/secrets.env"],
        "relay-1": ["/etc/nginx/conf.d/llminfra-relay.conf"],
    }
    # rendering twice gives the same bytes (deploys stay idempotent)
    again = render_all(prod)
    assert [f.content for fs in render_all(prod).values() for f in fs] == \
        [f.content for fs in again.values() for f in fs]
