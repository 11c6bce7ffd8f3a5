"""Ollama, run inside its Compose service."""

from __future__ import annotations

from pyinfra.api import QuoteString, StringCommand

from .compose import compose


def ollama_tags(url: str) -> StringCommand:
    """The server's model list (``GET /api/tags``, what ``ollama list`` prints) as JSON; nothing
    when it does not answer yet. Read over HTTP from the host: an ``ollama list`` through
    ``compose exec`` costs the host a Compose call, a container exec and a client process."""
    # A server started a moment ago (this run's `up`) refuses connections for a few seconds:
    # wait for it rather than read "nothing pulled" and race its start with pulls.
    return StringCommand("curl -sf -m 10 --retry 5 --retry-delay 1 --retry-connrefused",
                         QuoteString(f"{url.rstrip('/')}/api/tags"), "2>/dev/null || true")


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
