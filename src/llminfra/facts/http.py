"""The HTTP status an endpoint answers with, seen from the host or from inside a Compose
service."""

from __future__ import annotations

from pyinfra.api import FactBase
from typing_extensions import override

from llminfra.commands.http import status_probe


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
