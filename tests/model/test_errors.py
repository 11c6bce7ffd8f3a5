"""One test per validation message: each bad input yields its one-line error."""

import os
import subprocess
import sys

import pytest

from llminfra.model import StackError, parse_stack


def gpu1(d):
    return d["gpu_hosts"]["gpu-1"]


def svc(d, i=0, host="gpu-1"):
    return d["gpu_hosts"][host]["services"][i]


def add_service(d, **kw):
    gpu1(d)["services"].append({"kind": "openai", "name": "extra", "image": "x:1", "port": 9000,
                                "gpus": "cpu", "models": ["m"], "bind": "10.0.0.1", **kw})


CASES = [
    ("unknown_key", lambda d: gpu1(d).update(gpu_count=2),
     "gpu-1: gpu_count: unknown key"),
    ("unknown_service_key", lambda d: svc(d).update(tp=2),
     "gpu-1: services/0/tp: unknown key"),
    ("wrong_type_port", lambda d: svc(d).update(port="eighty"),
     "gpu-1: services/0/port: input should be a valid integer (got 'eighty')"),
    ("port_out_of_range", lambda d: svc(d).update(port=70000),
     "gpu-1: services/0/port: input should be less than or equal to 65535 (got 70000)"),
    ("vllm_task_unknown", lambda d: svc(d).update(task="classify"),
     "gpu-1: services/0/task: input should be 'generate' or 'embed' (got 'classify')"),
    ("missing_required", lambda d: svc(d).pop("model"),
     "gpu-1: services/0/model: is required"),
    ("unknown_service_kind", lambda d: svc(d).update(kind="tgi"),
     "gpu-1: services/0: unknown kind 'tgi' (expected 'vllm', 'ollama', 'openai', 'sglang')"),
    ("duplicate_host_name", lambda d: d["relays"].update({"gpu-1": d["relays"]["relay-1"]}),
     "gpu-1: duplicate host name (also in gpu_hosts)"),
    ("bad_host_name", lambda d: d["gpu_hosts"].update({"GPU_3": gpu1(d)}),
     "GPU_3: 'GPU_3' is not a valid name (lower-case letters, digits and '-', at most 40)"),
    ("duplicate_port", lambda d: add_service(d, port=8000),
     "gpu-1: services/1/port: 8000 already used by services/0"),
    ("duplicate_service_name", lambda d: add_service(d, name="qwen"),
     "gpu-1: services/1/name: 'qwen' already used by services/0"),
    ("gpu_out_of_range", lambda d: svc(d).update(gpus=[0, 3], tensor_parallel_size=2),
     "gpu-1: services/0/gpus/1: GPU 3 out of range: the host declares 2 GPU(s)"),
    ("gpu_double_booked", lambda d: add_service(d, gpus=[1]),
     "gpu-1: services/1/gpus/0: GPU 1 already pinned by services/0"),
    ("gpu_listed_twice", lambda d: svc(d).update(gpus=[0, 0]),
     "gpu-1: services/0/gpus: GPU 0 listed twice"),
    ("no_gpus", lambda d: svc(d).update(gpus=[]),
     "gpu-1: services/0/gpus: should list at least one GPU index, or be 'cpu'"),
    ("tensor_parallel_mismatch", lambda d: svc(d).update(tensor_parallel_size=4),
     "gpu-1: services/0/tensor_parallel_size: 4 does not match the 2 pinned GPU(s)"),
    ("tunnel_without_gateway", lambda d: d.update(gateways={}, tokens=[], channels=[]),
     "gpu-2: reach: tunnel-only host but no gateway is declared"),
    ("via_unknown_gateway", lambda d: d["gpu_hosts"]["gpu-2"].update(via="gw-9"),
     "gpu-2: via: 'gw-9' is not a declared gateway"),
    ("via_on_direct_host", lambda d: gpu1(d).update(via="gw-1"),
     "gpu-1: via: only used with reach: tunnel"),
    ("channel_relay_unknown", lambda d: d["channels"][0].update(relay="relay-9/openai"),
     "channels: 0/relay: 'relay-9' is not a declared relay"),
    ("channel_relay_provider_missing", lambda d: d["channels"][0].update(relay="relay-1/gemini",
                                                                         type="gemini"),
     "channels: 0/relay: relay relay-1 has no provider 'gemini' (it has: openai, claude)"),
    ("channel_type_mismatch", lambda d: d["channels"][0].update(relay="relay-1/claude"),
     "channels: 0/type: 'openai' does not match relay provider claude (use 'anthropic')"),
    ("channel_both_targets", lambda d: d["channels"][0].update(base_url="https://x"),
     "channels: 0: set exactly one of relay or base_url"),
    ("relay_without_access_control", lambda d: d["relays"]["relay-1"].update(access={}),
     "relay-1: access: a relay needs access control: set allow_cidrs and/or shared_secret"),
    ("bad_cidr", lambda d: d["relays"]["relay-1"]["access"].update(allow_cidrs=["10.0.0.300/8"]),
     "relay-1: access/allow_cidrs: entry 0: '10.0.0.300/8' is not a CIDR (e.g. 203.0.113.0/24)"),
    ("bad_token_subnet", lambda d: d["tokens"][0].update(subnets=["nope"]),
     "tokens: 0/subnets: entry 0: 'nope' is not a CIDR"),
    ("duplicate_served_name", lambda d: add_service(d, models=["Qwen2.5-7B"]),
     "gpu-1: services/1: model 'Qwen2.5-7B' (group default) is also served by gpu-1/services/0: "
     "set a priority on both to say which wins (equal priorities share load)"),
    ("missing_secret", lambda d: svc(d).update(api_key="NOT_SET_ANYWHERE"),
     "gpu-1: services/0/api_key: secret NOT_SET_ANYWHERE is not set (looked in environment and "
     "{secrets})"),
    ("inline_secret", lambda d: svc(d).update(api_key="sk-live-123"),
     "gpu-1: services/0/api_key: 'sk-live-123' is not a secret name: secrets are "
     "referenced by an UPPER_SNAKE name, never written inline"),
    ("bad_host_key", lambda d: gpu1(d)["ssh"].update(host_key="AAAA"),
     "gpu-1: ssh/host_key: should be a public host key line such as "
     "'ssh-ed25519 AAAA...' (see /etc/ssh/ssh_host_ed25519_key.pub on the host)"),
    ("tunnel_port_clash", lambda d: d["gpu_hosts"]["gpu-2"]["services"][0].update(tunnel_port=3000),
     "gpu-2: services/0/tunnel_port: gateway port 3000 on gw-1 already used by oneapi/admin_port"),
    ("tunnel_port_hash_collision", lambda d: (
        d["gateways"]["gw-1"].update(tunnel_port_range=1),
        d["gpu_hosts"]["gpu-2"]["services"].append(
            {"kind": "openai", "name": "tgi", "image": "t:1", "port": 8081, "gpus": "cpu",
             "models": ["m"]})),
     "gpu-2: services/1/tunnel_port: gateway port 20000 on gw-1 already used by gpu-2/ollama "
     "(hashed from the service's name: set tunnel_port on one of them)"),
    ("tunnel_port_range_overflow", lambda d: d["gateways"]["gw-1"].update(
        tunnel_port_base=65000, tunnel_port_range=1000),
     "gw-1: tunnel_port_range: tunnel_port_base 65000 + 1000 ports goes past 65535"),
    ("tunnel_port_on_direct", lambda d: svc(d).update(tunnel_port=20001),
     "gpu-1: services/0/tunnel_port: only used on hosts with reach: tunnel"),
    ("duplicate_token", lambda d: d["tokens"].append({"name": "apps"}),
     "tokens: 1/name: 'apps' already used by tokens/0"),
    ("token_name_too_long", lambda d: d["tokens"][0].update(name="x" * 27),
     "tokens: 0/name: should be 1 to 26 bytes"),
    ("token_unknown_model", lambda d: d["tokens"][0].update(models=["gpt-9"]),
     "tokens: 0/models/0: 'gpt-9' is served by no channel"),
    ("duplicate_channel", lambda d: d["channels"].append(dict(d["channels"][0], priority=1)),
     "channels: 1/name: 'openai' already used by channels/0"),
    ("duplicate_group", lambda d: d["channels"][0].update(groups=["default", "default"]),
     "channels: 0/groups/1: 'default' listed twice"),
    ("ollama_without_models", lambda d: d["gpu_hosts"]["gpu-2"]["services"][0].update(models=[]),
     "gpu-2: services/0: serves no model name: list models (the channel needs names)"),
    ("mysql_without_section", lambda d: d["gateways"]["gw-1"]["oneapi"].update(database="mysql"),
     "gw-1: oneapi: database 'mysql' needs a mysql section"),
    ("bad_subnet", lambda d: d["gateways"]["gw-1"]["oneapi"].update(network_subnet="172.30.0.1/24"),
     "gw-1: oneapi/network_subnet: '172.30.0.1/24' is not a CIDR network "
     "(172.30.0.1/24 has host bits set)"),
    ("tls_files_incomplete", lambda d: d["gateways"]["gw-1"]["nginx"].update(tls={"mode": "files"}),
     "gw-1: nginx/tls: mode 'files' needs cert_file and key_file"),
    ("host_routing_needs_names", lambda d: d["relays"]["relay-1"].update(routing="host"),
     "relay-1: providers/0: routing 'host' needs server_name"),
    ("relay_provider_twice", lambda d: d["relays"]["relay-1"]["providers"].append({"kind": "openai"}),
     "relay-1: providers/2: openai is already listed at providers/0"),
    ("relative_data_dir", lambda d: gpu1(d).update(data_dir="opt/llm"),
     "gpu-1: data_dir: 'opt/llm' is not an absolute path"),
    ("empty_stack", lambda d: [d.pop(k) for k in ("gpu_hosts", "gateways", "relays", "channels",
                                                  "tokens")],
     "stack: no hosts declared (gpu_hosts, gateways, relays are all empty)"),
    ("visible_devices_conflict", lambda d: svc(d).update(env={"CUDA_VISIBLE_DEVICES": "1"}),
     "gpu-1: services/0/env/CUDA_VISIBLE_DEVICES: conflicts with the pinned gpus (Compose device "
     "reservations set it); pin GPUs with gpus only"),
    ("tunnel_host_key_required", lambda d: d["gpu_hosts"]["gpu-2"]["ssh"].pop("host_key"),
     "gpu-2: ssh/host_key: required for reach: tunnel (the gateway's tunnel pins the host key)"),
    ("tls_file_missing", lambda d: d["gateways"]["gw-1"]["nginx"].update(
        tls={"mode": "files", "cert_file": "/nonexistent/gw.crt", "key_file": "/etc/hostname"}),
     "gw-1: nginx/tls/cert_file: /nonexistent/gw.crt does not exist"),
    ("trust_ca_missing", lambda d: d["gateways"]["gw-1"]["oneapi"].update(
        trust_ca_files=["/nonexistent/ca.pem"]),
     "gw-1: oneapi/trust_ca_files/0: /nonexistent/ca.pem does not exist"),
    ("trust_ca_not_pem", lambda d: d["gateways"]["gw-1"]["oneapi"].update(
        trust_ca_files=["/etc/hostname"]),
     "gw-1: oneapi/trust_ca_files/0: /etc/hostname holds no PEM certificate"),
    ("top_level_unknown", lambda d: d.update(hostz={}),
     "hostz: unknown key"),
    # Render and the gateway adapter trust the model for these (validate once).
    ("nvidia_devices_conflict", lambda d: svc(d).update(env={"NVIDIA_VISIBLE_DEVICES": "all"}),
     "gpu-1: services/0/env/NVIDIA_VISIBLE_DEVICES: conflicts with the pinned gpus (Compose "
     "device reservations set it); pin GPUs with gpus only"),
    ("known_hosts_missing", lambda d: d["gpu_hosts"]["gpu-2"]["ssh"].update(
        host_key=None, known_hosts="/nonexistent/known_hosts"),
     "gpu-2: ssh/known_hosts: /nonexistent/known_hosts does not exist"),
    ("channel_negative_weight", lambda d: d["channels"][0].update(weight=-1),
     "channels: 0/weight: input should be greater than or equal to 0 (got -1)"),
    ("service_negative_weight", lambda d: svc(d).update(channel={"weight": -1}),
     "gpu-1: services/0/channel/weight: input should be greater than or equal to 0 (got -1)"),
    ("channel_name_spaces", lambda d: d["channels"][0].update(name=" openai"),
     "channels: 0/name: ' openai' is not a channel name (letters, digits and ._-, at most 64; "
     "'/' is reserved for channels derived from services)"),
    ("token_name_line_break", lambda d: d["tokens"][0].update(name="a\nb"),
     "tokens: 0/name: 'a\\nb' holds a control character (line break, tab, NUL, ...)"),
    ("token_expires_epoch", lambda d: d["tokens"][0].update(expires="1970-01-01"),
     "tokens: 0/expires: should be after 1970-01-01 (OneAPI reads 0 as already expired)"),
    ("channel_name_taken_by_service", lambda d: d["channels"][0].update(name="gpu-1/qwen"),
     "channels: 0/name: 'gpu-1/qwen' is not a channel name (letters, digits and ._-, at most 64; "
     "'/' is reserved for channels derived from services)"),
    ("channel_model_comma", lambda d: d["channels"][0].update(models=["gpt-4o,gpt-4"]),
     "channels: 0/models/0: 'gpt-4o,gpt-4' is not a model name (letters, digits and ._:/@+-, "
     "no ',' or spaces)"),
    ("service_group_comma", lambda d: svc(d).update(channel={"groups": ["a,b"]}),
     "gpu-1: services/0/channel/groups/0: 'a,b' is not a group name (letters, digits, '_' and "
     "'-', at most 32)"),
    ("groups_too_long", lambda d: d["channels"][0].update(groups=["g" * 20, "h" * 12]),
     "channels: 0/groups: 32 characters at most, comma-joined (OneAPI's column width)"),
]

