"""Facts from Prometheus on a gateway."""

from __future__ import annotations

from pyinfra.api import FactBase
from typing_extensions import override

from llminfra.commands.prometheus import UP_COUNT, query_value


class TargetsUp(FactBase[int | None]):
    """How many of Prometheus' scrape targets answered their last scrape (``None``: Prometheus
    did not answer)."""

    @override
    def command(self, url):
        return query_value(url, UP_COUNT)

    @override
    def process(self, output):
        value = "".join(output).strip()
        return int(value) if value.isdigit() else None
