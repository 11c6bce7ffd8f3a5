"""Invalid and hostile inventories: each is refused by the model with its one exact
`host: path: message` line (exit 2 from `check`), never a traceback, never reaching render or
a host. Built per category (addresses, users, paths, URLs, names, integers, dates, CIDRs,
risky settings, derived names, operator files, YAML and file shapes), not per example.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from llminfra.model import StackError, load_stack, parse_stack


def gpu1(d):
    return d["gpu_hosts"]["gpu-1"]


def gpu2(d):
    return d["gpu_hosts"]["gpu-2"]


def svc(d, i=0, host="gpu-1"):
    return d["gpu_hosts"][host]["services"][i]


def gw(d):
    return d["gateways"]["gw-1"]


def relay(d):
    return d["relays"]["relay-1"]


# fmt: off
CASES = [
    ('ssh_host_shell', lambda d: gpu1(d)["ssh"].update(host="10.0.0.1; rm -rf /"),
     "gpu-1: ssh/host: '10.0.0.1; rm -rf /' is not a host name or IP address"),
    ('ssh_host_space', lambda d: gpu1(d)["ssh"].update(host="gpu 1.example.com"),
     "gpu-1: ssh/host: 'gpu 1.example.com' is not a host name or IP address"),
    ('ssh_host_bad_ipv4', lambda d: gpu1(d)["ssh"].update(host="10.0.0.256"),
     "gpu-1: ssh/host: '10.0.0.256' is not a host name or IP address"),
    ('ssh_host_bracketed_v6', lambda d: gpu1(d)["ssh"].update(host="[fd00::1]"),
     "gpu-1: ssh/host: '[fd00::1]' is not an IP address (e.g. 10.0.0.5 or fd00::5)"),
    ('ssh_host_empty', lambda d: gpu1(d)["ssh"].update(host=""),
     'gpu-1: ssh/host: should not be empty'),
    ('ssh_host_label_dash', lambda d: gpu1(d)["ssh"].update(host="-gpu.example.com"),
     "gpu-1: ssh/host: '-gpu.example.com' is not a host name or IP address"),
    ('ssh_host_newline', lambda d: gpu1(d)["ssh"].update(host="gpu1\nProxyCommand x"),
     "gpu-1: ssh/host: 'gpu1\\nProxyCommand x' holds a control character (line break, tab, NUL, ...)"),
    ('ssh_user_root_shell', lambda d: gpu1(d)["ssh"].update(user="root;id"),
     "gpu-1: ssh/user: 'root;id' is not a user name (lower-case letters, digits, '_' and '-', at most 32, starting with a letter or '_')"),
    ('ssh_user_upper', lambda d: gpu1(d)["ssh"].update(user="Admin"),
     "gpu-1: ssh/user: 'Admin' is not a user name (lower-case letters, digits, '_' and '-', at most 32, starting with a letter or '_')"),
    ('ssh_port_bool', lambda d: gpu1(d)["ssh"].update(port=True),
     'gpu-1: ssh/port: input should be a valid integer (got True)'),
    ('ssh_port_float', lambda d: gpu1(d)["ssh"].update(port=22.0),
     'gpu-1: ssh/port: input should be a valid integer (got 22.0)'),
    ('ssh_port_string', lambda d: gpu1(d)["ssh"].update(port="22"),
     "gpu-1: ssh/port: input should be a valid integer (got '22')"),
    ('ssh_port_zero', lambda d: gpu1(d)["ssh"].update(port=0),
     'gpu-1: ssh/port: input should be greater than or equal to 1 (got 0)'),
    ('host_key_wrong_type', lambda d: gpu1(d)["ssh"].update(host_key="ssh-dss AAAAB3NzaC1kc3M="),
     "gpu-1: ssh/host_key: should be a public host key line such as 'ssh-ed25519 AAAA...' (see /etc/ssh/ssh_host_ed25519_key.pub on the host)"),
    ('host_key_mismatched_blob', lambda d: gpu1(d)["ssh"].update(host_key="ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3QtaG9zdC1rZXktMTAwMDAwMDAwMDAwMDAwMDAw"),
     "gpu-1: ssh/host_key: the key data is a 'ssh-ed25519' key, not ssh-rsa"),
    ('host_key_truncated', lambda d: gpu1(d)["ssh"].update(host_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Qt"),
     'gpu-1: ssh/host_key: the ssh-ed25519 key data has the wrong length (copy the whole line)'),
    ('address_url', lambda d: gpu1(d).update(address="http://10.0.0.1"),
     "gpu-1: address: 'http://10.0.0.1' is not an IP address (e.g. 10.0.0.5 or fd00::5)"),
    ('data_dir_dotdot', lambda d: gpu1(d).update(data_dir="/opt/../../etc"),
     "gpu-1: data_dir: '/opt/../../etc' is not a normalized path (no '..', '.' or '//')"),
    ('data_dir_space', lambda d: gpu1(d).update(data_dir="/opt/llm infra"),
     "gpu-1: data_dir: '/opt/llm infra': a path may hold letters, digits and ._+@%=,/- only"),
    ('data_dir_colon', lambda d: gpu1(d).update(data_dir="/opt/a:b"),
     "gpu-1: data_dir: '/opt/a:b': a path may hold letters, digits and ._+@%=,/- only"),
    ('data_dir_double_slash', lambda d: gpu1(d).update(data_dir="//opt/llm"),
     "gpu-1: data_dir: '//opt/llm' is not a normalized path (no '..', '.' or '//')"),
    ('data_dir_dot', lambda d: gpu1(d).update(data_dir="/opt/./llm"),
     "gpu-1: data_dir: '/opt/./llm' is not a normalized path (no '..', '.' or '//')"),
    ('data_dir_nul', lambda d: gpu1(d).update(data_dir="/opt/llm\x00x"),
     "gpu-1: data_dir: '/opt/llm\\x00x' holds a control character (line break, tab, NUL, ...)"),
    ('gpus_count_bool', lambda d: gpu1(d).update(gpus=True),
     'gpu-1: gpus: input should be a valid integer (got True)'),
    ('gpus_negative', lambda d: gpu1(d).update(gpus=-1),
     'gpu-1: gpus: input should be greater than or equal to 0 (got -1)'),
    ('cache_dir_relative', lambda d: svc(d).update(cache_dir="models"),
     "gpu-1: services/0/cache_dir: 'models' is not an absolute path"),
    ('service_bind_hostname', lambda d: svc(d).update(bind="gpu-1.local"),
     "gpu-1: services/0/bind: 'gpu-1.local' is not an IP address (e.g. 10.0.0.5 or fd00::5)"),
    ('service_bind_with_port', lambda d: svc(d).update(bind="0.0.0.0:8000"),
     "gpu-1: services/0/bind: '0.0.0.0:8000' is not an IP address (e.g. 10.0.0.5 or fd00::5)"),
    ('service_name_upper', lambda d: svc(d).update(name="Qwen"),
     "gpu-1: services/0/name: 'Qwen' is not a valid name (lower-case letters, digits and '-', at most 40)"),
    ('service_name_slash', lambda d: svc(d).update(name="a/b"),
     "gpu-1: services/0/name: 'a/b' is not a valid name (lower-case letters, digits and '-', at most 40)"),
    ('image_shell', lambda d: svc(d).update(image="vllm/vllm-openai:v1 && curl x|sh"),
     "gpu-1: services/0/image: 'vllm/vllm-openai:v1 && curl x|sh' is not an image reference (registry/name[:tag][@sha256:...], lower-case name)"),
    ('image_upper_repo', lambda d: svc(d).update(image="VLLM/vllm"),
     "gpu-1: services/0/image: 'VLLM/vllm' is not an image reference (registry/name[:tag][@sha256:...], lower-case name)"),
    ('image_newline', lambda d: svc(d).update(image="vllm\n  privileged: true"),
     "gpu-1: services/0/image: 'vllm\\n  privileged: true' holds a control character (line break, tab, NUL, ...)"),
    ('model_dotdot', lambda d: svc(d).update(model="../../etc/passwd"),
     "gpu-1: services/0/model: '../../etc/passwd' is not a model id (org/name) or an absolute path"),
    ('model_comma', lambda d: svc(d).update(model="Qwen/Qwen2.5-7B,other"),
     "gpu-1: services/0/model: 'Qwen/Qwen2.5-7B,other' is not a model id (org/name) or an absolute path"),
    ('served_name_comma', lambda d: svc(d).update(served_names=["qwen,gpt-4o"]),
     "gpu-1: services/0/served_names/0: 'qwen,gpt-4o' is not a model name (letters, digits and ._:/@+-, no ',' or spaces)"),
    ('served_name_space', lambda d: svc(d).update(served_names=["qwen 7b"]),
     "gpu-1: services/0/served_names/0: 'qwen 7b' is not a model name (letters, digits and ._:/@+-, no ',' or spaces)"),
    ('served_name_control', lambda d: svc(d).update(served_names=["qwen\u0007"]),
     "gpu-1: services/0/served_names/0: 'qwen\\x07' holds a control character (line break, tab, NUL, ...)"),
    ('served_name_too_long', lambda d: svc(d).update(served_names=["q" * 129]),
     'gpu-1: services/0/served_names/0: should be at most 128 characters'),
    ('served_name_leading_dash', lambda d: svc(d).update(served_names=["-qwen"]),
     "gpu-1: services/0/served_names/0: '-qwen' is not a model name (letters, digits and ._:/@+-, no ',' or spaces)"),
    ('served_name_int', lambda d: svc(d).update(served_names=[7]),
     'gpu-1: services/0/served_names/0: input should be a valid string (got 7)'),
    ('ollama_model_comma', lambda d: svc(d, 0, "gpu-2").update(models=["llama3:8b,qwen"]),
     "gpu-2: services/0/models/0: 'llama3:8b,qwen' is not a model name (letters, digits and ._:/@+-, no ',' or spaces)"),
    ('env_key_dash', lambda d: svc(d).update(env={"MY-VAR": "1"}),
     "gpu-1: services/0/env/MY-VAR: 'MY-VAR' is not an environment variable name (letters, digits, '_')"),
    ('env_value_newline', lambda d: svc(d).update(env={"A": "1\nB=2"}),
     "gpu-1: services/0/env/A: '1\\nB=2' holds a control character (line break, tab, NUL, ...)"),
    ('env_value_int', lambda d: svc(d).update(env={"A": 1}),
     'gpu-1: services/0/env/A: input should be a valid string (got 1)'),
    ('extra_arg_newline', lambda d: svc(d).update(extra_args=["--x\n--y"]),
     "gpu-1: services/0/extra_args/0: '--x\\n--y' holds a control character (line break, tab, NUL, ...)"),
    ('lora_value_comma', lambda d: svc(d).update(lora_modules={"sql": "a,b"}),
     "gpu-1: services/0/lora_modules/sql: 'a,b' is not a model id (org/name) or an absolute path"),
    ('lora_name_equals', lambda d: svc(d).update(lora_modules={"a=b": "/x"}),
     "gpu-1: services/0/lora_modules/a=b: 'a=b' is not a model name (letters, digits and ._:/@+-, no ',' or spaces)"),
    ('quantization_shell', lambda d: svc(d).update(quantization="awq --trust-remote-code"),
     "gpu-1: services/0/quantization: 'awq --trust-remote-code' is not a lower-case word (letters, digits, '_' and '-', starting with a letter or digit)"),
    ('shm_size_words', lambda d: svc(d).update(shm_size="lots"),
     "gpu-1: services/0/shm_size: 'lots' is not a size such as 64m or 16g"),
    ('gpu_memory_bool', lambda d: svc(d).update(gpu_memory_utilization=True),
     'gpu-1: services/0/gpu_memory_utilization: input should be a valid number (got True)'),
    ('max_model_len_string', lambda d: svc(d).update(max_model_len="32768"),
     "gpu-1: services/0/max_model_len: input should be a valid integer (got '32768')"),
    ('ready_timeout_float', lambda d: svc(d).update(ready_timeout=60.5),
     'gpu-1: services/0/ready_timeout: input should be a valid integer (got 60.5)'),
    ('gpu_index_bool', lambda d: svc(d).update(gpus=[True, 1]),
     'gpu-1: services/0/gpus/0: input should be a valid integer (got True)'),
    ('keep_alive_words', lambda d: svc(d, 0, "gpu-2").update(keep_alive="forever"),
     "gpu-2: services/0/keep_alive: 'forever' is not a duration such as 5m, 1h30m, 0 or -1"),
    ('channel_group_comma', lambda d: svc(d).update(channel={"groups": ["default,vip"]}),
     "gpu-1: services/0/channel/groups/0: 'default,vip' is not a group name (letters, digits, '_' and '-', at most 32)"),
    ('channel_priority_bool', lambda d: svc(d).update(channel={"priority": True}),
     'gpu-1: services/0/channel/priority: input should be a valid integer (got True)'),
    ('channel_mapping_comma', lambda d: svc(d).update(channel={"model_mapping": {"a,b": "c"}}),
     "gpu-1: services/0/channel/model_mapping/a,b: 'a,b' is not a model name (letters, digits and ._:/@+-, no ',' or spaces)"),
    ('gpus_cpu_typo', lambda d: svc(d).update(gpus="cuda"),
     "gpu-1: services/0/gpus: input should be 'cpu' (got 'cuda')"),
    ('gpus_dict', lambda d: svc(d).update(gpus={"a": 1}),
     "gpu-1: services/0/gpus: input should be a valid list or 'cpu'"),
    ('quota_negative', lambda d: d["tokens"][0].update(quota=-5),
     "tokens: 0/quota: should be >= 0 or 'unlimited'"),
    ('quota_words', lambda d: d["tokens"][0].update(quota="lots"),
     "tokens: 0/quota: input should be 'unlimited' (got 'lots')"),
    ('quota_bool', lambda d: d["tokens"][0].update(quota=True),
     "tokens: 0/quota: input should be a valid integer or 'unlimited' (got True)"),
    ('quota_float', lambda d: d["tokens"][0].update(quota=1.5),
     "tokens: 0/quota: input should be a valid integer or 'unlimited' (got 1.5)"),
    ('server_name_space', lambda d: gw(d)["nginx"].update(server_name="api example.com"),
     "gw-1: nginx/server_name: 'api example.com' is not a server name (a DNS name or an IPv4 address)"),
    ('server_name_semicolon', lambda d: gw(d)["nginx"].update(server_name="api.test; return 200"),
     "gw-1: nginx/server_name: 'api.test; return 200' is not a server name (a DNS name or an IPv4 address)"),
    ('server_name_wildcard', lambda d: gw(d)["nginx"].update(server_name="*.example.com"),
     "gw-1: nginx/server_name: '*.example.com' is not a server name (a DNS name or an IPv4 address)"),
    ('server_name_ipv6', lambda d: gw(d)["nginx"].update(server_name="fd00::1"),
     "gw-1: nginx/server_name: 'fd00::1' is not a server name (a DNS name or an IPv4 address)"),
    ('server_name_url', lambda d: gw(d)["nginx"].update(server_name="https://api.test"),
     "gw-1: nginx/server_name: 'https://api.test' is not a server name (a DNS name or an IPv4 address)"),
    ('body_size_words', lambda d: gw(d)["nginx"].update(client_max_body_size="64m; deny all"),
     "gw-1: nginx/client_max_body_size: '64m; deny all' is not a size such as 64m or 16g"),
    ('read_timeout_bool', lambda d: gw(d)["nginx"].update(read_timeout=False),
     'gw-1: nginx/read_timeout: input should be a valid integer (got False)'),
    ('admin_allow_host_bits', lambda d: gw(d)["nginx"].update(admin_allow_cidrs=["10.0.0.1/8"]),
     "gw-1: nginx/admin_allow_cidrs/0: '10.0.0.1/8' has host bits set (did you mean 10.0.0.0/8?)"),
    ('admin_allow_not_cidr', lambda d: gw(d)["nginx"].update(admin_allow_cidrs=["office"]),
     "gw-1: nginx/admin_allow_cidrs/0: 'office' is not a CIDR (e.g. 203.0.113.0/24)"),
    ('admin_allow_everyone', lambda d: gw(d)["nginx"].update(admin_allow_cidrs=["0.0.0.0/0"]),
     "gw-1: nginx/admin_allow_cidrs/0: 0.0.0.0/0 serves the gateway's web UI and admin API to every address; refused unless the host lists public_admin in allow_risky"),
    ('admin_bind_public', lambda d: gw(d)["oneapi"].update(admin_bind="0.0.0.0"),
     "gw-1: oneapi/admin_bind: 0.0.0.0 publishes the oneapi admin port beyond the gateway's loopback; refused unless the host lists public_admin in allow_risky"),
    ('admin_bind_hostname', lambda d: gw(d)["oneapi"].update(admin_bind="localhost"),
     "gw-1: oneapi/admin_bind: 'localhost' is not an IP address (e.g. 10.0.0.5 or fd00::5)"),
    ('oneapi_image_with_tag', lambda d: gw(d)["oneapi"].update(image="justsong/one-api:latest"),
     "gw-1: oneapi/image: 'justsong/one-api:latest' is not an image name without tag (lower-case)"),
    ('oneapi_version_shell', lambda d: gw(d)["oneapi"].update(version="v1$(id)"),
     "gw-1: oneapi/version: 'v1$(id)' is not an image tag (letters, digits, '_', '.', '-')"),
    ('oneapi_version_float', lambda d: gw(d)["oneapi"].update(version=0.6),
     'gw-1: oneapi/version: input should be a valid string (got 0.6)'),
    ('oneapi_data_dir_rel', lambda d: gw(d)["oneapi"].update(data_dir="oneapi"),
     "gw-1: oneapi/data_dir: 'oneapi' is not an absolute path"),
    ('oneapi_env_newline', lambda d: gw(d)["oneapi"].update(env={"X": "a\nb"}),
     "gw-1: oneapi/env/X: 'a\\nb' holds a control character (line break, tab, NUL, ...)"),
    ('oneapi_subnet_v6_hostbits', lambda d: gw(d)["oneapi"].update(network_subnet="fd00::1/64"),
     "gw-1: oneapi/network_subnet: 'fd00::1/64' is not a CIDR network (fd00::1/64 has host bits set)"),
    ('tunnel_user_root', lambda d: gw(d).update(tunnel_user="root"),
     "gw-1: tunnel_user: 'root' is a login user on gpu-2: the tunnel key goes into its authorized_keys; refused unless the host lists login_tunnel_user in allow_risky"),
    ('tunnel_user_ssh_user', lambda d: (gw(d).update(tunnel_user="ops"), gpu2(d)["ssh"].update(user="ops", sudo=True)),
     "gw-1: tunnel_user: 'ops' is a login user on gpu-2: the tunnel key goes into its authorized_keys; refused unless the host lists login_tunnel_user in allow_risky"),
    ('tunnel_user_ubuntu', lambda d: gw(d).update(tunnel_user="ubuntu"),
     "gw-1: tunnel_user: 'ubuntu' is a login user on gpu-2: the tunnel key goes into its authorized_keys; refused unless the host lists login_tunnel_user in allow_risky"),
    ('tunnel_user_shell', lambda d: gw(d).update(tunnel_user="x;reboot"),
     "gw-1: tunnel_user: 'x;reboot' is not a user name (lower-case letters, digits, '_' and '-', at most 32, starting with a letter or '_')"),
    ('tunnel_port_base_string', lambda d: gw(d).update(tunnel_port_base="20000"),
     "gw-1: tunnel_port_base: input should be a valid integer (got '20000')"),
    ('risky_unused_optin', lambda d: gw(d).update(allow_risky=["public_admin"]),
     "gw-1: allow_risky/0: public_admin: nothing on this host needs it (the gateway engine's admin port or UI is reachable beyond its loopback); remove it"),
    ('risky_unknown_name', lambda d: gw(d).update(allow_risky=["everything"]),
     "gw-1: allow_risky/0: input should be 'public_admin' or 'login_tunnel_user' (got 'everything')"),
    ('risky_wrong_host_kind', lambda d: gpu1(d).update(allow_risky=["open_relay"]),
     "gpu-1: allow_risky/0: input should be 'public_model_port' (got 'open_relay')"),
    ('public_ollama_no_key', lambda d: gpu2(d).update(reach="direct"),
     'gpu-2: services/0/bind: port 11434 is published on 0.0.0.0 and the service asks for no api_key: anyone who reaches the host can use the model; refused unless the host lists public_model_port in allow_risky'),
    ('public_v6_bind_no_key', lambda d: svc(d).update(api_key=None, bind="::"),
     'gpu-1: services/0/bind: port 8000 is published on :: and the service asks for no api_key: anyone who reaches the host can use the model; refused unless the host lists public_model_port in allow_risky'),
    ('global_bind_no_key', lambda d: svc(d).update(api_key=None, bind="1.2.3.4"),
     'gpu-1: services/0/bind: port 8000 is published on 1.2.3.4 and the service asks for no api_key: anyone who reaches the host can use the model; refused unless the host lists public_model_port in allow_risky'),
    ('relay_open_v4', lambda d: relay(d)["access"].update(allow_cidrs=["0.0.0.0/0"]),
     'relay-1: access/allow_cidrs/0: 0.0.0.0/0 lets every address use the relay (and the provider keys behind it); refused unless the host lists open_relay in allow_risky'),
    ('relay_open_v6', lambda d: relay(d)["access"].update(allow_cidrs=["::/0"]),
     'relay-1: access/allow_cidrs/0: ::/0 lets every address use the relay (and the provider keys behind it); refused unless the host lists open_relay in allow_risky'),
    ('relay_cidr_host_bits', lambda d: relay(d)["access"].update(allow_cidrs=["10.0.0.3/24"]),
     "relay-1: access/allow_cidrs: entry 0: '10.0.0.3/24' has host bits set (did you mean 10.0.0.0/24?)"),
    ('relay_cidr_v6_host_bits', lambda d: relay(d)["access"].update(allow_cidrs=["2001:db8::1/32"]),
     "relay-1: access/allow_cidrs: entry 0: '2001:db8::1/32' has host bits set (did you mean 2001:db8::/32?)"),
    ('relay_cidr_no_prefix', lambda d: relay(d)["access"].update(allow_cidrs=["10.0.0.3"]),
     "relay-1: access/allow_cidrs: entry 0: '10.0.0.3' is not a CIDR (e.g. 203.0.113.0/24)"),
    ('relay_cidr_int', lambda d: relay(d)["access"].update(allow_cidrs=[10]),
     'relay-1: access/allow_cidrs/0: input should be a valid string (got 10)'),
    ('relay_header_space', lambda d: relay(d)["access"].update(header="X Relay"),
     "relay-1: access/header: 'X Relay' is not an HTTP header name (letters, digits and '-')"),
    ('relay_header_underscore', lambda d: relay(d)["access"].update(header="X_Relay_Key"),
     "relay-1: access/header: 'X_Relay_Key' is not an HTTP header name (letters, digits and '-')"),
    ('relay_upstream_path', lambda d: relay(d)["providers"][0].update(upstream="api.openai.com/v1"),
     "relay-1: providers/0/upstream: 'api.openai.com/v1': give the host (and :port) only, no scheme or path"),
    ('relay_upstream_v6', lambda d: relay(d)["providers"][0].update(upstream="[2001:db8::1]:443"),
     "relay-1: providers/0/upstream: '[2001:db8::1]:443': use a DNS name or IPv4 address (with an optional :port)"),
    ('relay_upstream_port_range', lambda d: relay(d)["providers"][0].update(upstream="api.openai.com:99999"),
     "relay-1: providers/0/upstream: 'api.openai.com:99999': port should be 1..65535"),
    ('relay_prefix_regex', lambda d: relay(d)["providers"][0].update(prefix="/open(ai)?"),
     "relay-1: providers/0/prefix: '/open(ai)?' is not a URL path prefix such as /openai"),
    ('relay_prefix_root', lambda d: relay(d)["providers"][0].update(prefix="/"),
     "relay-1: providers/0/prefix: '/' is not a URL path prefix such as /openai"),
    ('relay_prefix_traversal', lambda d: relay(d)["providers"][0].update(prefix="/a/../b"),
     "relay-1: providers/0/prefix: '/a/../b' is not a normalized path (no '.' or '..')"),
    ('relay_resolver_name_space', lambda d: relay(d).update(resolver=["1.1.1.1 ipv6=on"]),
     "relay-1: resolver/0: '1.1.1.1 ipv6=on' is not a host name or IP address"),
    ('relay_server_name_dup_host_routing', lambda d: (relay(d).update(routing="host"), relay(d)["providers"][0].update(server_name="x.test"), relay(d)["providers"][1].update(server_name="x.test")),
     "relay-1: providers/1/server_name: 'x.test' already used by providers/0 (each server name gets its own site and certificate)"),
    ('acme_email_bad', lambda d: gw(d)["nginx"].update(tls={"mode": "acme", "acme_email": "ops at example"}),
     "gw-1: nginx/tls/acme_email: 'ops at example' is not an e-mail address"),
    ('tls_cert_dir', lambda d: gw(d)["nginx"].update(tls={"mode": "files", "cert_file": "/etc", "key_file": "/etc"}),
     'gw-1: nginx/tls/cert_file: /etc is a directory, not a file'),
    ('mirror_url_no_scheme', lambda d: d.update(mirrors={"huggingface_endpoint": "hf-mirror.com"}),
     "mirrors: huggingface_endpoint: 'hf-mirror.com' is not a URL with scheme http:// or https://"),
    ('mirror_url_ftp', lambda d: d.update(mirrors={"pip_index": "ftp://pypi.example.com/simple"}),
     "mirrors: pip_index: 'ftp://pypi.example.com/simple' is not a URL with scheme http:// or https://"),
    ('apt_proxy_injection', lambda d: d.update(mirrors={"apt_proxy": 'http://p:3128";\nAPT::Update::Pre-Invoke {"id"'}),
     'mirrors: apt_proxy: \'http://p:3128";\\nAPT::Update::Pre-Invoke {"id"\' holds a control character (line break, tab, NUL, ...)'),
    ('apt_proxy_quote', lambda d: d.update(mirrors={"apt_proxy": 'http://p:3128";'}),
     'mirrors: apt_proxy: \'http://p:3128";\': \'p:3128";\' is not a host or host:port'),
    ('apt_proxy_credentials', lambda d: d.update(mirrors={"apt_proxy": "http://user:pw@p:3128"}),
     "mirrors: apt_proxy: 'http://user:pw@p:3128': credentials do not belong in a URL here (use a secret)"),
    ('apt_proxy_socks', lambda d: d.update(mirrors={"apt_proxy": "socks5h://p:1080"}),
     "mirrors: apt_proxy: 'socks5h://p:1080' is not a URL with scheme http:// or https://"),
    ('registry_mirror_space', lambda d: d.update(mirrors={"registry_mirrors": ["https://a.b c"]}),
     "mirrors: registry_mirrors/0: 'https://a.b c': 'a.b c' is not a host or host:port"),
    ('docker_repo_query', lambda d: d.update(mirrors={"docker_ce_repo": "https://x.test/linux?x=1"}),
     "mirrors: docker_ce_repo: 'https://x.test/linux?x=1': the path may hold letters, digits and ._~/%+=- only"),
    ('image_rewrite_bad', lambda d: d.update(mirrors={"image_rewrite": {"ghcr.io": "GHCR mirror"}}),
     "mirrors: image_rewrite/ghcr.io: 'GHCR mirror' is not a registry (host[:port][/path], lower-case)"),
    ('modelscope_scheme', lambda d: d.update(mirrors={"modelscope_endpoint": "https://modelscope.cn"}),
     "mirrors: modelscope_endpoint: 'https://modelscope.cn': give the host (and :port) only, no scheme or path"),
    ('channel_name_slash', lambda d: d["channels"][0].update(name="a/b"),
     "channels: 0/name: 'a/b' is not a channel name (letters, digits and ._-, at most 64; '/' is reserved for channels derived from services)"),
    ('channel_base_url_no_scheme', lambda d: d["channels"][0].update(relay=None, base_url="api.openai.com/v1"),
     "channels: 0/base_url: 'api.openai.com/v1' is not a URL with scheme http:// or https://"),
    ('channel_base_url_js', lambda d: d["channels"][0].update(relay=None, base_url="javascript:alert(1)"),
     "channels: 0/base_url: 'javascript:alert(1)' is not a URL with scheme http:// or https://"),
    ('channel_relay_ref_bad', lambda d: d["channels"][0].update(relay="relay-1"),
     "channels: 0/relay: 'relay-1' is not a relay reference <relay host>/<provider kind>"),
    ('channel_weight_negative', lambda d: d["channels"][0].update(weight=-1),
     'channels: 0/weight: input should be greater than or equal to 0 (got -1)'),
    ('channel_models_empty_name', lambda d: d["channels"][0].update(models=[""]),
     'channels: 0/models/0: should not be empty'),
    ('token_expires_impossible', lambda d: d["tokens"][0].update(expires="2027-02-30"),
     "tokens: 0/expires: '2027-02-30' is not a real date"),
    ('token_expires_datetime', lambda d: d["tokens"][0].update(expires="2027-02-01T00:00:00"),
     "tokens: 0/expires: '2027-02-01T00:00:00' is not a date (YYYY-MM-DD)"),
    ('token_expires_int', lambda d: d["tokens"][0].update(expires=20270101),
     'tokens: 0/expires: input should be a valid date (got 20270101)'),
    ('token_subnet_host_bits', lambda d: d["tokens"][0].update(subnets=["192.168.1.1/24"]),
     "tokens: 0/subnets: entry 0: '192.168.1.1/24' has host bits set (did you mean 192.168.1.0/24?)"),
    ('token_subnet_v6_bad', lambda d: d["tokens"][0].update(subnets=["fe80::zz/64"]),
     "tokens: 0/subnets: entry 0: 'fe80::zz/64' is not a CIDR"),
    ('token_model_comma', lambda d: d["tokens"][0].update(models=["gpt-4o,qwen"]),
     "tokens: 0/models/0: 'gpt-4o,qwen' is not a model name (letters, digits and ._:/@+-, no ',' or spaces)"),
    ('token_name_quote', lambda d: d["tokens"][0].update(name="it's"),
     'tokens: 0/name: "it\'s": quotes and backslashes are not allowed'),
    ('service_env_shadows_api_key', lambda d: svc(d).update(env={"VLLM_API_KEY": ""}),
     'gpu-1: services/0/env/VLLM_API_KEY: set from a secret in the service\'s secrets file; an env entry would replace it'),
    ('oneapi_env_shadows_session', lambda d: gw(d)["oneapi"].update(env={"SESSION_SECRET": "x"}),
     "gw-1: oneapi/env/SESSION_SECRET: set from a secret in the engine's secrets file; an env entry would replace it"),
    ('token_name_tab', lambda d: d["tokens"][0].update(name="a\tb"),
     "tokens: 0/name: 'a\\tb' holds a control character (line break, tab, NUL, ...)"),
    ('stack_name_upper', lambda d: d.update(name="Prod"),
     "name: 'Prod' is not a valid name (lower-case letters, digits and '-', at most 40)"),
    ('secrets_file_nul', lambda d: d.update(secrets_file="x\x00y"),
     "secrets_file: 'x\\x00y' holds a control character (line break, tab, NUL, ...)"),
    ('hosts_not_mapping', lambda d: d.update(gpu_hosts=["gpu-1"]),
     'gpu_hosts: input should be a valid dictionary'),
    ('host_key_int', lambda d: d["gpu_hosts"].update({7: gpu1(d)}),
     '7: input should be a valid string (got 7)'),
    ('services_not_list', lambda d: gpu1(d).update(services={"kind": "vllm"}),
     'gpu-1: services: input should be a valid list'),
    ('tunnel_unit_collision', lambda d: (d["gpu_hosts"].update({"gpu-2-a": {"ssh": {"host": "10.0.0.5", "host_key": gpu2(d)["ssh"]["host_key"]}, "reach": "tunnel", "services": [{"kind": "ollama", "name": "b", "gpus": "cpu", "models": ["m1"]}]}, "gpu-2": {**gpu2(d), "services": [{"kind": "ollama", "name": "a-b", "gpus": "cpu", "models": ["m2"]}]}})),
     'gpu-2-a: services/0/name: tunnel unit llminfra-tunnel-gpu-2-a-b on gw-1 is also derived from gpu-2/a-b: rename one of the services'),
    ('key_password_without_key', lambda d: gpu1(d)["ssh"].update(key_password="KEY_PW"),
     'gpu-1: ssh/key_password: only used with key'),
    ('known_hosts_missing', lambda d: gpu1(d)["ssh"].update(known_hosts="/nonexistent/known_hosts"),
     'gpu-1: ssh/known_hosts: /nonexistent/known_hosts does not exist'),
    ('ssh_key_missing', lambda d: gpu1(d)["ssh"].update(key="/nonexistent/id_ed25519"),
     'gpu-1: ssh/key: /nonexistent/id_ed25519 does not exist'),
    ('ssh_key_dir', lambda d: gpu1(d)["ssh"].update(key="/etc"),
     'gpu-1: ssh/key: /etc is a directory, not a file'),
    ('ssh_key_not_key', lambda d: gpu1(d)["ssh"].update(key="/etc/hostname"),
     'gpu-1: ssh/key: /etc/hostname holds no private key (-----BEGIN ... PRIVATE KEY-----)'),
    ('volume_relative', lambda d: d["gpu_hosts"]["gpu-1"]["services"].append({"kind": "openai", "name": "x", "image": "x:1", "port": 9000, "gpus": "cpu", "models": ["m"], "bind": "10.0.0.1", "volumes": ["models:/models"]}),
     "gpu-1: services/1/volumes/0: 'models' is not an absolute path"),
    ('volume_mode', lambda d: d["gpu_hosts"]["gpu-1"]["services"].append({"kind": "openai", "name": "x", "image": "x:1", "port": 9000, "gpus": "cpu", "models": ["m"], "bind": "10.0.0.1", "volumes": ["/a:/b:z"]}),
     "gpu-1: services/1/volumes/0: '/a:/b:z' is not /host/path:/container/path[:ro|:rw]"),

]
# fmt: on


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_value_is_one_exact_line(base, secrets, mutate, expected):
    mutate(base)
    with pytest.raises(StackError) as info:
        parse_stack(base, environ=secrets)
    assert expected in info.value.lines
    assert all(": " in line for line in info.value.lines)


def test_registry_with_port_is_an_image_reference(base, secrets):
    svc(base)["image"] = "registry.internal:5000/vllm/vllm-openai:v0.6.6"
    gw(base)["oneapi"]["image"] = "registry.internal:5000/justsong/one-api"
    parse_stack(base, environ=secrets)


def test_case_names_are_unique_and_many():
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names)) and len(names) >= 70


# -- whole files: shapes and sizes YAML can take ----------------------------------------------

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))

# fmt: off
FILES = [
    ("not_utf8", b"gpu_hosts:\n  gpu-1: {ssh: {host: \xff\xfe}}\n", "stack: {path} is not UTF-8 text (byte 33)"),
    ("yaml_list", b"- gpu-1\n- gpu-2\n", "stack: the file should hold a mapping (gpu_hosts, gateways, relays, ...)"),
    ("yaml_scalar", b"just a string\n", "stack: the file should hold a mapping (gpu_hosts, gateways, relays, ...)"),
    ("empty_file", b"", "stack: the file should hold a mapping (gpu_hosts, gateways, relays, ...)"),
    ("deep_nesting", b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n", "stack: line 1: nested deeper than 64 levels"),
    ("deep_mappings", b"".join(b"  " * i + b"k:\n" for i in range(200)), "stack: line 64: nested deeper than 64 levels"),
    ("alias_bomb", BOMB.encode(), "stack: the document expands to more than 200000 values (aliases repeating aliases?)"),
    ("recursive_alias", b"a: &a [1, *a]\n", "stack: line 1: an alias refers to the node that contains it"),
    ("python_tag", b"name: !!python/object/apply:os.system [id]\n", "stack: line 1: invalid YAML (could not determine a constructor for the tag 'tag:yaml.org,2002:python/object/apply:os.system')"),
    ("bad_explicit_int", b"name: !!int abc\n", "stack: invalid YAML value (invalid literal for int() with base 10)"),
    ("huge_int", b"name: " + b"9" * 5000 + b"\n", "stack: invalid YAML value (Exceeds the limit (4300 digits) for integer string conversion)"),
    ("duplicate_key", b"name: a\nname: b\n", "stack: line 2: duplicate key 'name' (first at line 1)"),
    ("unhashable_key", b"? [a, b]\n: c\n", "stack: line 1: a mapping key should be a plain value, not a list or mapping"),
    ("tab_indent", b"gpu_hosts:\n\tgpu-1: {}\n", "stack: line 2: invalid YAML (found character '\\t' that cannot start any token)"),
    ("nul_byte", b"name: a\x00b\n", "stack: invalid YAML (unacceptable character #x0000: special characters are not allowed)"),
    ("unclosed_quote", b"name: 'prod\n", "stack: line 2: invalid YAML (found unexpected end of stream)"),
    ("impossible_date_key", b"tokens:\n  - {name: t, expires: 2027-02-30}\n", "tokens: 0/expires: '2027-02-30' is not a real date"),
    ("huge_file", b"# " + b"x" * (4 * 1024 * 1024) + b"\n", "stack: {path} is larger than 4 MiB"),
]
# fmt: on


@pytest.mark.parametrize(("content", "expected"), [c[1:] for c in FILES], ids=[c[0] for c in FILES])
def test_hostile_file_is_one_exact_line(tmp_path, content, expected):
    path = tmp_path / "stack.yml"
    path.write_bytes(content)
    with pytest.raises(StackError) as info:
        load_stack(path, environ={})
    assert info.value.lines[0] == expected.format(path=path)


def test_stack_path_that_is_a_fifo(tmp_path):
    fifo = tmp_path / "stack.yml"
    os.mkfifo(fifo)
    with pytest.raises(StackError) as info:
        load_stack(fifo, environ={})
    assert info.value.lines == [f"stack: {fifo} is not a regular file"]


def test_stack_path_that_is_a_directory_or_missing(tmp_path):
    for path, message in ((tmp_path, f"stack: {tmp_path} is a directory, not a file"),
                          (tmp_path / "nope.yml", f"stack: cannot read {tmp_path / 'nope.yml'}: "
                                                  "No such file or directory"),
                          (Path("/etc/hostname/x.yml"), "stack: cannot read /etc/hostname/x.yml: "
                                                        "Not a directory")):
        with pytest.raises(StackError) as info:
            load_stack(path, environ={})
        assert info.value.lines == [message]


# -- secrets files and operator-side SSH files --------------------------------------------------

@pytest.fixture
def stack_file(tmp_path, base):
    import yaml

    path = tmp_path / "t.yml"
    path.write_text(yaml.safe_dump(base))
    return path


def test_secrets_file_that_is_a_directory(stack_file, secrets):
    (stack_file.parent / "t.secrets.env").mkdir()
    with pytest.raises(StackError) as info:
        load_stack(stack_file, environ=secrets)
    assert info.value.lines == [f"stack: secrets_file: {stack_file.parent / 't.secrets.env'} is a "
                                "directory, not a file"]


def test_secrets_file_that_is_not_utf8(stack_file, secrets):
    f = stack_file.parent / "t.secrets.env"
    f.write_bytes(b"VLLM_KEY=\xff\xfe\n")
    f.chmod(0o600)
    with pytest.raises(StackError) as info:
        load_stack(stack_file, environ=secrets)
    assert info.value.lines == [f"stack: secrets_file: {f} is not UTF-8 text (byte 9)"]


def test_environment_and_file_disagree_names_both_sources_not_the_values(stack_file, secrets):
    f = stack_file.parent / "t.secrets.env"
    f.write_text("VLLM_KEY=from-the-file\nSESSION=session-secret-value\n")
    f.chmod(0o600)
    with pytest.raises(StackError) as info:
        load_stack(stack_file, environ={**secrets, "VLLM_KEY": "from-the-environment"})
    assert info.value.lines == [f"gpu-1: services/0/api_key: secret VLLM_KEY is set in the "
                                f"environment and in {f} with different values: unset one of them"]
    assert "from-the" not in str(info.value)  # neither value is printed


@pytest.mark.parametrize(("value", "problem"), [
    ("it's-long-enough", "holds a single quote"),
    ("tab\there-long-enough", "holds a line break or control character"),
    ("long-enough-but-ends\\", "ends in a backslash"), ("two\nlines-long-enough", None),
])
def test_secret_values_that_cannot_go_into_an_env_file(base, secrets, value, problem):
    secrets["VLLM_KEY"] = value
    with pytest.raises(StackError) as info:
        parse_stack(base, environ=secrets)
    expected = (f"gpu-1: services/0/api_key: secret VLLM_KEY {problem} (it is written into an "
                "env file)") if problem else ("gpu-1: services/0/api_key: secret VLLM_KEY holds a "
                                               "line break (secrets are one line)")
    assert info.value.lines == [expected]


def _keygen(path: Path, passphrase: str = "") -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-f", str(path)],
                   check=True)
    return path


def test_malformed_private_key_file(base, secrets, tmp_path):
    key = tmp_path / "id"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nnot base64 at all\n"
                   "-----END OPENSSH PRIVATE KEY-----\n")
    gpu1(base)["ssh"]["key"] = str(key)
    with pytest.raises(StackError) as info:
        parse_stack(base, environ=secrets)
    [line] = info.value.lines
    assert line.startswith(f"gpu-1: ssh/key: {key} is not a private key paramiko can load")


def test_encrypted_key_needs_its_passphrase_secret_or_an_agent(base, secrets, tmp_path,
                                                               monkeypatch):
    key = _keygen(tmp_path / "id", "a passphrase")
    gpu1(base)["ssh"]["key"] = str(key)
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    with pytest.raises(StackError) as info:
        parse_stack(base, environ=secrets)
    assert info.value.lines == [f"gpu-1: ssh/key: {key} is encrypted: set key_password to a "
                                "secret holding its passphrase, or add it to a running ssh-agent "
                                "(SSH_AUTH_SOCK is not set)"]
    gpu1(base)["ssh"]["key_password"] = "KEY_PASSPHRASE"
    with pytest.raises(StackError) as info:
        parse_stack(base, environ={**secrets, "KEY_PASSPHRASE": "wrong one"})
    assert info.value.lines == [f"gpu-1: ssh/key: {key} does not load with the passphrase in "
                                "key_password (wrong passphrase?)"]
    parse_stack(base, environ={**secrets, "KEY_PASSPHRASE": "a passphrase"})


def test_known_hosts_file_that_does_not_parse(base, secrets, tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text("# pinned\n10.0.0.1 ssh-ed25519 AAAAnot-a-key\n")
    gpu1(base)["ssh"].update(host_key=None, known_hosts=str(known))
    with pytest.raises(StackError) as info:
        parse_stack(base, environ=secrets)
    assert info.value.lines == [f"gpu-1: ssh/known_hosts: {known}: line 2 is not a known_hosts "
                                "entry (host keytype base64)"]


# -- the two entry points: `llminfra check` and the pyinfra inventory module ---------------------

def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=120)


@pytest.mark.parametrize("name", ["not_utf8", "alias_bomb", "impossible_date_key"])
def test_entry_points_exit_2_without_traceback(tmp_path, name):
    content, expected = next(c[1:] for c in FILES if c[0] == name)
    stack = tmp_path / "env.yml"
    stack.write_bytes(content)
    (tmp_path / "env.py").write_text("from pathlib import Path\nfrom llminfra.inventory import "
                                     "pyinfra_groups\n_groups = pyinfra_groups(Path(__file__)"
                                     ".with_suffix('.yml'))\n")
    check = _run(["-m", "llminfra", "check", str(stack)], tmp_path)
    inventory = _run(["-c", f"import runpy; runpy.run_path({str(tmp_path / 'env.py')!r})"],
                     tmp_path)
    for proc in (check, inventory):
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.splitlines()[0] == expected.format(path=stack)
        assert "Traceback" not in proc.stdout + proc.stderr


# -- risky settings: refused without the opt-in, warned about with it ---------------------------

def test_check_lists_opted_in_risks_as_warnings(base, secrets, tmp_path):
    import yaml

    base["relays"]["relay-1"]["access"]["allow_cidrs"] = ["0.0.0.0/0", "::/0"]
    base["relays"]["relay-1"]["allow_risky"] = ["open_relay"]
    gw(base)["oneapi"]["admin_bind"] = "0.0.0.0"
    gw(base).update(tunnel_user="root", allow_risky=["public_admin", "login_tunnel_user"])
    svc(base).update(api_key=None, bind="0.0.0.0")
    gpu1(base)["allow_risky"] = ["public_model_port"]
    stack = tmp_path / "risky.yml"
    stack.write_text(yaml.safe_dump(base))
    env = {**os.environ, **secrets, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-m", "llminfra", "check", str(stack)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].endswith(", 5 warnings (below)")
    warnings = proc.stdout.split("\nWARNINGS (5)\n")[1]
    assert warnings.splitlines() == [
        "gpu-1: services/0/bind: port 8000 is published on 0.0.0.0 and the service asks for no "
        "api_key: anyone who reaches the host can use the model (allowed by allow_risky: "
        "public_model_port)",
        "gw-1: oneapi/admin_bind: 0.0.0.0 publishes the oneapi admin port beyond the gateway's "
        "loopback (allowed by allow_risky: public_admin)",
        "gw-1: tunnel_user: 'root' is a login user on gpu-2: the tunnel key goes into its "
        "authorized_keys (allowed by allow_risky: login_tunnel_user)",
        "relay-1: access/allow_cidrs/0: 0.0.0.0/0 lets every address use the relay (and the "
        "provider keys behind it) (allowed by allow_risky: open_relay)",
        "relay-1: access/allow_cidrs/1: ::/0 lets every address use the relay (and the provider "
        "keys behind it) (allowed by allow_risky: open_relay)",
    ]
