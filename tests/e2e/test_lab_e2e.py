"""End to end in the lab: deploy everything, verify every hop, re-run with zero changes.

Order matters (pytest runs a module top to bottom): the cold deploy first, the no-change
re-run last.
"""

from __future__ import annotations

import json
import shlex
import ssl
import time

import httpx
import pytest

from llminfra.model import load_stack
from llminfra.render import project_dir
from llminfra.model.secrets import parse_dotenv
from llminfra.paths import STATE_DIR, OperatorPaths

import yaml

from .conftest import REPO, TIMES, changed_by_host, changed_ops, run_pyinfra

LAB_YML = REPO / "inventory" / "lab.yml"
UPSTREAM_REPLY = "Hello from the lab upstream."
TOKENS = OperatorPaths.beside(LAB_YML).oneapi_tokens("gw-1")


@pytest.fixture(scope="module")
def stack(deployed):
    return load_stack(LAB_YML)


def secret_values() -> list[str]:
    values = parse_dotenv((REPO / "inventory" / "lab.secrets.env").read_text())
    values.update(parse_dotenv(TOKENS.read_text()) if TOKENS.exists() else {})
    return [v for v in values.values() if len(v) >= 8]


def test_cold_deploy_succeeds_and_leaks_no_secret(deployed):
    result, output = deployed
    assert result["results"]["totals"]["error"] == 0
    for value in secret_values():
        assert value not in output


# -- hosts, verified with testinfra (ssh, pinned host keys) ------------------------------------

def listening(h, port: int) -> set[str]:
    out = h.check_output(f"ss -Hltn 'sport = :{port}'")
    return {line.split()[3].rsplit(":", 1)[0] for line in out.splitlines() if line.strip()}


def test_gateway_oneapi_admin_port_on_loopback_only(hosts, stack):
    gw = hosts["gw-1"]
    assert gw.service("docker").is_running
    assert listening(gw, 3000) == {"127.0.0.1"}
    ps = gw.check_output("docker ps --format '{{.Image}} {{.Status}}'")
    assert f"{stack.gateways['gw-1'].oneapi_settings.image_ref} Up" in ps


def test_root_password_rotated_and_verified(hosts, stack):
    """The deploy recorded root's password only after a definite check; re-check it here on
    the admin port (loopback on the gateway): the configured one logs in, 123456 does not."""
    gw, oa = hosts["gw-1"], stack.gateways["gw-1"].oneapi_settings

    def login(password: str) -> bool:
        body = shlex.quote(json.dumps({"username": "root", "password": password}))
        out = gw.check_output(f"curl -s -H 'Content-Type: application/json' -d {body} "
                              f"http://127.0.0.1:{oa.admin_port}/api/user/login")
        return json.loads(out)["success"] is True

    assert not login("123456")
    assert login(stack.secret(oa.root_password))


def test_gateway_secret_files_are_private(hosts, stack):
    gw = hosts["gw-1"]
    secrets = gw.file(f"{stack.gateways['gw-1'].oneapi.data_dir}/secrets.env")
    assert (secrets.mode, secrets.user) == (0o600, "root")
    compose = gw.file(f"{stack.gateways['gw-1'].oneapi.data_dir}/compose.yaml")
    for value in secret_values():
        assert value not in compose.content_string


def test_gateway_nginx_serves_tls(hosts):
    gw = hosts["gw-1"]
    assert gw.service("nginx").is_running
    assert listening(gw, 443) - {"0.0.0.0", "*", "[::]"} == set()
    assert listening(gw, 443)


def test_tunnel_listens_only_on_oneapi_network(hosts, stack):
    gw = hosts["gw-1"]
    tunnels = stack.tunnels("gw-1")
    assert {t.service for t in tunnels} == {"ollama", "smol", "embed"}
    for tunnel in tunnels:
        assert gw.service(tunnel.unit).is_running
        assert gw.service(tunnel.unit).is_enabled
        assert listening(gw, tunnel.local_port) == {tunnel.bind}


