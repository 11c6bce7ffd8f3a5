"""LiteLLM on the gateway: config.yaml from the channel specs, compose, secrets, client keys."""

import hashlib
import importlib.util
import json

import pytest
import yaml
from render_helpers import LITELLM_EXAMPLE, SECRETS, compose_binary, make_stack
from test_render_compose_config import compose_config, write_host

from llminfra.model.litellm import client_key
from llminfra.render import gateway_files, render_litellm_compose, render_litellm_secrets
from llminfra.render.compose_litellm import auth_module, config_files
from llminfra.model.providers import CHANNEL_KINDS
from llminfra.render.litellm_config import PROVIDERS, render_config


@pytest.fixture
def example_data():
    return yaml.safe_load(LITELLM_EXAMPLE.read_text())


@pytest.fixture
def example(example_data):
    return make_stack(example_data)


def deployment(name, model, base, key, order, ident):
    return {"model_name": name,
            "litellm_params": {"model": model, "api_base": base, "api_key": key, "order": order},
            "model_info": {"id": ident}}


RELAY = "https://relay.example.com"
OPENAI_KEY = "os.environ/LLMINFRA_SECRET_OPENAI_PROVIDER_KEY"


def test_example_config_exact(example):
    doc = yaml.safe_load(render_config(example, "gw-1"))
    assert doc == {
        "model_list": [
            deployment("qwen2.5-14b", "openai/qwen2.5-14b", "http://10.8.0.10:8000/v1",
                       "os.environ/LLMINFRA_SECRET_GPU1_VLLM_KEY", 1, "gpu-1/qwen/qwen2.5-14b"),
            # the tunnelled fallback: same public name, next order
            deployment("qwen2.5-14b", "openai/qwen2.5-14b",
                       f"http://172.30.1.1:{example.tunnels('gw-1')[0].local_port}/v1",
                       "llminfra-no-key", 2, "gpu-2/qwen-awq/qwen2.5-14b"),
            deployment("llama3.1:8b", "openai/llama3.1:8b",
                       f"http://172.30.1.1:{example.tunnels('gw-1')[1].local_port}/v1",
                       "llminfra-no-key", 1, "gpu-2/ollama/llama3.1:8b"),
            deployment("gpt-4o", "openai/gpt-4o", f"{RELAY}/openai/v1", OPENAI_KEY, 1,
                       "openai/gpt-4o"),
            deployment("gpt-4o-mini", "openai/gpt-4o-mini", f"{RELAY}/openai/v1", OPENAI_KEY, 1,
                       "openai/gpt-4o-mini"),
            # model mapping: an alias clients ask for, the mapped name goes upstream
            deployment("smart", "openai/gpt-4o", f"{RELAY}/openai/v1", OPENAI_KEY, 1,
                       "openai/smart"),
            deployment("claude-3-5-sonnet-20241022", "anthropic/claude-3-5-sonnet-20241022",
                       f"{RELAY}/claude", "os.environ/LLMINFRA_SECRET_ANTHROPIC_PROVIDER_KEY", 1,
                       "claude/claude-3-5-sonnet-20241022"),
            deployment("gemini-1.5-pro", "gemini/gemini-1.5-pro", f"{RELAY}/gemini/v1beta",
                       "os.environ/LLMINFRA_SECRET_GEMINI_PROVIDER_KEY", 1,
                       "gemini/gemini-1.5-pro"),
        ],
        "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY",
                             "custom_auth": "llminfra_auth.user_api_key_auth",
                             "custom_auth_run_common_checks": True},
        "litellm_settings": {"enable_post_custom_auth_checks": True, "callbacks": ["prometheus"],
                             "require_auth_for_metrics_endpoint": False},
        "router_settings": {"num_retries": 2},
    }


