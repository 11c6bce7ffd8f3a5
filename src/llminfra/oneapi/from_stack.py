"""The OneAPI objects a gateway should hold, derived from the stack model."""

from __future__ import annotations

from llminfra.model import Stack
from llminfra.model.providers import OPENAI_COMPATIBLE

from .desired import DesiredChannel, DesiredState, DesiredToken
from .flavor import NEWAPI, ONEAPI, channel_type, compatible_base_url
from .registry import Fingerprints

# A service without an API key accepts any bearer; OneAPI still wants a non-empty key.
NO_KEY = "llminfra-no-key"


def flavor_of(stack: Stack, gateway: str) -> str:
    return NEWAPI if stack.gateways[gateway].oneapi_settings.flavor == "new-api" else ONEAPI


def fingerprints(stack: Stack, gateway: str) -> Fingerprints:
    """Keyed fingerprints for the gateway's registry, keyed by root's password: an inventory
    secret every operator of this gateway holds, required by both flavours, and kept by the
    gateway only as a password hash."""
    return Fingerprints(str(stack.secret(stack.gateways[gateway].oneapi_settings.root_password)))


def _chats(stack: Stack, origin: str) -> bool:
    """False for an embedding service: the gateway's channel test is a chat request."""
    host, _, index = origin.partition("/services/")
    if not index or host not in stack.gpu_hosts:
        return True
    return stack.gpu_hosts[host].services[int(index)].readiness_probe() != "embeddings"


def desired_state(stack: Stack, gateway: str) -> DesiredState:
    flavor = flavor_of(stack, gateway)
    channels = []
    for spec in stack.channel_specs(gateway):
        url = compatible_base_url(spec.base_url, flavor) if spec.kind == OPENAI_COMPATIBLE \
            else spec.base_url
        channels.append(DesiredChannel(
            name=spec.name, type=channel_type(spec.kind, flavor), base_url=url,
            models=tuple(spec.models),
            key=stack.secret(spec.key_secret) if spec.key_secret else NO_KEY,
            model_mapping=tuple(sorted(spec.model_mapping.items())), priority=spec.priority,
            weight=spec.weight, groups=tuple(spec.groups), enabled=spec.enabled,
            # declared `channels` reach external providers, which charge for every test call
            billed=spec.origin.startswith("channels/"),
            chat=_chats(stack, spec.origin),
        ))
    tokens = [
        DesiredToken(
            name=t.name, unlimited=t.quota == "unlimited",
            remain_quota=0 if t.quota == "unlimited" else int(t.quota),
            expired_time=t.expired_time, models=tuple(t.models), subnet=",".join(t.subnets),
            enabled=t.enabled,
        )
        for t in stack.tokens
    ]
    return DesiredState(channels=tuple(channels), tokens=tuple(tokens))
