"""The lab with LiteLLM (the real proxy) as the gateway engine: the same inventory, one key
switched (`lab up --engine litellm`), deployed for real and checked at every hop.

Client -> Nginx (TLS) -> LiteLLM -> autossh tunnel -> gpu-2's real vLLM (and its Ollama), with a
kit-issued key; the direct GPU host, embeddings and the relay path too. Runs after the OneAPI module (file order) and
leaves the lab on LiteLLM, so this module is named to run after every OneAPI module.
"""

from __future__ import annotations

import json
import re
import shlex
import ssl
import subprocess
import sys
import time

import httpx
import pytest

from llminfra.clients import captured_keys, token_var
from llminfra.deploys.litellm import LITELLM_START_TIMEOUT
from llminfra.model import load_stack
from llminfra.model.secrets import parse_dotenv
from llminfra.render import cert_paths
from llminfra.render.compose_litellm import SERVICE

from .conftest import REPO, TIMES, changed_ops, run_pyinfra

LAB_YML = REPO / "inventory" / "lab.yml"
UPSTREAM_REPLY = "Hello from the lab upstream."
STREAM_PROMPT = [{"role": "user", "content": "Say hello in three words."}]


@pytest.fixture(scope="module")
def switched(lab_state):
    """The lab inventory with `engine: litellm`, deployed (OneAPI is stopped by that deploy)."""
    from llminfra_lab import up

    state = up(REPO, engine="litellm")
    assert state.engine == "litellm"
    result, output, took = run_pyinfra()
    TIMES["LiteLLM: switch the lab to it (pyinfra all.py)"] = took
    print(f"\n[e2e-litellm] deploy with engine litellm: {took:.1f} s, "
          f"changed ops: {len(changed_ops(result))}")
    return result, output


@pytest.fixture(scope="module")
def stack(switched):
    return load_stack(LAB_YML)


@pytest.fixture(scope="module")
def keys(stack):
    return {name: captured_keys(stack, "gw-1")[token_var(name)] for name in ("apps", "alice")}


@pytest.fixture(scope="module")
def gateway(hosts, stack, tmp_path_factory):
    gw = stack.gateways["gw-1"]
    cert = cert_paths(gw.nginx.tls, gw.nginx.server_name, gw.nginx.server_name).cert
    ca = tmp_path_factory.mktemp("gw-litellm") / "gateway.crt"
    ca.write_text(hosts["gw-1"].file(cert).content_string)
    return f"https://{gw.ssh.host}", ssl.create_default_context(cafile=str(ca))


def client(gateway, key: str):
    from openai import OpenAI

    origin, tls = gateway
    http = httpx.Client(verify=tls, timeout=120, trust_env=False)
    return OpenAI(base_url=f"{origin}/v1", api_key=key, http_client=http, max_retries=0)


def raw(gateway, path: str, key: str | None = None, method: str = "GET") -> httpx.Response:
    origin, tls = gateway
    # "" is a bearer with no token at all (the header's value is the bare scheme)
    headers = {} if key is None else {"Authorization": f"Bearer {key}".strip()}
    body = {"model": "smollm2:135m", "messages": STREAM_PROMPT, "max_tokens": 4}
    with httpx.Client(verify=tls, timeout=60, trust_env=False) as http:
        if method == "POST":
            return http.post(f"{origin}{path}", headers=headers, json=body)
        return http.get(f"{origin}{path}", headers=headers)


def stream(c, model: str) -> tuple[str, int, float, float]:
    """(text, content chunks, time to first content chunk, total) of a streamed chat."""
    start = time.monotonic()
    first, chunks, text = None, 0, ""
    for chunk in c.chat.completions.create(model=model, stream=True, max_tokens=16,
                                           messages=STREAM_PROMPT):
        if chunk.choices and chunk.choices[0].delta.content:
            first = first or time.monotonic() - start
            chunks += 1
            text += chunk.choices[0].delta.content
    return text, chunks, first or 0.0, time.monotonic() - start


def lab_secret_values(stack) -> list[str]:
    values = list(parse_dotenv((REPO / "inventory" / "lab.secrets.env").read_text()).values())
    values += list(captured_keys(stack, "gw-1").values())
    return [v for v in values if len(v) >= 8]


def test_deploy_switches_engines_and_leaks_no_secret(switched, stack):
    result, output = switched
    assert result["results"]["totals"]["error"] == 0
    for value in lab_secret_values(stack):
        assert value not in output