def test_tunnel_key_is_restricted_on_gpu_host(hosts, stack):
    gpu2 = hosts["gpu-2"]
    user = stack.gateways["gw-1"].tunnel_user
    home = gpu2.user(user).home
    keys = gpu2.file(f"{home}/.ssh/authorized_keys")
    assert keys.mode == 0o600
    line = keys.content_string.strip()
    assert line.startswith("restrict,")
    assert 'permitopen="127.0.0.1:11434"' in line
    assert gpu2.file(f"{home}/.ssh").mode == 0o700


def test_tunnel_only_host_binds_model_port_on_loopback(hosts):
    for port in (11434, 8000, 8001):  # Ollama, vLLM chat, vLLM embeddings
        assert listening(hosts["gpu-2"], port) == {"127.0.0.1"}


def test_direct_gpu_host_serves_model_port(hosts):
    gpu1 = hosts["gpu-1"]
    assert listening(gpu1, 11434)
    assert "ollama/ollama:lab Up" in gpu1.check_output(
        "docker ps --format '{{.Image}} {{.Status}}'")


def test_gpu2_runs_real_vllm(hosts):
    """vLLM's own server (CPU build), not a stand-in: its version and Prometheus metrics."""
    gpu2 = hosts["gpu-2"]
    for port in (8000, 8001):
        version = json.loads(gpu2.check_output(f"curl -fsS http://127.0.0.1:{port}/version"))
        assert version["version"].startswith("0.32")
        assert "vllm:num_requests_running" in gpu2.check_output(
            f"curl -fsS http://127.0.0.1:{port}/metrics")
    for name in ("smol", "embed"):
        box = f"llm-{name}-{name}-1"
        started = gpu2.check_output(f"docker inspect -f '{{{{.State.StartedAt}}}}' {box}")
        up = gpu2.check_output(f"docker logs -t {box} 2>&1 | grep -m1 'Application startup "
                               "complete' | cut -d' ' -f1")
        TIMES[f"real vLLM {name}: container start to serving"] = seconds_between(started, up)


def seconds_between(start: str, end: str) -> float:
    """Docker's RFC 3339 timestamps (nanoseconds, Z) -> seconds from start to end."""
    from datetime import datetime

    def parse(stamp: str) -> datetime:
        day, _, frac = stamp.strip().rstrip("Z").partition(".")
        return datetime.fromisoformat(f"{day}.{(frac + '000000')[:6]}+00:00")

    return (parse(end) - parse(start)).total_seconds()


def test_relay_config_is_private_and_nginx_runs(hosts):
    relay = hosts["relay-1"]
    assert relay.service("nginx").is_running
    conf = relay.file("/etc/nginx/conf.d/llminfra-relay.conf")
    assert (conf.mode, conf.user) == (0o600, "root")


# -- requests through every hop ---------------------------------------------------------------

@pytest.fixture(scope="module")
def gateway_client(hosts, stack, tmp_path_factory):
    """The official openai client, verifying the gateway's certificate."""
    from openai import OpenAI

    from llminfra.render import cert_paths

    gw = stack.gateways["gw-1"]
    cert = cert_paths(gw.nginx.tls, gw.nginx.server_name, gw.nginx.server_name).cert
    ca = tmp_path_factory.mktemp("gw") / "gateway.crt"
    ca.write_text(hosts["gw-1"].file(cert).content_string)
    token = parse_dotenv(TOKENS.read_text())["LMI_TOKEN_APPS"]
    http = httpx.Client(verify=ssl.create_default_context(cafile=str(ca)), timeout=120,
                        trust_env=False)
    return OpenAI(base_url=f"https://{gw.ssh.host}/v1", api_key=token, http_client=http)


def stream_text(client, model: str) -> tuple[str, int, float]:
    start = time.monotonic()
    chunks, text = 0, ""
    stream = client.chat.completions.create(
        model=model, stream=True, max_tokens=16,
        messages=[{"role": "user", "content": "Say hello in three words."}])
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            chunks += 1
            text += chunk.choices[0].delta.content
    return text, chunks, time.monotonic() - start


