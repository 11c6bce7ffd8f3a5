"""`lab up`: hosts that boot systemd, pin their SSH host keys, hold the stand-in images;
an upstream that records Host and SNI; the relay trusts the lab CA; lab.yml validates."""

from __future__ import annotations

import json
import socket
import ssl
import stat
import subprocess
import time
from pathlib import Path

import pytest
from lab_helpers import REPO, http_json

from llminfra_lab import up
from llminfra.model import load_stack

pytestmark = pytest.mark.lab


def ssh(lab, host: str, command: str, known_hosts: str | None = None):
    return subprocess.run(
        ["ssh", "-i", lab.ssh_key, "-o", "StrictHostKeyChecking=yes",
         "-o", f"UserKnownHostsFile={known_hosts or lab.known_hosts}", "-o", "BatchMode=yes",
         "-o", "ConnectTimeout=10", f"{lab.ssh_user}@{lab.hosts[host].address}", command],
        capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("host", ["gw-1", "gpu-1", "gpu-2", "relay-1"])
def test_host_boots_systemd_and_accepts_ssh_with_the_pinned_key(lab, host):
    out = ssh(lab, host, "hostname; systemctl is-system-running; docker compose version --short")
    assert out.returncode == 0, out.stderr
    name, status, compose = out.stdout.split()
    assert name == host and status in ("running", "degraded")
    assert compose.startswith("2.")


def test_a_different_host_key_is_refused(lab, tmp_path):
    wrong = tmp_path / "known_hosts"
    other = lab.hosts["gpu-2"].host_key
    wrong.write_text(f"{lab.hosts['gpu-1'].address} {other}\n")
    out = ssh(lab, "gpu-1", "true", known_hosts=str(wrong))
    assert out.returncode == 255
    assert "Host key verification failed" in out.stderr


def test_state_files_are_private(lab):
    sdir = Path(lab.state_dir)
    for private in ("ssh/id_ed25519", "ca/ca.key", "upstream/tls.key",
                    "hostkeys/gpu-1/ssh_host_ed25519_key"):
        assert stat.S_IMODE((sdir / private).stat().st_mode) == 0o600, private
    assert stat.S_IMODE((REPO / "inventory" / "lab.secrets.env").stat().st_mode) == 0o600
    assert json.loads((sdir / "lab.json").read_text())["hosts"]["gpu-2"]["tunnel_only"] is True


@pytest.mark.parametrize("host, tags", [
    ("gpu-1", ["ollama/ollama:lab"]),
    ("gpu-2", ["vllm/vllm-openai:lab", "ollama/ollama:lab"]),
    ("gw-1", ["justsong/one-api:lab", "calciumion/new-api:lab"]),
])
def test_stand_in_images_are_loaded_into_the_inner_engine(lab, dc, host, tags):
    out = ssh(lab, host, "docker image inspect -f '{{.Id}}' " + " ".join(tags))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [dc.images.get(t).id for t in tags]


def test_relay_trusts_the_lab_ca_and_reaches_the_upstream_by_name(lab):
    out = ssh(lab, "relay-1", "curl -sS --fail https://api.openai.com/v1/models "
                              "-H 'Authorization: Bearer sk-test'")
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert (seen["sni"], seen["host"], seen["path"]) == ("api.openai.com", "api.openai.com",
                                                         "/v1/models")
    assert seen["headers"]["authorization"] == "Bearer sk-test"


def _tls_request(lab, sni: str, host_header: str, method: str, path: str, body: bytes = b""):
    ctx = ssl.create_default_context(cafile=lab.ca_cert)
    with (socket.create_connection((lab.upstream_address, 443), timeout=10) as raw,
          ctx.wrap_socket(raw, server_hostname=sni) as tls):
        tls.sendall(f"{method} {path} HTTP/1.1\r\nHost: {host_header}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                    f"X-Probe: 1\r\nConnection: close\r\n\r\n".encode() + body)
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    return head.decode(), json.loads(payload)


def test_upstream_reports_sni_and_host_separately(lab):
    head, seen = _tls_request(lab, "generativelanguage.googleapis.com", "other.example",
                              "GET", "/v1beta/models?key=x")
    assert head.startswith("HTTP/1.1 200")
    assert seen["sni"] == "generativelanguage.googleapis.com"
    assert seen["host"] == "other.example"
    assert seen["path"] == "/v1beta/models?key=x" and seen["headers"]["x-probe"] == "1"


def test_upstream_answers_chat_completions_openai_style(lab):
    body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
    _, out = _tls_request(lab, "api.openai.com", "api.openai.com", "POST",
                          "/v1/chat/completions", body.encode())
    assert out["object"] == "chat.completion" and out["model"] == "gpt-4o-mini"
    assert out["choices"][0]["message"]["content"]
    assert json.loads(out["lab_received"]["body"])["messages"][0]["content"] == "hi"


def test_lab_inventory_matches_the_lab(lab):
    stack = load_stack(REPO / "inventory" / "lab.yml")
    for name, host in lab.hosts.items():
        ssh_settings = stack.host(name).ssh
        assert (ssh_settings.host, ssh_settings.host_key) == (host.address, host.host_key)
        assert Path(ssh_settings.key) == Path(lab.ssh_key)
    assert stack.gpu_hosts["gpu-2"].reach == "tunnel"


def test_up_again_reuses_everything(lab):
    started = time.monotonic()
    again = up(REPO)
    assert time.monotonic() - started < 60
    assert {n: h.host_key for n, h in again.hosts.items()} == {
        n: h.host_key for n, h in lab.hosts.items()}
    out = ssh(again, "gpu-1", "true")
    assert out.returncode == 0, out.stderr


# real vLLM under Compose inside a host is the e2e tier's (tests/e2e); this is the stand-in's
COMPOSE = """services:
  ollama:
    image: ollama/ollama:lab
    ports: ["21434:11434"]
    volumes: ["ollama:/root/.ollama"]
volumes:
  ollama: {}
"""


def test_stand_ins_run_under_compose_inside_a_host(lab):
    """The kit's path: compose up on a GPU host, pre-pull through `compose exec`, and the
    published ports answer on the host's lab address."""
    script = ("set -e; mkdir -p /tmp/labtest && cd /tmp/labtest && cat > compose.yml && "
              "docker compose -p labtest up -d --quiet-pull 2>&1 && "
              "for i in $(seq 60); do docker compose -p labtest exec -T ollama ollama list "
              ">/dev/null 2>&1 && break; sleep 1; done; "
              "docker compose -p labtest exec -T ollama ollama pull smollm2:135m")
    addr = lab.hosts["gpu-1"].address
    try:
        out = subprocess.run(
            ["ssh", "-i", lab.ssh_key, "-o", "StrictHostKeyChecking=yes", "-o",
             f"UserKnownHostsFile={lab.known_hosts}", "-o", "BatchMode=yes",
             f"root@{addr}", script], input=COMPOSE, capture_output=True, text=True, timeout=300,
            check=False)
        assert out.returncode == 0, out.stdout + out.stderr
        assert out.stdout.strip().endswith("success")
        _, tags = http_json(f"http://{addr}:21434/api/tags")
        assert [m["name"] for m in tags["models"]] == ["smollm2:135m"]
    finally:
        ssh(lab, "gpu-1", "cd /tmp/labtest && docker compose -p labtest down -v; rm -rf /tmp/labtest")
