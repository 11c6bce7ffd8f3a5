import copy

import pytest

SECRETS = {
    "VLLM_KEY": "vllm-secret-value",
    "SESSION": "session-secret-value",
    "ROOT_TOKEN": "roottoken-0123456789",
    "ROOT_PW": "rootpassword-0001",
    "RELAY_KEY": "relay-secret-value",
    "OPENAI_KEY": "sk-openai-secret",
}

BASE = {
    "name": "test",
    "gpu_hosts": {
        "gpu-1": {
            "ssh": {"host": "10.0.0.1", "host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3QtaG9zdC1rZXktMTAwMDAwMDAwMDAwMDAwMDAw"},
            "gpus": 2,
            "services": [
                {"kind": "vllm", "name": "qwen", "model": "Qwen/Qwen2.5-7B", "port": 8000,
                 "gpus": [0, 1], "api_key": "VLLM_KEY",
                 # private: vLLM's key guards /v1 only (a public bind needs public_model_port)
                 "bind": "10.0.0.1"},
            ],
        },
        "gpu-2": {
            "ssh": {"host": "10.0.0.2", "host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3QtaG9zdC1rZXktMjAwMDAwMDAwMDAwMDAwMDAw"},
            "reach": "tunnel",
            "services": [
                {"kind": "ollama", "name": "ollama", "gpus": [0], "models": ["llama3:8b"]},
            ],
        },
    },
    "gateways": {
        "gw-1": {
            "ssh": {"host": "10.0.0.3", "host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3QtaG9zdC1rZXktMzAwMDAwMDAwMDAwMDAwMDAw"},
            "oneapi": {"session_secret": "SESSION", "root_access_token": "ROOT_TOKEN",
                       "root_password": "ROOT_PW"},
            "nginx": {"server_name": "api.test"},
        }
    },
    "relays": {
        "relay-1": {
            "ssh": {"host": "10.0.0.4", "host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3QtaG9zdC1rZXktNDAwMDAwMDAwMDAwMDAwMDAw"},
            "server_name": "relay.test",
            "providers": [{"kind": "openai"}, {"kind": "claude"}],
            "access": {"allow_cidrs": ["10.0.0.3/32"], "shared_secret": "RELAY_KEY"},
        }
    },
    "channels": [
        {"name": "openai", "type": "openai", "relay": "relay-1/openai", "key": "OPENAI_KEY",
         "models": ["gpt-4o"]},
    ],
    "tokens": [{"name": "apps"}],
}


@pytest.fixture
def base():
    return copy.deepcopy(BASE)


@pytest.fixture
def secrets():
    return dict(SECRETS)
