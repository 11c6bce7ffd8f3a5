"""Exact-string tests for llminfra.commands, plus real runs of the shell pieces that matter."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from llminfra import commands as c


def test_compose_up_records_config_hash_after_success():
    assert c.raw(c.compose_up("/opt/llminfra/vllm")) == (
        "cd /opt/llminfra/vllm && docker compose up -d --remove-orphans"
        " && docker compose config 2>/dev/null | sha256sum | cut -c1-64 > .llminfra-config.sha256"
    )


def test_compose_quotes_dir_and_project_name():
    assert c.raw(c.compose_down("/srv/my stack", "docker-compose", "a b")) == (
        "cd '/srv/my stack' && docker-compose -p 'a b' down --remove-orphans"
        " && rm -f .llminfra-config.sha256"
    )


def test_compose_state_script():
    assert c.raw(c.compose_state("/opt/x")) == (
        "cd /opt/x 2>/dev/null || exit 0; test -f compose.yaml || exit 0;"
        " printf 'file %s\\n' \"$(sha256sum compose.yaml | cut -c1-64)\";"
        " printf 'stamp %s\\n' \"$(cat .llminfra-config.sha256 2>/dev/null)\";"
        " printf 'config %s\\n' \"$( docker compose config 2>/dev/null"
        ' | sha256sum | cut -c1-64 )";'
        " docker compose config --services 2>/dev/null | sed 's/^/service /';"
        " docker compose ps --all --format json 2>/dev/null | sed 's/^/ps /'"
    )


def test_compose_logs_tail_and_redaction():
    cmd = c.raw(c.compose_logs("/opt/x", "vllm", 30))
    assert cmd.startswith(
        "cd /opt/x && docker compose logs --no-color --tail 30 vllm 2>&1 | sed -E "
    )


def test_ollama_commands():
    assert c.raw(c.ollama_list("/opt/o", "ollama")) == (
        "cd /opt/o 2>/dev/null && docker compose exec -T ollama ollama list 2>/dev/null || true"
    )
    assert c.raw(c.ollama_pull("/opt/o", "ollama", "qwen2.5:7b; rm -rf /")) == (
        "cd /opt/o && docker compose exec -T ollama ollama pull 'qwen2.5:7b; rm -rf /'"
    )


def test_model_probe_without_key():
    assert c.raw(c.model_probe("http://127.0.0.1:8000/", "m")) == (
        "printf 'models '; curl -sS -m 10 http://127.0.0.1:8000/v1/models 2>/dev/null"
        " | tr -d '\\n'; echo ; printf 'request ';"
        " curl -sS -o /dev/null -w '%{http_code}' -m 60 -H 'Content-Type: application/json'"
        ' -d \'{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"ping"}]}\''
        " http://127.0.0.1:8000/v1/chat/completions 2>/dev/null ; echo"
    )


def test_model_probe_list_sends_no_request():
    assert c.raw(c.model_probe("http://h:1", "m", probe="list")) == (
        "printf 'models '; curl -sS -m 10 http://h:1/v1/models 2>/dev/null | tr -d '\\n'; echo"
    )


def test_model_probe_embeddings():
    assert c.raw(c.model_probe("http://h:1", "e", probe="embeddings")).endswith(
        ' -d \'{"model":"e","input":"ping"}\' http://h:1/v1/embeddings 2>/dev/null ; echo'
    )


def test_unknown_probe():
    with pytest.raises(ValueError, match="probe should be one of chat, embeddings, list"):
        c.probe_request("completions", "m")


def test_model_probe_key_goes_through_stdin_not_argv():
    cmd = c.raw(c.model_probe("http://h:1", "m", "/k"))
    assert cmd.count("head -n1 /k | sed 's/^/Authorization: Bearer /' | curl ") == 2
    assert cmd.count("-H @-") == 2


def test_model_wait_without_logs():
    assert c.raw(
        c.model_wait("http://127.0.0.1:11434", "llama3.2", "ollama", 60, None, None, 2)
    ) == (
        "end=$(( $(date +%s) + 60 )); while :;"
        " do curl -fsS -m 10 http://127.0.0.1:11434/v1/models 2>/dev/null"
        " | grep -qF '\"llama3.2\"'"
        " && curl -fsS -o /dev/null -m 60 -H 'Content-Type: application/json'"
        ' -d \'{"model":"llama3.2","max_tokens":1,"messages":[{"role":"user","content":"ping"}]}\''
        " http://127.0.0.1:11434/v1/chat/completions 2>/dev/null && exit 0;"
        ' if [ "$(date +%s)" -ge "$end" ]; then'
        " printf 'llminfra: %s: %s\\n' \"$(hostname)\""
        " 'service ollama did not serve model llama3.2 at http://127.0.0.1:11434 within 60s' >&2;"
        " exit 1; fi; sleep 2 ; done"
    )


def test_apt_sources():
    assert c.docker_apt_source("amd64", "bookworm") == (
        "deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc]"
        " https://download.docker.com/linux/debian bookworm stable"
    )
    assert (
        c.docker_apt_source(
            "arm64", "noble", url="https://mirror.example/docker/ubuntu/", keyring="/k.asc"
        )
        == "deb [arch=arm64 signed-by=/k.asc] https://mirror.example/docker/ubuntu noble stable"
    )
    assert c.nvidia_toolkit_apt_source("amd64") == (
        "deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg]"
        " https://nvidia.github.io/libnvidia-container/stable/deb/amd64 /"
    )
    assert c.nvidia_toolkit_apt_source("arm64", url="http://m/nv/", keyring="/n.gpg") == (
        "deb [signed-by=/n.gpg] http://m/nv/arm64 /"
    )


def test_nvidia_ctk():
    assert c.raw(c.nvidia_ctk_configure()) == "nvidia-ctk runtime configure --runtime=docker"
    assert c.raw(c.nvidia_ctk_configure("containerd", "/etc/my daemon.json")) == (
        "nvidia-ctk runtime configure --runtime=containerd --config='/etc/my daemon.json'"
    )


def test_ssh_keygen():
    assert c.raw(c.ssh_keygen("/etc/llminfra/tunnel/id_ed25519", "tunnel@gw")) == (
        "mkdir -p -m 700 /etc/llminfra/tunnel"
        " && ssh-keygen -q -t ed25519 -N '' -C tunnel@gw -f /etc/llminfra/tunnel/id_ed25519"
    )
    assert c.raw(c.ssh_public_key_from_private("/k")) == "ssh-keygen -y -f /k > /k.pub"


def test_tunnel_key_options():
    assert c.tunnel_key_options(["127.0.0.1:8000", "127.0.0.1:11434"]) == (
        'restrict,port-forwarding,permitopen="127.0.0.1:8000",permitopen="127.0.0.1:11434",'
        'command="/bin/false"'
    )


def test_autossh_command():
    assert c.autossh_command(
        user="llminfra-tunnel",
        host="gpu-1.example.net",
        key_path="/etc/llminfra/tunnel/id_ed25519",
        known_hosts="/etc/llminfra/tunnel/known_hosts",
        local_port=18001,
        remote_port=8000,
        port=2222,
    ) == (
        "autossh -M 0 -N -o ExitOnForwardFailure=yes -o ServerAliveInterval=15"
        " -o ServerAliveCountMax=3 -o StrictHostKeyChecking=yes"
        " -o UserKnownHostsFile=/etc/llminfra/tunnel/known_hosts -o IdentitiesOnly=yes"
        " -i /etc/llminfra/tunnel/id_ed25519 -L 127.0.0.1:18001:127.0.0.1:8000"
        " -p 2222 llminfra-tunnel@gpu-1.example.net"
    )


def test_autossh_quotes_odd_paths():
    argv = c.autossh_argv(
        user="t", host="h", key_path="/k dir/id", known_hosts="/kh", local_port=1, remote_port=2,
        bind="0.0.0.0", alive_interval=30, alive_count=5,
    )  # fmt: skip
    assert c.autossh_command(
        user="t", host="h", key_path="/k dir/id", known_hosts="/kh", local_port=1, remote_port=2,
        bind="0.0.0.0", alive_interval=30, alive_count=5,
    ).split(" -i ")[1].startswith("'/k dir/id' -L 0.0.0.0:1:127.0.0.1:2")  # fmt: skip
    assert "ServerAliveInterval=30" in argv and "ServerAliveCountMax=5" in argv


LOG_LINES = """\
INFO 11-22 non-default args: {'model': '/models/q', 'api_key': ['sk-abc123'], 'port': 8000}
vllm serve --api-key sk-abc123 --port 8000
VLLM_API_KEY=sk-abc123
Authorization: Bearer sk-abc123
{"token": "sk-abc123", "ok": 1}
password = sk-abc123
INFO: Started server process [1]
"""


def test_redaction_sed_hides_keys_in_real_sed():
    sed = shutil.which("sed")
    assert sed is not None
    out = subprocess.run(
        [sed, "-E", c.REDACT_SED], input=LOG_LINES, capture_output=True, text=True, check=True
    ).stdout
    assert "sk-abc123" not in out
    assert out.count("***") == 6
    assert "INFO: Started server process [1]" in out
    assert "'port': 8000" in out


@pytest.mark.parametrize("model", ["m", 'we"ird\\name'])
def test_probe_bodies_are_json(model):
    import json

    path, body = c.probe_request("chat", model)
    assert path == "/v1/chat/completions"
    assert json.loads(body)["model"] == model and json.loads(body)["max_tokens"] == 1
    path, body = c.probe_request("embeddings", model)
    assert path == "/v1/embeddings" and json.loads(body) == {"model": model, "input": "ping"}
