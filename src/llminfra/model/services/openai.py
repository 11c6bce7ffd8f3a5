"""Any image serving the OpenAI API (TGI, llama.cpp, ...): run as declared."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Literal

from pydantic import Field

from ..base import Port, SecretName
from ..types import Arg, ImageRef, ModelName, Volume
from ..mirrors import Mirrors
from .base import Runtime, ServiceBase


class OpenAIService(ServiceBase):
    reference_note: ClassVar[str] = "any OpenAI-compatible server"

    kind: Literal["openai"]
    image: ImageRef = Field(description="Any image serving the OpenAI API (TGI, llama.cpp, ...).")
    command: list[Arg] = Field([], max_length=256, description="Container command (arguments).")
    container_port: Port | None = Field(None, description="Port inside the container. Default `port`.")
    models: list[ModelName] = Field(min_length=1, max_length=64,
                                    description="Model names it serves.")
    api_key: SecretName | None = Field(None, description="Secret the server expects, if any.")
    volumes: list[Volume] = Field([], max_length=64, description="Compose volume lines, `host:container[:ro]`.")

    def served(self) -> list[str]:
        return list(self.models)

    def client_key(self) -> SecretName | None:
        return self.api_key

    def runtime(self, data_dir: str, mirrors: Mirrors) -> Runtime:
        # Arbitrary images: no tool inside is known to exist, so no healthcheck.
        return Runtime(command=tuple(self.command), env={}, volumes=tuple(self.volumes),
                       container_port=self.container_port or self.port, healthcheck=None)

    def secrets(self, secret: Callable[[str], str]) -> dict[str, str]:
        return {"API_KEY": secret(self.api_key)} if self.api_key else {}