def test_stream_through_gateway_tunnel_to_gpu2(gateway_client):
    text, chunks, took = stream_text(gateway_client, "smollm2:135m")
    print(f"\n[e2e] streamed via tunnel (Ollama stand-in): {chunks} chunks in {took:.2f} s: "
          f"{text!r}")
    assert chunks >= 2 and text.strip()


def test_request_follows_the_tunnel(gateway_client, hosts, stack):
    """Stop the tunnel: the gpu-2 model fails; start it: it answers again."""
    gw = hosts["gw-1"]
    tunnel = next(t for t in stack.tunnels("gw-1") if t.service == "ollama")
    gw.check_output(f"systemctl stop {tunnel.unit}")
    try:
        with pytest.raises(Exception):  # noqa: B017 - any client error: the hop is down
            stream_text(gateway_client, "smollm2:135m")
    finally:
        gw.check_output(f"systemctl start {tunnel.unit}")
    deadline = time.monotonic() + 60
    while listening(gw, tunnel.local_port) != {tunnel.bind}:
        assert time.monotonic() < deadline, f"{tunnel.unit} not listening 60 s after its start"
        time.sleep(1)
    text, chunks, _ = stream_text(gateway_client, "smollm2:135m")
    assert chunks >= 1


def test_stream_through_gateway_to_direct_gpu1(gateway_client):
    text, chunks, took = stream_text(gateway_client, "qwen2.5:0.5b")
    print(f"\n[e2e] streamed direct: {chunks} chunks in {took:.2f} s: {text!r}")
    assert chunks >= 2 and text.strip()


def timed_stream(client, model: str, max_tokens: int = 32) -> tuple[float, int, float, str]:
    """(seconds to the first content chunk, chunks, seconds in total, text)."""
    start = time.monotonic()
    first, chunks, text = 0.0, 0, ""
    stream = client.chat.completions.create(
        model=model, stream=True, max_tokens=max_tokens, temperature=0,
        messages=[{"role": "user", "content": "Count from one to twenty in words."}])
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            first = first or time.monotonic() - start
            chunks += 1
            text += chunk.choices[0].delta.content
    return first, chunks, time.monotonic() - start, text


def rate(first: float, chunks: int, total: float) -> float:
    """Tokens per second after the first (one token per chunk from vLLM)."""
    return (chunks - 1) / (total - first) if chunks > 1 and total > first else 0.0


# Streams from gpu-2 itself (no hop): the same request as timed_stream, read by the host's python
DIRECT_STREAM = """
import json, sys, time, urllib.request
key = open(sys.argv[1]).readline().strip()
body = {"model": "smollm2-135m", "stream": True, "max_tokens": 32, "temperature": 0,
        "messages": [{"role": "user", "content": "Count from one to twenty in words."}]}
req = urllib.request.Request("http://127.0.0.1:8000/v1/chat/completions",
                             json.dumps(body).encode(), {"Content-Type": "application/json",
                                                         "Authorization": "Bearer " + key})
start, first, chunks = time.monotonic(), 0.0, 0
with urllib.request.urlopen(req, timeout=60) as resp:
    for line in resp:
        line = line.strip()
        if line.startswith(b"data: {"):
            if json.loads(line[6:])["choices"][0]["delta"].get("content"):
                first = first or time.monotonic() - start
                chunks += 1
print(json.dumps([first, chunks, time.monotonic() - start]))
"""


