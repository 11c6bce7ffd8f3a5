"""inventory/lab.yml (git-ignored): the prod.yml schema filled with the lab's hosts.

Addresses, operator key and pinned host keys come from the LabState; images are the lab's
real vLLM and the stand-ins under the real names (`vllm/vllm-openai:lab`, ...); secrets are random values kept
in inventory/lab.secrets.env (0600) and reused on every later run so re-deploys are no-ops.
"""

from __future__ import annotations

import secrets as rnd  # stdlib
from pathlib import Path

import yaml

from llminfra_lab.labsecrets import server_cert, write_private
from llminfra_lab.state import LabState
from llminfra.model import Stack, load_stack
from llminfra.model.secrets import parse_dotenv

# Real vLLM (CPU build) with the models baked into its image (images/vllm-cpu)
LAB_MODELS = "/models"
VLLM = {
    "kind": "vllm", "image": "vllm/vllm-openai:lab", "gpus": "cpu", "api_key": "LAB_VLLM_KEY",
    "shm_size": "256m", "ready_timeout": 600,
    # eager mode: the engine is up in ~40 s instead of ~110 s of kernel compilation on 2 cores
    "extra_args": ["--enforce-eager"],
}
# name -> generator of a value within OneAPI's limits (tokens <= 32, passwords 8..20) and
# check's 16 characters at least for the kit's own secrets (model.secret_values)
SECRETS = {
    "LAB_VLLM_KEY": lambda: rnd.token_hex(16),
    "ONEAPI_SESSION_SECRET": lambda: rnd.token_hex(32),
    "ONEAPI_ROOT_ACCESS_TOKEN": lambda: rnd.token_hex(16),
    "ONEAPI_ROOT_PASSWORD": lambda: rnd.token_hex(8),
    "RELAY_SHARED_SECRET": lambda: rnd.token_hex(16),
    "LAB_OPENAI_KEY": lambda: "sk-lab-" + rnd.token_hex(16),
    "LAB_ANTHROPIC_KEY": lambda: "sk-ant-lab-" + rnd.token_hex(16),
    "LAB_GEMINI_KEY": lambda: "lab-" + rnd.token_hex(16),
    "LITELLM_MASTER_KEY": lambda: "sk-lab-master-" + rnd.token_hex(16),
    "LITELLM_CLIENT_KEY_SECRET": lambda: rnd.token_hex(32),
}


def _ssh(state: LabState, name: str) -> dict:
    host = state.hosts[name]
    return {"host": host.address, "user": state.ssh_user, "key": state.ssh_key,
            "host_key": host.host_key}


def _gateway_software(state: LabState) -> dict:
    section = {"session_secret": "ONEAPI_SESSION_SECRET", "root_password": "ONEAPI_ROOT_PASSWORD",
               # the relay's certificate is signed by the lab CA, as a private CA would be
               "trust_ca_files": [state.ca_cert]}
    if state.flavor == "new-api":  # no INITIAL_ROOT_ACCESS_TOKEN: root comes from the setup
        return {"flavor": "new-api", "image": "calciumion/new-api", "version": "lab", **section}
    return {"image": "justsong/one-api", "version": "lab",
            "root_access_token": "ONEAPI_ROOT_ACCESS_TOKEN", **section}


def _direct_ollama(state: LabState, name: str, model: str = "qwen2.5:0.5b") -> dict:
    return {
        "ssh": _ssh(state, name),
        "address": state.hosts[name].address,
        "services": [{
            "kind": "ollama", "name": "ollama", "image": "ollama/ollama:lab",
            "port": 11434, "gpus": "cpu", "models": [model],
            # Ollama takes no key: published on the private lab address only
            "bind": state.hosts[name].address, "ready_timeout": 300,
        }],
    }


