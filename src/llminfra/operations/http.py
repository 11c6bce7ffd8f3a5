"""Wait until an HTTP endpoint answers, seen from the host or from inside a Compose service.

Readiness gates between deploy steps: a no-op when the endpoint already answers, so a
second run stays at zero changes.
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import operation

from llminfra.commands.http import status_probe, wait_command
from llminfra.facts import batch
from llminfra.facts.batch import expecting
from llminfra.facts.http import HttpStatus, HttpStatusesInside

from .progress import Watched


def answered(status: str | None, statuses: tuple[str, ...] | None) -> bool:
    """``statuses`` None: any HTTP answer counts (e.g. a 401 from a keyed model server)."""
    if not status or status == "000":
        return False
    return statuses is None or status in statuses


def _facts(url: str, project_dir: str | None, service: str | None,
           along: tuple[str, ...] = ()) -> tuple[type, dict]:
    if project_dir is not None and along:
        urls = tuple(sorted({url, *along}))
        return HttpStatusesInside, {"urls": urls, "project_dir": project_dir, "service": service}
    return HttpStatus, {"url": url, "project_dir": project_dir, "service": service}


@expecting(lambda url, project_dir, service, along, **_: [
    _facts(url, project_dir, service, along)])
@operation()
def answers(url: str, what: str, project_dir: str | None = None, service: str | None = None,
            statuses: tuple[str, ...] | None = ("200",), timeout: int = 120,
            along: tuple[str, ...] = ()):
    """
    Wait until ``url`` answers with one of ``statuses`` (``None``: any HTTP status).

    + url: the URL to probe
    + what: named in the error on timeout
    + project_dir, service: probe from inside this Compose service instead of the host
    + statuses: accepted HTTP statuses
    + timeout: seconds to wait
    + along: with ``project_dir``, the other URLs this run probes from the same service: every
      such op reads one answer for all of them, probed in one container exec
    """
    cls, kwargs = _facts(url, project_dir, service, along)
    found = batch.get(cls, **kwargs)
    status = found.get(url) if cls is HttpStatusesInside else found
    if answered(status, statuses):
        host.noop(f"{what} answers ({status})")
        return
    yield Watched(wait_command(status_probe(url, project_dir, service), what, timeout, statuses),
                  f"waiting for {what} to answer", timeout)