def test_real_vllm_streams_through_nginx_gateway_and_tunnel(gateway_client, hosts, stack):
    """Client -> gateway Nginx (TLS) -> OneAPI -> SSH tunnel -> real vLLM on gpu-2."""
    timed_stream(gateway_client, "smollm2-135m", 4)  # warm-up
    first, chunks, total, text = timed_stream(gateway_client, "smollm2-135m")
    assert chunks >= 8 and text.strip()
    key_file = f"{project_dir(stack, 'gpu-2', service(stack, 'smol'))}/api-key"
    d_first, d_chunks, d_total = json.loads(hosts["gpu-2"].check_output(
        f"python3 -c {shlex.quote(DIRECT_STREAM)} {shlex.quote(key_file)}"))
    TIMES["real vLLM first token, on gpu-2 (ms)"] = d_first * 1000
    TIMES["real vLLM speed, on gpu-2 (tokens/s)"] = rate(d_first, d_chunks, d_total)
    TIMES["real vLLM first token, through the chain (ms)"] = first * 1000
    TIMES["real vLLM speed, through the chain (tokens/s)"] = rate(first, chunks, total)
    print(f"\n[e2e] real vLLM on gpu-2: first token {d_first * 1000:.0f} ms, {d_chunks} tokens, "
          f"{rate(d_first, d_chunks, d_total):.1f} tokens/s; through Nginx, OneAPI and the "
          f"tunnel: first token {first * 1000:.0f} ms, {chunks} tokens, "
          f"{rate(first, chunks, total):.1f} tokens/s: {text!r}")
    assert chunks >= 8 and d_chunks >= 8


def service(stack, name: str):
    return next(s for s in stack.gpu_hosts["gpu-2"].services if s.name == name)


def test_embeddings_through_every_hop_match_the_server(gateway_client, hosts, stack):
    """/v1/embeddings through Nginx, OneAPI and the tunnel returns what vLLM itself computes."""
    reply = gateway_client.embeddings.create(model="all-minilm-l6-v2",
                                             input=["the lab is up", "a different sentence"])
    vectors = [d.embedding for d in reply.data]
    assert [len(v) for v in vectors] == [384, 384]
    assert all(abs(sum(x * x for x in v) - 1) < 1e-3 for v in vectors)  # normalized
    key_file = f"{project_dir(stack, 'gpu-2', service(stack, 'embed'))}/api-key"
    body = json.dumps({"model": "all-minilm-l6-v2", "input": ["the lab is up"]})
    direct = json.loads(hosts["gpu-2"].check_output(
        f"head -n1 {shlex.quote(key_file)} | sed 's/^/Authorization: Bearer /' | "
        f"curl -fsS -H @- -H 'Content-Type: application/json' -d {shlex.quote(body)} "
        "http://127.0.0.1:8001/v1/embeddings"))
    assert max(abs(a - b) for a, b in zip(direct["data"][0]["embedding"], vectors[0],
                                          strict=True)) < 1e-4


def test_model_list_is_what_the_inventory_declares(gateway_client, stack):
    served = {m.id for m in gateway_client.models.list()}
    declared = {m for spec in stack.channel_specs("gw-1") for m in spec.models}
    assert served == declared


TRUST = "/opt/llminfra/oneapi/trust/extra-ca.pem"  # the lab CA, as deployed for OneAPI


def curl_relay(h, relay_ip: str, path: str, *headers: str, verify: bool = False
               ) -> tuple[int, str]:
    tls = ["--cacert", TRUST] if verify else ["-k"]
    args = ["curl", "-s", *tls, "-o", "/tmp/relay.out", "-w", "%{http_code}", "--resolve",
            f"relay-1.lab:443:{relay_ip}", f"https://relay-1.lab{path}"]
    for header in headers:
        args += ["-H", header]
    code = h.check_output(" ".join(shlex.quote(a) for a in args))
    return int(code), h.check_output("cat /tmp/relay.out")


def test_relay_reaches_upstream_with_sni_host_and_no_client_ip(hosts, lab_state):
    relay_ip = lab_state.hosts["relay-1"].address
    code, body = curl_relay(hosts["gw-1"], relay_ip, "/openai/v1/models",
                            "X-Forwarded-For: 198.51.100.7", "X-Real-IP: 198.51.100.7",
                            "Forwarded: for=198.51.100.7", verify=True)
    assert code == 200, body
    seen = json.loads(body)
    assert (seen["host"], seen["sni"], seen["path"]) == ("api.openai.com", "api.openai.com",
                                                          "/v1/models")
    for header in ("x-forwarded-for", "x-real-ip", "forwarded"):
        assert header not in seen["headers"]
    code, body = curl_relay(hosts["gw-1"], relay_ip, "/claude/v1/messages")
    assert code == 200 and json.loads(body)["sni"] == "api.anthropic.com"


