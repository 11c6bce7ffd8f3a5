"""The HTTP status an endpoint answers with, seen from the host or from inside a Compose
service."""

from __future__ import annotations

from pyinfra.api import FactBase, QuoteString, StringCommand
from typing_extensions import override

from llminfra.commands import compose


def status_probe(url: str, project_dir: str | None = None, service: str | None = None,
                 compose_command: str = "docker compose") -> StringCommand:
    """Print the HTTP status ``url`` answers with (nothing or ``000``: no answer); exit 0.

    On the host: curl. Inside a Compose service: wget (busybox or GNU), which images of
    OneAPI ship and curl-less images usually have.
    """
    if project_dir is None:
        return StringCommand(
            "curl -s -o /dev/null -m 5 -w '%{http_code}'", QuoteString(url), "; echo",
        )  # fmt: skip
    return StringCommand(
        "cd", QuoteString(project_dir), "2>/dev/null &&",
        compose(compose_command, None), "exec -T", QuoteString(service or ""),
        "wget -S -O /dev/null -T 5", QuoteString(url),
        "2>&1 | awk '/^ *HTTP\\//{code=$2} END{print code}' || true",
    )  # fmt: skip


class HttpStatus(FactBase[str | None]):
    """HTTP status ``url`` answers with now (``None``: no answer), from the host or from
    inside Compose ``service`` of ``project_dir``."""

    @override
    def command(self, url, project_dir=None, service=None):
        return status_probe(url, project_dir, service)

    @override
    def process(self, output):
        code = "".join(output).strip()
        return code if code.isdigit() and code != "000" else None