def test_priorities_rank_per_model_and_disabled_channels_are_left_out(example_data):
    chans = example_data["channels"]
    chans.append({"name": "openai-2", "type": "openai", "base_url": "https://api.openai.com",
                  "key": "OPENAI_PROVIDER_KEY", "models": ["gpt-4o"], "priority": 5, "weight": 3})
    chans[0]["priority"] = 20
    chans[1]["enabled"] = False
    doc = yaml.safe_load(render_config(make_stack(example_data), "gw-1"))
    gpt4o = [d["litellm_params"] for d in doc["model_list"] if d["model_name"] == "gpt-4o"]
    assert gpt4o == [
        {"model": "openai/gpt-4o", "api_base": f"{RELAY}/openai/v1", "api_key": OPENAI_KEY,
         "order": 1},
        {"model": "openai/gpt-4o", "api_base": "https://api.openai.com/v1", "api_key": OPENAI_KEY,
         "order": 2, "weight": 3},
    ]
    assert not [d for d in doc["model_list"] if d["model_name"].startswith("claude")]


def test_embedding_services_are_marked_for_litellms_health_probes(example_data):
    example_data["gpu_hosts"]["gpu-1"]["services"].append(
        {"kind": "vllm", "name": "embed", "model": "BAAI/bge-m3", "task": "embed",
         "served_names": ["bge-m3"], "port": 8001, "gpus": "cpu", "bind": "10.8.0.10",
         "api_key": "GPU1_VLLM_KEY"})
    doc = yaml.safe_load(render_config(make_stack(example_data), "gw-1"))
    infos = {d["model_name"]: d["model_info"] for d in doc["model_list"]}
    assert infos["bge-m3"] == {"id": "gpu-1/embed/bge-m3", "mode": "embedding"}
    assert infos["smart"] == {"id": "openai/smart"}


def test_no_channels_is_an_empty_model_list(example_data):
    example_data.update(channels=[], tokens=[])
    for gpu in example_data["gpu_hosts"].values():
        for svc in gpu["services"]:
            svc.setdefault("channel", {})
            svc["channel"]["enabled"] = False
    assert yaml.safe_load(render_config(make_stack(example_data), "gw-1"))["model_list"] == []


def test_every_channel_kind_has_a_litellm_provider():
    assert set(PROVIDERS) == set(CHANNEL_KINDS)


