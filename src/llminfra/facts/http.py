"""The HTTP status an endpoint answers with, seen from the host or from inside a Compose
service."""

from __future__ import annotations

from pyinfra.api import FactBase
from typing_extensions import override

from llminfra.commands.http import status_probe, statuses_probe


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


class HttpStatusesInside(FactBase[dict[str, str | None]]):
    """HTTP status each of ``urls`` answers with now (``None``: no answer), all probed from
    inside Compose ``service`` of ``project_dir`` in one ``docker exec``."""

    @override
    def default(self):
        return {}

    @override
    def command(self, urls, project_dir, service):
        return statuses_probe(list(urls), project_dir, service)

    @override
    def process(self, output):
        found: dict[str, str | None] = {}
        for line in output:
            url, _, code = line.strip().partition(" ")
            if url:
                found[url] = code if code.isdigit() and code != "000" else None
        return found
