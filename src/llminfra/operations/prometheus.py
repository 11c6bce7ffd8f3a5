"""Wait until Prometheus scrapes every target it is configured with."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import operation

from llminfra.commands.http import wait_command
from llminfra.commands.prometheus import targets_up
from llminfra.facts import batch
from llminfra.facts.batch import expecting
from llminfra.facts.prometheus import TargetsUp

from .progress import Watched


@expecting(lambda url, **_: [(TargetsUp, {"url": url})])
@operation()
def scraped(url: str, targets: int, timeout: int = 120):
    """
    Wait until ``targets`` scrape targets are up in Prometheus at ``url``: every exporter and
    model server answered Prometheus, through its tunnel or private address. Counted from the
    targets Prometheus scrapes now, so a target just removed from its configuration (whose
    ``up`` series still answers queries for minutes) does not count.

    + url: Prometheus' base URL, e.g. ``http://127.0.0.1:9090``
    + targets: how many are configured (Prometheus itself included)
    + timeout: seconds to wait
    """
    up = batch.get(TargetsUp, url=url)
    if up == targets:
        host.noop(f"Prometheus scrapes all {targets} targets")
        return
    what = f"all {targets} Prometheus scrape targets"
    yield Watched(wait_command(targets_up(url), what, timeout, (str(targets),)),
                  f"waiting for {what}", timeout)
