"""The gateway's plan with `engine: litellm`: LiteLLM instead of OneAPI, no channel reconcile."""

from __future__ import annotations

import pytest
import yaml

from test_plan import ROOT, names, plan


@pytest.fixture(scope="module")
def litellm_stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plan-litellm")
    data = yaml.safe_load((ROOT / "inventory/prod.yml").read_text())
    gw = data["gateways"]["gw-1"]
    gw.update(engine="litellm", litellm={"master_key": "GPU1_VLLM_KEY",
                                         "client_key_secret": "RELAY_SHARED_SECRET"})
    for token in data["tokens"]:
        token["quota"] = "unlimited"
    path = tmp / "prod.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_litellm_gateway_order(litellm_stack):
    ops = names(plan(litellm_stack, "gw-1"))
    order = [
        "Gateway | OneAPI Compose project is down (engine is litellm)",
        "Gateway | LiteLLM | LiteLLM secrets.env",
        "Gateway | LiteLLM | LiteLLM config.yaml",
        "Gateway | LiteLLM | LiteLLM llminfra_auth.py",
        "Gateway | LiteLLM | LiteLLM Compose project",
        "Gateway | LiteLLM | LiteLLM answers /health/readiness",
        "Gateway | Nginx | Site /etc/nginx/conf.d/llminfra-gateway.conf",
        "Tunnels | llminfra-tunnel-gpu-2-ollama answers inside LiteLLM",
    ]
    assert [n for n in ops if n in order] == order
    assert not [n for n in ops if "OneAPI |" in n or "channels" in n.lower()]
