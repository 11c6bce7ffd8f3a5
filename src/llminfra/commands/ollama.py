"""Ollama, run inside its Compose service."""

from __future__ import annotations

from pyinfra.api import QuoteString, StringCommand

from .compose import compose


def ollama_list(
    project_dir: str,
    service: str,
    compose_command: str = "docker compose",
    project_name: str | None = None,
) -> StringCommand:
    """``ollama list`` in the service; prints nothing if the container is not up yet."""
    dc = compose(compose_command, project_name)
    return StringCommand(
        "cd", QuoteString(project_dir), "2>/dev/null &&",
        dc, "exec -T", QuoteString(service), "ollama list 2>/dev/null || true",
    )  # fmt: skip


def ollama_pull(
    project_dir: str,
    service: str,
    model: str,
    compose_command: str = "docker compose",
    project_name: str | None = None,
) -> StringCommand:
    dc = compose(compose_command, project_name)
    return StringCommand(
        "cd", QuoteString(project_dir), "&&",
        dc, "exec -T", QuoteString(service), "ollama pull", QuoteString(model),
    )  # fmt: skip