def test_gateway_runs_litellm_on_loopback_and_oneapi_is_stopped(hosts, stack):
    gw = hosts["gw-1"]
    ps = gw.check_output("docker ps --format '{{.Image}} {{.Status}}'")
    assert "ghcr.io/berriai/litellm:lab Up" in ps
    assert "justsong/one-api" not in ps
    # Docker's own healthcheck (the readiness URL) turns healthy once its first probe ran;
    # it probes every 30 s, so a probe too slow on a busy host waits for the next
    health = ("for i in $(seq 150); do s=$(docker inspect -f '{{.State.Health.Status}}' "
              "llminfra-litellm-litellm-1); [ \"$s\" = healthy ] && break; sleep 1; done; echo $s")
    assert gw.check_output(health).strip() == "healthy"
    out = gw.check_output("ss -Hltn 'sport = :4000'")
    assert {line.split()[3].rsplit(":", 1)[0] for line in out.splitlines()} == {"127.0.0.1"}


def test_secrets_only_in_the_private_env_file(hosts, stack):
    gw, data_dir = hosts["gw-1"], stack.gateways["gw-1"].engine_settings.data_dir
    env = gw.file(f"{data_dir}/secrets.env")
    assert (env.mode, env.user) == (0o600, "root")
    for public in ("compose.yaml", "config/config.yaml", "config/llminfra_auth.py"):
        content = gw.file(f"{data_dir}/{public}").content_string
        for value in lab_secret_values(stack):
            assert value not in content, public


def test_tunnels_listen_only_on_litellms_network(hosts, stack):
    gw = hosts["gw-1"]
    tunnels = stack.tunnels("gw-1")
    assert tunnels and {t.bind for t in tunnels} == {"172.30.1.1"}
    for tunnel in tunnels:
        out = gw.check_output(f"ss -Hltn 'sport = :{tunnel.local_port}'")
        assert {line.split()[3].rsplit(":", 1)[0] for line in out.splitlines()} == {tunnel.bind}


@pytest.mark.parametrize("model,what", [("smollm2-135m", "real vLLM via tunnel"),
                                        ("smollm2:135m", "Ollama via tunnel"),
                                        ("qwen2.5:0.5b", "Ollama on the direct host")])
def test_stream_through_nginx_and_litellm(gateway, keys, model, what):
    c = client(gateway, keys["apps"])
    stream(c, model)  # warm the model once; the next one is what a client sees
    text, chunks, ttft, took = stream(c, model)
    TIMES[f"LiteLLM: first token through Nginx + LiteLLM, {what} (ms)"] = ttft * 1000
    print(f"\n[e2e-litellm] {what}: {chunks} chunks, TTFT {ttft * 1000:.0f} ms, "
          f"total {took:.2f} s: {text!r}")
    assert chunks >= 2 and text.strip()


def test_embeddings_through_litellm_and_the_tunnel(gateway, keys):
    reply = client(gateway, keys["apps"]).embeddings.create(model="all-minilm-l6-v2",
                                                            input=["hello lab"])
    assert len(reply.data) == 1 and len(reply.data[0].embedding) == 384


def test_chat_through_litellm_and_the_relay_trusting_the_lab_ca(gateway, keys):
    c = client(gateway, keys["apps"])
    reply = c.chat.completions.create(model="gpt-4o-mini", max_tokens=8,
                                      messages=[{"role": "user", "content": "ping"}])
    assert reply.choices[0].message.content == UPSTREAM_REPLY
    text, chunks, _, _ = stream(c, "gpt-4o-mini")
    assert text == UPSTREAM_REPLY and chunks >= 1


@pytest.mark.parametrize("key", ["sk-lmi-0000000000000000000000000000000000000000", "", None],
                         ids=["wrong", "empty", "missing"])
def test_a_wrong_or_missing_key_is_401(gateway, key):
    assert raw(gateway, "/v1/chat/completions", key, "POST").status_code == 401
    assert raw(gateway, "/v1/models", key).status_code == 401


def test_token_models_are_enforced_and_listed(gateway, keys, stack):
    alice = client(gateway, keys["alice"])
    assert {m.id for m in alice.models.list()} == {"smollm2-135m", "smollm2:135m"}
    assert raw(gateway, "/v1/chat/completions", keys["alice"], "POST").status_code == 200
    from openai import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        alice.chat.completions.create(model="gpt-4o-mini", max_tokens=4,
                                      messages=[{"role": "user", "content": "ping"}])
    served = {m.id for m in client(gateway, keys["apps"]).models.list()}
    assert served == {m for spec in stack.channel_specs("gw-1") for m in spec.models}


