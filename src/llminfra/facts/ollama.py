"""Facts about models held by an Ollama server running under Docker Compose."""

from __future__ import annotations

import json

from pyinfra.api import FactBase
from pyinfra.api.exceptions import FactProcessError
from typing_extensions import override

from llminfra.commands.ollama import ollama_tags


def canonical_model(model: str) -> str:
    """Ollama's own spelling: a name without a tag means ``:latest``."""
    return model if ":" in model.rsplit("/", 1)[-1] else f"{model}:latest"


class OllamaModels(FactBase[list[str]]):
    """
    Models pulled into the Ollama server at ``url`` (its ``/api/tags``, as ``ollama list``
    shows them); ``[]`` when it does not answer yet (the container is not running).
    """

    default = list

    @override
    def requires_command(self, url):
        return "curl"

    @override
    def command(self, url):
        return ollama_tags(url)

    @override
    def process(self, output):
        text = "\n".join(output).strip()
        if not text:
            return []
        try:
            rows = json.loads(text).get("models") or []
            return [canonical_model(row["name"]) for row in rows]
        except (ValueError, AttributeError, KeyError, TypeError) as e:
            raise FactProcessError(f"not an Ollama model list: {text[:80]!r}") from e
