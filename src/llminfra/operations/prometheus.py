"""Wait until Prometheus scrapes every target it is configured with."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import operation

from llminfra.commands.http import wait_command
from llminfra.commands.prometheus import UP_COUNT, query_value
from llminfra.facts import batch
from llminfra.facts.batch import expecting
from llminfra.facts.prometheus import TargetsUp

from .progress import Watched


@expecting(lambda url, **_: [(TargetsUp, {"url": url})])
@operation()
def scraped(url: str, targets: int, timeout: int = 120):
    """
    Wait until ``targets`` scrape targets are up in Prometheus at ``url`` (``.../api/v1/query``):
    every exporter and model server answered Prometheus, through its tunnel or private address.

    + url: Prometheus' query endpoint
    + targets: how many are configured (Prometheus itself included)
    + timeout: seconds to wait
    """
    up = batch.get(TargetsUp, url=url)
    if up == targets:
        host.noop(f"Prometheus scrapes all {targets} targets")
        return
    what = f"all {targets} Prometheus scrape targets"
    yield Watched(wait_command(query_value(url, UP_COUNT), what, timeout, (str(targets),)),
                  f"waiting for {what}", timeout)