def test_relay_refuses_strangers_and_admits_the_secret(hosts, lab_state, stack):
    relay_ip = lab_state.hosts["relay-1"].address
    access = stack.relays["relay-1"].access
    code, _ = curl_relay(hosts["gpu-1"], relay_ip, "/openai/v1/models")
    assert code == 403
    code, _ = curl_relay(hosts["gpu-1"], relay_ip, "/openai/v1/models",
                         f"{access.header}: wrong-secret")
    assert code == 403
    secret = stack.secret(access.shared_secret)
    code, body = curl_relay(hosts["gpu-1"], relay_ip, "/openai/v1/models",
                            f"{access.header}: {secret}")
    assert code == 200
    assert access.header.lower() not in json.loads(body)["headers"]


def test_chat_through_gateway_and_relay_to_provider(gateway_client):
    """Client -> gateway Nginx -> OneAPI -> relay (TLS verified with the trusted lab CA)
    -> the provider stand-in."""
    reply = gateway_client.chat.completions.create(
        model="gpt-4o-mini", max_tokens=8, messages=[{"role": "user", "content": "ping"}])
    assert reply.choices[0].message.content == UPSTREAM_REPLY
    text, chunks, _ = stream_text(gateway_client, "gpt-4o-mini")
    assert text == UPSTREAM_REPLY and chunks >= 1


# -- targeted redeploy -----------------------------------------------------------------------------

def retargeted_inventory(tmp_path, port: int):
    """A copy of the lab inventory with gpu-2's Ollama on another port, sharing the lab's
    secrets and OneAPI state (so only the change itself differs)."""
    inv = tmp_path / "inventory"
    inv.mkdir()
    (inv / STATE_DIR).symlink_to(OperatorPaths.beside(LAB_YML).root)
    (inv / "lab.secrets.env").symlink_to(REPO / "inventory" / "lab.secrets.env")
    data = yaml.safe_load(LAB_YML.read_text())
    data["gpu_hosts"]["gpu-2"]["services"][0]["port"] = port
    (inv / "lab.yml").write_text(yaml.safe_dump(data, sort_keys=False))
    (inv / "lab.py").write_text((REPO / "inventory" / "lab.py").read_text())
    return str(inv / "lab.py")


def test_limit_to_gpu_host_and_gateway_follows_a_port_change(tmp_path, hosts, gateway_client):
    moved = retargeted_inventory(tmp_path, 11500)
    result, _, took = run_pyinfra("--limit", "gpu-2", "--limit", "gw-1", inventory=moved)
    TIMES["targeted redeploy (--limit gpu-2 --limit gw-1)"] = took
    changed = changed_by_host(result)
    print(f"\n[e2e] targeted redeploy {took:.1f} s, changed: {changed}")
    assert set(changed) == {"gpu-2", "gw-1"}
    assert listening(hosts["gpu-2"], 11500) == {"127.0.0.1"}
    assert 'permitopen="127.0.0.1:11500"' in hosts["gpu-2"].file(
        f"{hosts['gpu-2'].user('llminfra-tunnel').home}/.ssh/authorized_keys").content_string
    text, chunks, _ = stream_text(gateway_client, "smollm2:135m")
    assert chunks >= 1
    # back to the inventory as committed; only gpu-2 and gw-1 change again
    result, _, _ = run_pyinfra("--limit", "gpu-2", "--limit", "gw-1")
    assert set(changed_by_host(result)) == {"gpu-2", "gw-1"}
    assert listening(hosts["gpu-2"], 11434) == {"127.0.0.1"}


# -- idempotence: last ---------------------------------------------------------------------------

def test_zz_second_run_reports_zero_changes(deployed):
    result, output, took = run_pyinfra()
    TIMES["no-change redeploy (pyinfra all.py)"] = took
    print(f"\n[e2e] no-change redeploy: {took:.1f} s")
    assert changed_ops(result) == []
    assert result["results"]["totals"]["success"] == 0
    assert result["results"]["totals"]["error"] == 0
