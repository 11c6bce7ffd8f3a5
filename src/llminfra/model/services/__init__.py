"""Model services on GPU hosts. Each kind is one module here; `KINDS` registers it, and the
loader, error paths, README reference, renderer and deploy all derive from that list."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Union

from pydantic import Field

from .base import ChannelOptions, Gpus, Healthcheck, Probe, Runtime, ServiceBase
from .ollama import OllamaService
from .openai import OpenAIService
from .sglang import SglangService
from .vllm import VllmService

KINDS: tuple[type[ServiceBase], ...] = (VllmService, OllamaService, OpenAIService, SglangService)
TAGS: tuple[str, ...] = tuple(kind.tag() for kind in KINDS)

if TYPE_CHECKING:
    # Outside the kind modules code sees only the shared interface.
    Service = ServiceBase
else:
    Service = Annotated[Union[KINDS], Field(discriminator="kind")]  # noqa: UP007 - built from a tuple

__all__ = [
    "KINDS", "TAGS", "ChannelOptions", "Gpus", "Healthcheck", "OllamaService", "OpenAIService",
    "Probe", "Runtime", "Service", "ServiceBase", "SglangService", "VllmService",
]