def test_compose_loopback_network_and_readiness(example):
    doc = yaml.safe_load(render_litellm_compose(example, "gw-1").content)
    svc = doc["services"]["litellm"]
    assert svc["image"] == "ghcr.io/berriai/litellm:main-v1.108.7"
    assert svc["ports"] == ["127.0.0.1:4000:4000"]
    assert svc["command"] == ["--config", "/etc/llminfra/litellm/config.yaml", "--host",
                              "0.0.0.0", "--port", "4000"]
    assert svc["volumes"] == ["/opt/llminfra/litellm/config:/etc/llminfra/litellm:ro"]
    assert svc["env_file"] == ["secrets.env"] and "entrypoint" not in svc
    assert svc["environment"] == {"TZ": "UTC", "LITELLM_MODE": "PRODUCTION",
                                  "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                                  "DISABLE_ADMIN_UI": "True"}
    assert "/health/readiness" in svc["healthcheck"]["test"][3]
    assert doc["networks"]["litellm"]["ipam"]["config"] == [
        {"subnet": "172.30.1.0/24", "gateway": "172.30.1.1"}]


def test_a_config_change_changes_the_compose_label(example_data):
    before = yaml.safe_load(render_litellm_compose(make_stack(example_data), "gw-1").content)
    example_data["channels"][0]["models"].append("o1")
    after = yaml.safe_load(render_litellm_compose(make_stack(example_data), "gw-1").content)
    label = "llminfra.config-sha256"
    assert before["services"]["litellm"]["labels"][label] != \
        after["services"]["litellm"]["labels"][label]


def test_mirrors_rewrite_the_ghcr_image(example_data):
    example_data["mirrors"]["image_rewrite"] = {"ghcr.io": "ghcr.m.example.cn"}
    doc = yaml.safe_load(render_litellm_compose(make_stack(example_data), "gw-1").content)
    assert doc["services"]["litellm"]["image"] == "ghcr.m.example.cn/berriai/litellm:main-v1.108.7"


def test_trusted_cas_join_certifi_before_start(example_data, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nlab\n-----END CERTIFICATE-----\n")
    example_data["gateways"]["gw-1"]["litellm"]["trust_ca_files"] = [str(ca)]
    stack = make_stack(example_data)
    svc = yaml.safe_load(render_litellm_compose(stack, "gw-1").content)["services"]["litellm"]
    assert svc["environment"]["SSL_CERT_FILE"] == "/tmp/llminfra-ca-bundle.pem"
    assert svc["entrypoint"][:2] == ["/bin/sh", "-c"]
    # Compose would interpolate a single `$`; the rendered file doubles it
    assert '"$$(python3 -m certifi)"' in svc["entrypoint"][2]
    assert "/opt/llminfra/litellm/trust/extra-ca.pem:/etc/llminfra/extra-ca.pem:ro" \
        in svc["volumes"]
    paths = [f.path_on_host for f in gateway_files(stack, "gw-1")]
    assert "/opt/llminfra/litellm/trust/extra-ca.pem" in paths


def test_secrets_only_in_the_0600_env_file(example):
    f = render_litellm_secrets(example, "gw-1")
    assert (f.path_on_host, f.mode, f.secret) == ("/opt/llminfra/litellm/secrets.env", "0600", True)
    env = dict(line.split("=", 1) for line in f.content.splitlines()[1:])
    assert sorted(env) == ["LITELLM_MASTER_KEY", "LLMINFRA_CLIENT_KEYS",
                           "LLMINFRA_SECRET_ANTHROPIC_PROVIDER_KEY", "LLMINFRA_SECRET_GEMINI_PROVIDER_KEY",
                           "LLMINFRA_SECRET_GPU1_VLLM_KEY", "LLMINFRA_SECRET_OPENAI_PROVIDER_KEY"]
    assert env["LITELLM_MASTER_KEY"] == f"'{SECRETS['LITELLM_MASTER_KEY']}'"
    public = [render_litellm_compose(example, "gw-1"), *config_files(example, "gw-1")]
    keys = [client_key(SECRETS["LITELLM_CLIENT_KEY_SECRET"], t) for t in ("apps", "alice")]
    for value in [SECRETS["LITELLM_MASTER_KEY"], SECRETS["OPENAI_PROVIDER_KEY"], *keys]:
        for other in public:
            assert value not in other.content
        assert value not in json.loads(env["LLMINFRA_CLIENT_KEYS"].strip("'")).__repr__()


def test_client_keys_admit_hashes_with_each_tokens_limits(example_data):
    example_data["tokens"].append({"name": "off", "enabled": False})
    env = render_litellm_secrets(make_stack(example_data), "gw-1").content
    raw = next(v for v in env.splitlines() if v.startswith("LLMINFRA_CLIENT_KEYS="))
    admitted = json.loads(raw.split("=", 1)[1].strip("'"))

    def digest(name):
        key = client_key(SECRETS["LITELLM_CLIENT_KEY_SECRET"], name)
        return hashlib.sha256(key.encode()).hexdigest()

    assert admitted == {
        digest("apps"): {"name": "apps", "models": [], "subnets": [], "expires": None},
        digest("alice"): {"name": "alice", "models": ["qwen2.5-14b", "llama3.1:8b"],
                          "subnets": ["198.51.100.0/24"], "expires": 1814313600},
    }  # "off" is disabled: its key is not admitted


def test_files_of_a_litellm_gateway(example):
    paths = [f.path_on_host for f in gateway_files(example, "gw-1")]
    assert paths[:6] == ["/etc/docker/daemon.json", "/opt/llminfra/litellm/compose.yaml",
                         "/opt/llminfra/litellm/secrets.env",
                         "/opt/llminfra/litellm/config/config.yaml",
                         "/opt/llminfra/litellm/config/llminfra_auth.py",
                         "/etc/nginx/conf.d/llminfra-gateway.conf"]
    assert not [p for p in paths if "oneapi" in p]
    nginx = gateway_files(example, "gw-1")[5].content
    assert "proxy_pass http://127.0.0.1:4000;" in nginx
    # /metrics and /health (every upstream named) are not client API: 404 like the UI
    assert "location / {\n        return 404;\n    }" in nginx


def test_example_compose_passes_compose_config(example, tmp_path):
    [path] = write_host(gateway_files(example, "gw-1"), tmp_path)
    result = compose_config(compose_binary(), path, "-q")
    assert result.returncode == 0, result.stderr


# -- the auth module LiteLLM imports (its pure part; the lab tier runs it inside LiteLLM) ------

@pytest.fixture(scope="module")
def auth(tmp_path_factory):
    path = tmp_path_factory.mktemp("auth") / "llminfra_auth.py"
    path.write_text(auth_module())
    spec = importlib.util.spec_from_file_location("llminfra_auth", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def keyset(**entries):
    return {hashlib.sha256(k.encode()).hexdigest(): v for k, v in entries.items()}


@pytest.mark.parametrize("key,ip,now,expected", [
    ("sk-master", "203.0.113.9", 0, ("master", None)),
    ("sk-apps", "203.0.113.9", 0, "client"),
    ("sk-wrong", "203.0.113.9", 0, ("denied", {"reason": "invalid API key"})),
    ("", "203.0.113.9", 0, ("denied", {"reason": "invalid API key"})),
    ("sk-alice", "198.51.100.7", 99, "client"),
    ("sk-alice", "198.51.100.7", 100, ("denied", {"reason": "API key expired"})),
    ("sk-alice", "203.0.113.9", 0, ("denied", {"reason": "API key not allowed from this address"})),
    ("sk-alice", "not-an-ip", 0, ("denied", {"reason": "API key not allowed from this address"})),
])
def test_auth_verdict(auth, key, ip, now, expected):
    keys = keyset(**{"sk-apps": {"name": "apps", "models": [], "subnets": [], "expires": None},
                     "sk-alice": {"name": "alice", "models": ["m"], "subnets": ["198.51.100.0/24"],
                                  "expires": 100}})
    master = hashlib.sha256(b"sk-master").hexdigest()
    kind, entry = auth.verdict(key, ip, now, keys, master)
    if expected == "client":
        assert kind == "client" and entry["digest"] == hashlib.sha256(key.encode()).hexdigest()
    else:
        assert (kind, entry) == expected


def test_auth_reads_the_env_file_values(auth):
    keys, master = auth.load_keys({"LLMINFRA_CLIENT_KEYS": '{"ab": {"name": "x"}}',
                                   "LITELLM_MASTER_KEY": "sk-m"})
    assert keys == {"ab": {"name": "x"}} and master == hashlib.sha256(b"sk-m").hexdigest()
    assert auth.load_keys({}) == ({}, None)


def test_cli_check_and_render_accept_the_example(tmp_path):
    import subprocess
    import sys

    secrets = LITELLM_EXAMPLE.with_name("litellm.secrets.env.example")
    base = [sys.executable, "-m", "llminfra"]
    check = subprocess.run([*base, "check", str(LITELLM_EXAMPLE), "--secrets-file", str(secrets)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert "gateway (litellm)" in check.stdout and "172.30.1.1:" in check.stdout
    render = subprocess.run([*base, "render", str(LITELLM_EXAMPLE), str(tmp_path / "out"),
                             "--secrets-file", str(secrets)], capture_output=True, text=True)
    assert render.returncode == 0, render.stderr
    config = tmp_path / "out/gw-1/opt/llminfra/litellm/config/config.yaml"
    assert len(yaml.safe_load(config.read_text())["model_list"]) == 8
    env = (tmp_path / "out/gw-1/opt/llminfra/litellm/secrets.env")
    assert "LITELLM_MASTER_KEY='MASKED-LITELLM_MASTER_KEY'" in env.read_text()
    assert oct(env.stat().st_mode & 0o777) == "0o600"