def test_metrics_and_health_are_local_only(gateway, hosts, keys):
    for path in ("/metrics", "/metrics/", "/health", "/health/readiness"):
        assert raw(gateway, path, keys["apps"]).status_code == 404, path
    gw = hosts["gw-1"]
    metrics = gw.check_output("curl -fsS http://127.0.0.1:4000/metrics/")
    assert "litellm_deployment_success_responses_total" in metrics
    ready = gw.check_output("curl -fsS http://127.0.0.1:4000/health/readiness")
    assert '"status":"healthy"' in ready.replace(" ", "")
    assert gw.check_output("curl -fsS http://127.0.0.1:4000/health/liveliness").strip('"\n ')


def llminfra(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llminfra", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


def test_status_probes_litellm_and_each_deployment(switched, lab_state):
    # LiteLLM probes each deployment for real; the lab's provider stand-in answers OpenAI's
    # wire format only, so LiteLLM rightly finds its Anthropic and Gemini deployments broken
    stand_in_gaps = {"gw-1/claude/claude-3-5-haiku-20241022", "gw-1/gemini/gemini-1.5-flash"}
    deadline = time.monotonic() + 120
    while True:  # a live probe cut short on a busy host is red once, a broken deployment stays
        proc = llminfra("status", "inventory/lab.yml", "--json",
                        "--connect", lab_state.hosts["gw-1"].address)
        mine = [r for r in json.loads(proc.stdout) if r["hop"] in ("engine", "channel")]
        red = {r["target"] for r in mine if r["state"] != "ok"}
        if red == stand_in_gaps or time.monotonic() > deadline:
            break
        time.sleep(5)
    assert {r["target"] for r in mine if r["hop"] == "engine"} == {"gw-1 litellm"}
    assert len([r for r in mine if r["hop"] == "channel"]) >= 6
    assert red == stand_in_gaps, [r for r in mine if r["state"] != "ok"]
    # ... but the probes did arrive through the relay, on each provider's own API path
    import docker

    log = docker.from_env().containers.get("llminfra-lab-upstream").logs().decode()
    assert re.search(r"POST /v1/messages\S* sni=api\.anthropic\.com", log)
    assert re.search(r"POST /v1beta/models/gemini-1\.5-flash:\S+ "
                     r"sni=generativelanguage\.googleapis\.com", log)


def test_smoke_streams_every_model_with_a_kit_key(switched, lab_state, tmp_path):
    proc = llminfra("smoke", "inventory/lab.yml", "--url",
                    f"https://{lab_state.hosts['gw-1'].address}/v1")
    print(f"\n[e2e-litellm] smoke:\n{proc.stdout}")
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_litellm_startup_time(hosts, stack):
    """Restart the container and time it until /health/readiness answers 200, within what a
    deploy waits for it."""
    gw, data_dir = hosts["gw-1"], stack.gateways["gw-1"].engine_settings.data_dir
    wait = ("start=$(date +%s%N); "
            f"cd {shlex.quote(data_dir)} && docker compose restart {SERVICE} >/dev/null 2>&1; "
            "until curl -fs -o /dev/null http://127.0.0.1:4000/health/readiness; do "
            "sleep 0.2; done; echo $(( ($(date +%s%N) - start) / 1000000 ))")
    ready = gw.run(f"timeout {LITELLM_START_TIMEOUT} sh -c {shlex.quote(wait)}")
    assert ready.rc == 0, f"LiteLLM not ready {LITELLM_START_TIMEOUT} s after a restart"
    ms = int(ready.stdout)
    TIMES["LiteLLM: container restart to /health/readiness 200"] = ms / 1000
    print(f"\n[e2e-litellm] restart to /health/readiness 200: {ms} ms")


def test_zz_second_run_reports_zero_changes(switched, gateway, keys):
    stream(client(gateway, keys["apps"]), "smollm2:135m")  # up again after the restart
    result, _, took = run_pyinfra()
    TIMES["LiteLLM: no-change redeploy (pyinfra all.py)"] = took
    assert changed_ops(result) == []
    assert result["results"]["totals"]["error"] == 0
