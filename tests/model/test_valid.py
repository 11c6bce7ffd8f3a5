"""The happy path: a valid stack and what is derived from it."""

from llminfra.model import parse_stack


def test_base_stack_is_valid(base, secrets):
    stack = parse_stack(base, environ=secrets)
    assert list(stack.gpu_hosts) == ["gpu-1", "gpu-2"]
    vllm = stack.gpu_hosts["gpu-1"].services[0]
    assert vllm.served() == ["Qwen2.5-7B"]
    assert stack.service_bind(stack.gpu_hosts["gpu-2"], stack.gpu_hosts["gpu-2"].services[0]) == "127.0.0.1"
    assert stack.service_bind(stack.gpu_hosts["gpu-1"], vllm) == "10.0.0.1"
    vllm.bind = None  # the default on a directly reachable host
    assert stack.service_bind(stack.gpu_hosts["gpu-1"], vllm) == "0.0.0.0"


def test_tunnels_listen_on_oneapi_network_gateway(base, secrets):
    base["gateways"]["gw-1"]["oneapi"]["network_subnet"] = "172.31.5.0/24"
    stack = parse_stack(base, environ=secrets)
    [tunnel] = stack.tunnels()
    assert (tunnel.gpu_host, tunnel.service, tunnel.bind, tunnel.local_port, tunnel.remote_port) == (
        "gpu-2", "ollama", "172.31.5.1", 20732, 11434)
    assert tunnel.unit == "llminfra-tunnel-gpu-2-ollama"


def test_channel_urls_follow_reachability(base, secrets):
    stack = parse_stack(base, environ=secrets)
    urls = {c.name: c.base_url for c in stack.channel_specs("gw-1")}
    assert urls == {
        "gpu-1/qwen": "http://10.0.0.1:8000/v1",
        "gpu-2/ollama": "http://172.30.0.1:20732/v1",
        "openai": "https://relay.test/openai",
    }


def test_explicit_tunnel_port_and_base(base, secrets):
    base["gateways"]["gw-1"]["tunnel_port_base"] = 30000
    base["gpu_hosts"]["gpu-2"]["services"].append(
        {"kind": "openai", "name": "tgi", "image": "tgi:1", "port": 8081, "gpus": "cpu",
         "models": ["m"], "tunnel_port": 31000})
    stack = parse_stack(base, environ=secrets)
    assert [(t.service, t.local_port) for t in stack.tunnels()] == [("ollama", 30732), ("tgi", 31000)]


def test_image_rewrite_covers_non_dockerhub_registries(base, secrets):
    base["mirrors"] = {"image_rewrite": {"ghcr.io": "ghcr.m.cn", "docker.io": "hub.m.cn/"}}
    mirrors = parse_stack(base, environ=secrets).mirrors
    assert mirrors.image("ghcr.io/org/img:1") == "ghcr.m.cn/org/img:1"
    assert mirrors.image("vllm/vllm-openai:v1") == "hub.m.cn/vllm/vllm-openai:v1"
    assert mirrors.image("redis:7") == "hub.m.cn/library/redis:7"
    assert mirrors.image("quay.io/x/y:2") == "quay.io/x/y:2"


def test_secret_values_are_masked_in_repr(base, secrets):
    stack = parse_stack(base, environ=secrets)
    value = stack.secret("VLLM_KEY")
    assert value == "vllm-secret-value"
    assert "vllm-secret-value" not in repr(value)
    assert "vllm-secret-value" not in repr(stack)
    assert "vllm-secret-value" not in repr(stack.secrets)


def test_secrets_come_from_file_and_environment(base, secrets, tmp_path):
    f = tmp_path / "s.env"
    f.write_text("".join(f"{k}=f-{v}\n" for k, v in secrets.items() if k != "VLLM_KEY"))
    f.chmod(0o600)
    base["secrets_file"] = str(f)
    stack = parse_stack(base, environ={"VLLM_KEY": "from-the-environment",
                                       "SESSION": "f-session-secret-value"})
    assert stack.secret("VLLM_KEY") == "from-the-environment"
    assert stack.secret("SESSION") == "f-session-secret-value"  # same value twice: fine


def test_token_expiry_is_utc_midnight(base, secrets):
    base["tokens"] = [{"name": "t", "expires": "2027-01-01"}]
    stack = parse_stack(base, environ=secrets)
    assert stack.tokens[0].expired_time == 1798761600


def test_tunnel_ports_depend_on_identity_not_position(base, secrets):
    extra = [{"kind": "openai", "name": f"s{i}", "image": "x:1", "port": 9000 + i, "gpus": "cpu",
              "models": [f"m{i}"]} for i in range(5)]
    base["gpu_hosts"]["gpu-2"]["services"] += extra
    before = {t.service: t.local_port for t in parse_stack(base, environ=secrets).tunnels()}
    del base["gpu_hosts"]["gpu-2"]["services"][0]  # remove the first one
    after = {t.service: t.local_port for t in parse_stack(base, environ=secrets).tunnels()}
    assert after == {k: v for k, v in before.items() if k != "ollama"}
    assert all(20000 <= p < 21000 for p in before.values())


def test_readiness_probe_follows_kind_and_task(base, secrets):
    base["gpu_hosts"]["gpu-1"]["services"].append(
        {"kind": "vllm", "name": "embed", "model": "/models/all-MiniLM-L6-v2", "port": 8001,
         "gpus": "cpu", "task": "embed", "bind": "10.0.0.1"})
    stack = parse_stack(base, environ=secrets)
    qwen, embed = stack.gpu_hosts["gpu-1"].services
    [ollama] = stack.gpu_hosts["gpu-2"].services
    assert (qwen.readiness_probe(), qwen.health_path) == ("chat", "/health")
    assert (embed.readiness_probe(), embed.health_path) == ("embeddings", "/health")
    # Ollama lists a pulled model before it has loaded it: one token says it serves
    assert (ollama.readiness_probe(), ollama.health_path) == ("chat", None)
    listed = parse_stack({**base, "gpu_hosts": {**base["gpu_hosts"], "gpu-2": {
        **base["gpu_hosts"]["gpu-2"], "services": [
            {**base["gpu_hosts"]["gpu-2"]["services"][0], "probe": "list"}]}}}, environ=secrets)
    assert listed.gpu_hosts["gpu-2"].services[0].readiness_probe() == "list"
    # a run that changed nothing: vLLM's health + listing is conclusive (no connection before
    # its engine is up); Ollama is not made to load a model it unloaded when idle
    assert (qwen.steady_probe(), embed.steady_probe(), ollama.steady_probe()) == (
        "list", "list", "list")


def test_shipped_examples_pin_host_keys_paramiko_parses():
    """The placeholder host keys in the examples are real key lines (paramiko, as the admin
    tunnel and pyinfra read them), not strings that merely start with ssh-ed25519."""
    from pathlib import Path

    import paramiko
    import yaml

    root = Path(__file__).parents[2] / "inventory"
    checked = 0
    for example in (root / "prod.yml", root / "examples" / "litellm.yml"):
        doc = yaml.safe_load(example.read_text())
        for section in ("gpu_hosts", "gateways", "relays"):
            for name, host in (doc.get(section) or {}).items():
                entry = paramiko.hostkeys.HostKeyEntry.from_line(f"{name} {host['ssh']['host_key']}")
                assert entry is not None and entry.key.get_name() == "ssh-ed25519", name
                checked += 1
    assert checked == 8