def lab_stack(state: LabState) -> dict:
    """The stack document for the lab (plain data, dumped to lab.yml)."""
    gw = state.hosts["gw-1"]
    return {
        "name": "lab",
        "secrets_file": "lab.secrets.env",
        "mirrors": {"docker_install": "distro"},
        "gpu_hosts": {
            "gpu-1": _direct_ollama(state, "gpu-1"),
            "gpu-2": {
                "ssh": _ssh(state, "gpu-2"),
                "reach": "tunnel",
                "services": [
                    {"kind": "ollama", "name": "ollama", "image": "ollama/ollama:lab",
                     "port": 11434, "gpus": "cpu", "models": ["smollm2:135m"],
                     "ready_timeout": 300},
                    {**VLLM, "name": "smol", "model": f"{LAB_MODELS}/SmolLM2-135M-Instruct",
                     "served_names": ["smollm2-135m"], "port": 8000,
                     # short: an untruncated channel test (no max_tokens) ends within ~10 s
                     "max_model_len": 512,
                     "channel": {"priority": 10}},
                    {**VLLM, "name": "embed", "model": f"{LAB_MODELS}/all-MiniLM-L6-v2",
                     "task": "embed", "served_names": ["all-minilm-l6-v2"], "port": 8001},
                ],
            },
            # `lab up --gpu-hosts N`: more hosts like gpu-1 (the fan-out benchmark)
            # (each its own model name: one model on two hosts needs priorities)
            **{name: _direct_ollama(state, name, f"qwen2.5:{name}")
               for name, host in state.hosts.items()
               if host.role == "gpu" and name not in ("gpu-1", "gpu-2")},
        },
        "gateways": {
            "gw-1": {
                "ssh": _ssh(state, "gw-1"),
                # both engines are declared: `lab up --engine` (or this one key) switches
                "engine": state.engine,
                "litellm": {
                    "version": "lab", "master_key": "LITELLM_MASTER_KEY",
                    "client_key_secret": "LITELLM_CLIENT_KEY_SECRET",
                    "trust_ca_files": [state.ca_cert],
                },
                "oneapi": _gateway_software(state),
                "nginx": {"server_name": "gw-1.lab", "tls": {"mode": "self_signed"}},
                # Prometheus on gw-1's loopback; exporters on both GPU hosts. No GPU here: the
                # nvidia-smi collector still runs and reports llminfra_gpu_nvidia_smi_up 0.
                "metrics": {"gpu_exporter": True},
            },
        },
        "relays": {
            "relay-1": {
                "ssh": _ssh(state, "relay-1"),
                "server_name": "relay-1.lab",
                "providers": [{"kind": "openai"}, {"kind": "claude"}, {"kind": "gemini"}],
                "access": {"allow_cidrs": [f"{gw.address}/32"],
                           "shared_secret": "RELAY_SHARED_SECRET"},
                "tls": {"mode": "files",
                        "cert_file": str(Path(state.state_dir) / "relay-1" / "tls.crt"),
                        "key_file": str(Path(state.state_dir) / "relay-1" / "tls.key")},
                # Docker's embedded DNS: it resolves the provider names to the lab upstream
                "resolver": ["127.0.0.11"],
            },
        },
        "channels": [
            {"name": "openai", "type": "openai", "relay": "relay-1/openai",
             "key": "LAB_OPENAI_KEY", "models": ["gpt-4o-mini"]},
            {"name": "claude", "type": "anthropic", "relay": "relay-1/claude",
             "key": "LAB_ANTHROPIC_KEY", "models": ["claude-3-5-haiku-20241022"]},
            {"name": "gemini", "type": "gemini", "relay": "relay-1/gemini",
             "key": "LAB_GEMINI_KEY", "models": ["gemini-1.5-flash"]},
        ],
        # LiteLLM keeps no database to count quota in (check refuses one there)
        "tokens": [{"name": "apps", "quota": "unlimited"},
                   {"name": "alice", "quota": 5000000 if state.engine == "oneapi" else "unlimited",
                    "models": ["smollm2-135m", "smollm2:135m"]}],
    }


def write_secrets(path: Path) -> Path:
    """Create missing lab secrets; existing values are kept (stable across lab up runs)."""
    values = parse_dotenv(path.read_text()) if path.exists() else {}
    missing = {k: gen() for k, gen in SECRETS.items() if not values.get(k)}
    if missing or not path.exists():
        values.update(missing)
        body = "".join(f"{k}={v}\n" for k, v in values.items())
        write_private(path, ("# lab secrets, generated by `llminfra lab up`\n" + body).encode())
    return path


def write_inventory(state: LabState, repo_root: Path | str) -> Stack:
    """Write inventory/lab.yml + lab.secrets.env and return the validated Stack."""
    inv = Path(repo_root) / "inventory"
    inv.mkdir(exist_ok=True)
    write_secrets(inv / "lab.secrets.env")
    sdir = Path(state.state_dir)
    server_cert(sdir / "ca", sdir / "relay-1", ("relay-1.lab",), (state.hosts["relay-1"].address,))
    doc = lab_stack(state)
    header = ("# Generated by `llminfra lab up` from .lab/lab.json: do not edit.\n"
              "# Deploy with `pyinfra inventory/lab.py deploys/all.py`.\n")
    text = header + yaml.safe_dump(doc, sort_keys=False, width=100)
    path = inv / "lab.yml"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return load_stack(path)