# (id, secret, value, expected line): values the model refuses so render need not.
SECRET_CASES = [
    ("relay_secret_charset", "RELAY_KEY", "has space and is long",
     "relay-1: access/shared_secret: secret RELAY_KEY may only hold letters, digits and -_.+/= "
     "(it is compared inside the Nginx config)"),
    # Nginx map keywords (default, hostnames, include, volatile) are all shorter than 16
    ("relay_secret_map_keyword", "RELAY_KEY", "hostnames",
     "relay-1: access/shared_secret: secret RELAY_KEY is shorter than 16 characters (the "
     "relay's shared secret: who holds it may spend the provider keys)"),
    ("secret_line_break", "OPENAI_KEY", "sk-a\nb",
     "channels: 0/key: secret OPENAI_KEY holds a line break (secrets are one line)"),
]


@pytest.mark.parametrize("name,value,expected", [c[1:] for c in SECRET_CASES],
                         ids=[c[0] for c in SECRET_CASES])
def test_secret_value_error_line(base, secrets, name, value, expected):
    secrets[name] = value
    with pytest.raises(StackError) as info:
        parse_stack(base, environ=secrets)
    assert info.value.lines == [expected]


@pytest.mark.parametrize("mutate,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_line(base, secrets, tmp_path, mutate, expected):
    mutate(base)
    with pytest.raises(StackError) as info:
        parse_stack(base, source=tmp_path / "t.yml", environ=secrets)
    assert expected.format(secrets=tmp_path / "t.secrets.env") in info.value.lines


def test_all_errors_reported_at_once(base, secrets):
    svc(base).update(port=70000, tp=1)
    base["relays"]["relay-1"]["access"] = {}
    with pytest.raises(StackError) as info:
        parse_stack(base, environ=secrets)
    assert len(info.value.lines) == 3


def test_root_access_token_too_long(base, secrets):
    secrets["ROOT_TOKEN"] = "roottoken-" + "0123456789" * 3
    with pytest.raises(StackError) as info:
        parse_stack(base, environ=secrets)
    assert info.value.lines == ["gw-1: oneapi/root_access_token: secret ROOT_TOKEN should be 16 to "
                                "32 characters (OneAPI's admin API token; OneAPI stores access "
                                "tokens in char(32))"]


def test_world_readable_secrets_file_refused(base, secrets, tmp_path):
    f = tmp_path / "t.secrets.env"
    f.write_text("".join(f"{k}={v}\n" for k, v in secrets.items()))
    f.chmod(0o644)
    with pytest.raises(StackError) as info:
        parse_stack(base, source=tmp_path / "t.yml", environ={})
    assert info.value.lines == [f"stack: secrets_file: {f} is readable by other users "
                                f"(run: chmod 600 {f})"]


def test_priorities_on_both_allow_shared_names(base, secrets):
    svc(base)["channel"] = {"priority": 5}
    add_service(base, models=["Qwen2.5-7B"], channel={"priority": 1})
    parse_stack(base, environ=secrets)


def test_duplicate_yaml_key_is_an_error(tmp_path):
    from llminfra.model import load_stack

    f = tmp_path / "dup.yml"
    f.write_text("gpu_hosts:\n  a:\n    ssh: {host: x}\n  a:\n    ssh: {host: y}\n")
    with pytest.raises(StackError) as info:
        load_stack(f)
    assert info.value.lines == ["stack: line 4: duplicate key 'a' (first at line 2)"]


def test_cli_check_exits_2_without_traceback(tmp_path):
    f = tmp_path / "bad.yml"
    f.write_text("gpu_hosts:\n  gpu-1:\n    ssh: {host: x}\n    servics: []\n")
    proc = subprocess.run([sys.executable, "-m", "llminfra", "check", str(f)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": "src"})
    assert proc.returncode == 2
    assert proc.stderr.strip() == "gpu-1: servics: unknown key"
    assert "Traceback" not in proc.stdout + proc.stderr


def test_local_files_are_relative_to_the_stack_file(base, secrets, tmp_path):
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\nx\n")
    base["gateways"]["gw-1"]["oneapi"]["trust_ca_files"] = ["certs/ca.pem"]
    stack = parse_stack(base, source=tmp_path / "t.yml", environ=secrets)
    assert stack.gateways["gw-1"].oneapi.trust_ca_files == [str(tmp_path / "certs" / "ca.pem")]
