"""The one table of upstream LLM providers, and the gateway-neutral channel kinds.

Adding a provider is one row here. A relay can then front it and a channel can use its kind;
each gateway adapter maps channel kinds to its own wire codes (OneAPI: `oneapi/flavor.py`), and a
test there fails if a kind has no code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal


@dataclass(frozen=True)
class Upstream:
    host: str  # the provider's API host: the relay's SNI, Host header and certificate name
    channel: str  # the channel kind a gateway uses to speak this provider's API
    label: str  # how people name it


PROVIDERS: dict[str, Upstream] = {
    "openai": Upstream("api.openai.com", "openai", "OpenAI"),
    "claude": Upstream("api.anthropic.com", "anthropic", "Anthropic"),
    "gemini": Upstream("generativelanguage.googleapis.com", "gemini", "Google Gemini"),
    "deepseek": Upstream("api.deepseek.com", "deepseek", "DeepSeek"),
}

# Self-hosted servers (vLLM, Ollama, ...) speak the OpenAI API without being OpenAI.
OPENAI_COMPATIBLE = "openai-compatible"
CHANNEL_KINDS: tuple[str, ...] = (
    OPENAI_COMPATIBLE, *dict.fromkeys(p.channel for p in PROVIDERS.values()))

# Literal types for the inventory fields, derived so the table stays the only list. Type checkers
# see plain `str`; pydantic sees the choices (errors, JSON Schema and the reference list them).
if TYPE_CHECKING:
    ProviderName = str
    ChannelKind = str
else:
    ProviderName = Literal[tuple(PROVIDERS)]
    ChannelKind = Literal[CHANNEL_KINDS]


def channel_kind(provider: str) -> str:
    return PROVIDERS[provider].channel
