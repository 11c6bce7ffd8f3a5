"""Ollama: settings, its environment, and the models pulled before it counts as ready."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..base import Port
from ..types import AbsPath, Duration, ImageRef, ModelName
from ..mirrors import Mirrors
from .base import Healthcheck, Probe, Runtime, ServiceBase, host_dir

MODELS_DIR = "/ollama-models"


class OllamaService(ServiceBase):
    kind: Literal["ollama"]
    image: ImageRef = Field("ollama/ollama:0.5.7", description="Ollama image.")
    port: Port = 11434
    models: list[ModelName] = Field([], max_length=64, description="Models pulled before the service counts as ready.")
    keep_alive: Duration = Field("5m", description="OLLAMA_KEEP_ALIVE.")
    num_parallel: int = Field(4, ge=1, le=1024, description="OLLAMA_NUM_PARALLEL.")
    max_loaded_models: int = Field(1, ge=1, le=1024, description="OLLAMA_MAX_LOADED_MODELS.")
    cache_dir: AbsPath | None = Field(
        None, description="Host directory for OLLAMA_MODELS. Default `<data_dir>/ollama`."
    )
    probe: Probe = Field(
        "chat", description="How the deploy decides the first model is servable: `chat` (one "
        "token: Ollama has loaded it), `embeddings` (an embedding model first) or `list` "
        "(pulled is enough). A run that has changed nothing only checks that it is listed: "
        "Ollama unloads an idle model after `keep_alive` and loads it on the next request, and "
        "a no-change deploy does not load it again."
    )

    def served(self) -> list[str]:
        return list(self.models)

    def pulls(self) -> list[str]:
        return list(self.models)

    def readiness_probe(self) -> Probe:
        # a pulled model is listed before Ollama has loaded it: the first request would wait
        return self.probe

    def steady_probe(self) -> Probe:
        # loaded once after the change that pulled or started it; idle unloading is Ollama's
        return "list"

    def runtime(self, data_dir: str, mirrors: Mirrors) -> Runtime:
        cache = host_dir(self.cache_dir, data_dir, "ollama")
        env = {"OLLAMA_HOST": f"0.0.0.0:{self.port}", "OLLAMA_MODELS": MODELS_DIR,
               "OLLAMA_KEEP_ALIVE": self.keep_alive, "OLLAMA_NUM_PARALLEL": str(self.num_parallel),
               "OLLAMA_MAX_LOADED_MODELS": str(self.max_loaded_models)}
        return Runtime(command=(), env=env, volumes=(f"{cache}:{MODELS_DIR}",),
                       container_port=self.port,
                       healthcheck=Healthcheck(("CMD", "ollama", "list"), "60s"))
