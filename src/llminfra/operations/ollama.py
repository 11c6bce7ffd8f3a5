"""Pre-pull models into an Ollama server running under Docker Compose."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import operation

from llminfra.commands.ollama import ollama_pull
from llminfra.facts import batch
from llminfra.facts.batch import expecting
from llminfra.facts.ollama import OllamaModels, canonical_model

from .progress import Watched


def _models_fact(url, **_):
    return OllamaModels, {"url": url}


@expecting(lambda **a: [_models_fact(**a)])
@operation()
def models(
    project_dir: str,
    service: str,
    models: list[str],
    url: str,
    compose_command: str = "docker compose",
    project_name: str | None = None,
):
    """
    Pull each of ``models`` into the Ollama of compose ``service`` unless already present.

    + project_dir: compose project directory of the Ollama stack
    + service: compose service running Ollama
    + models: model names, e.g. ``["llama3.2", "qwen2.5:7b"]`` (no tag means ``:latest``)
    + url: the server's address as the host reaches it, e.g. ``http://127.0.0.1:11434``
      (what is pulled already is read from its API)
    + compose_command: ``docker compose`` or ``docker-compose``
    + project_name: compose project name, if not the directory's basename

    Models not listed are left alone (removing is a separate, deliberate act).

    **Examples:**

    .. code:: python

        ollama.models(
            name="Pre-pull Ollama models",
            project_dir="/opt/llminfra/ollama",
            service="ollama",
            models=["llama3.2", "nomic-embed-text"],
            url="http://127.0.0.1:11434",
        )
    """
    present = batch.read(_models_fact(url))
    missing = [model for model in models if canonical_model(model) not in present]
    if not missing:
        host.noop(f"ollama models {', '.join(models)} are present in {service}")
        return
    for model in missing:
        yield Watched(ollama_pull(project_dir, service, model, compose_command, project_name),
                      f"pulling model {model} into {service}")
