"""Facts from Prometheus on a gateway."""

from __future__ import annotations

from pyinfra.api import FactBase
from typing_extensions import override

from llminfra.commands.prometheus import targets_up


class TargetsUp(FactBase[int | None]):
    """How many of the targets Prometheus at ``url`` (its base URL) scrapes now answered their
    last scrape (``None``: Prometheus did not answer)."""

    @override
    def command(self, url):
        return targets_up(url)

    @override
    def process(self, output):
        value = "".join(output).strip()
        return int(value) if value.isdigit() else None
