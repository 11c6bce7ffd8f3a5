"""LiteLLM's config.yaml and client keys, from the same channel specs OneAPI's channels come from.

Each (channel, public model) pair becomes one deployment of the model group named after the
public model; the name sent upstream follows the channel's model mapping. Priorities become
LiteLLM's `order` (1 = the highest priority serving that model): the router only uses a lower
order while every higher one is failing, as OneAPI falls back to lower priorities.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from llminfra.model import ChannelSpec, Stack
from llminfra.model.litellm import client_key

from .files import RenderError, render

MASTER_KEY_ENV = "LITELLM_MASTER_KEY"
CLIENT_KEYS_ENV = "LLMINFRA_CLIENT_KEYS"
AUTH_MODULE = "llminfra_auth"  # templates/litellm/llminfra_auth.py, beside config.yaml
# A service without an API key accepts any bearer; LiteLLM's OpenAI client still sends one.
NO_KEY = "llminfra-no-key"
# channel kind (model/providers.py) -> (LiteLLM provider, what LiteLLM's api_base adds to the
# channel's base URL, which follows OneAPI's convention)
PROVIDERS = {
    "openai-compatible": ("openai", ""),  # service URLs already end in /v1
    "openai": ("openai", "/v1"),
    "deepseek": ("deepseek", "/v1"),
    "anthropic": ("anthropic", ""),  # LiteLLM appends /v1/messages
    "gemini": ("gemini", "/v1beta"),  # LiteLLM appends /models/<model>:<method>
}


@dataclass(frozen=True)
class Deployment:
    model_name: str  # public name clients ask for
    model: str  # "<provider>/<name sent upstream>"
    api_base: str
    api_key: str  # "os.environ/<VAR>" (the value is in the 0600 env file) or NO_KEY
    order: int
    weight: int  # 0: LiteLLM's default (even share)
    id: str  # stable deployment id: "<channel>/<public model>"
    mode: str | None = None  # "embedding": LiteLLM's /health probes it with an embedding


@dataclass(frozen=True)
class LiteLLMConfig:
    gateway: str
    deployments: tuple[Deployment, ...]
    num_retries: int
    master_key_env: str = MASTER_KEY_ENV
    custom_auth: str = f"{AUTH_MODULE}.user_api_key_auth"


def secret_env(name: str) -> str:
    """Env var carrying a stack secret into the container; prefixed so no secret name can
    collide with a variable LiteLLM itself reads (OPENAI_API_KEY, DATABASE_URL, ...)."""
    return f"LLMINFRA_SECRET_{name}"


def channel_kind(spec: ChannelSpec) -> str:
    if spec.kind not in PROVIDERS:
        raise RenderError(f"{spec.origin}: LiteLLM has no provider for channel kind {spec.kind!r}")
    return spec.kind


def embedding_origins(stack: Stack) -> frozenset[str]:
    """Origins ("gpu-2/services/1") of services that serve embeddings, not chat."""
    return frozenset(f"{host}/services/{i}" for host, gpu in stack.gpu_hosts.items()
                     for i, svc in enumerate(gpu.services)
                     if svc.readiness_probe() == "embeddings")


def deployments(specs: list[ChannelSpec],
                embeddings: frozenset[str] = frozenset()) -> tuple[Deployment, ...]:
    enabled = [s for s in specs if s.enabled]
    ranks: dict[str, list[int]] = {}
    for spec in enabled:
        for model in spec.models:
            ranks.setdefault(model, []).append(spec.priority)
    out = []
    for spec in enabled:
        provider, suffix = PROVIDERS[channel_kind(spec)]
        key = f"os.environ/{secret_env(spec.key_secret)}" if spec.key_secret else NO_KEY
        for model in spec.models:
            order = sorted(set(ranks[model]), reverse=True).index(spec.priority) + 1
            upstream = spec.model_mapping.get(model, model)
            out.append(Deployment(model, f"{provider}/{upstream}", spec.base_url + suffix, key,
                                  order, spec.weight, f"{spec.name}/{model}",
                                  "embedding" if spec.origin in embeddings else None))
    return tuple(out)


def litellm_config(stack: Stack, gateway: str) -> LiteLLMConfig:
    settings = stack.gateways[gateway].litellm
    if settings is None:
        raise RenderError(f"{gateway}: no litellm section")
    return LiteLLMConfig(gateway, deployments(stack.channel_specs(gateway),
                                              embedding_origins(stack)), settings.num_retries)


def render_config(stack: Stack, gateway: str) -> str:
    return render("litellm/config.yaml.j2", litellm_config(stack, gateway))


def token_keys(stack: Stack, gateway: str) -> dict[str, str]:
    """Token name -> client key for every declared token (disabled ones too: a client's key
    does not change when its token is switched off and on again)."""
    settings = stack.gateways[gateway].litellm
    if settings is None:
        raise RenderError(f"{gateway}: no litellm section")
    secret = stack.secret(settings.client_key_secret)
    return {t.name: client_key(secret, t.name) for t in stack.tokens}


def client_keys_json(stack: Stack, gateway: str) -> str:
    """What the auth module admits: SHA-256 of each enabled token's key -> its limits."""
    keys = token_keys(stack, gateway)
    admitted = {
        hashlib.sha256(keys[t.name].encode()).hexdigest(): {
            "name": t.name, "models": list(t.models), "subnets": list(t.subnets),
            "expires": None if t.expires is None else t.expired_time,
        }
        for t in stack.tokens if t.enabled
    }
    return json.dumps(admitted, sort_keys=True, separators=(",", ":"))


def litellm_secrets(stack: Stack, gateway: str) -> dict[str, str]:
    settings = stack.gateways[gateway].litellm
    if settings is None:
        raise RenderError(f"{gateway}: no litellm section")
    out = {MASTER_KEY_ENV: stack.secret(settings.master_key),
           CLIENT_KEYS_ENV: client_keys_json(stack, gateway)}
    for spec in stack.channel_specs(gateway):
        if spec.enabled and spec.key_secret:
            out[secret_env(spec.key_secret)] = stack.secret(spec.key_secret)
    return out
