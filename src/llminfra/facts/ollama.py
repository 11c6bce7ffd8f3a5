"""Facts about models held by an Ollama server running under Docker Compose."""

from __future__ import annotations

from pyinfra.api import FactBase
from typing_extensions import override

from llminfra.commands.ollama import ollama_list


def canonical_model(model: str) -> str:
    """Ollama's own spelling: a name without a tag means ``:latest``."""
    return model if ":" in model.rsplit("/", 1)[-1] else f"{model}:latest"


class OllamaModels(FactBase[list[str]]):
    """
    Models pulled into the Ollama of compose ``service`` (``ollama list``); ``[]`` when the
    container is not running yet.
    """

    default = list

    @override
    def requires_command(self, project_dir, service, compose_command="docker compose",
                         project_name=None):  # fmt: skip
        return compose_command.split()[0]

    @override
    def command(self, project_dir, service, compose_command="docker compose", project_name=None):
        return ollama_list(project_dir, service, compose_command, project_name)

    @override
    def process(self, output):
        rows = [line.split() for line in output if line.strip()]
        if rows and rows[0][0] == "NAME":
            rows = rows[1:]
        return [canonical_model(row[0]) for row in rows]
