"""HTTP readiness: one status probe, and a wait loop around it."""

from __future__ import annotations

import shlex

from pyinfra.api import QuoteString, StringCommand

from .compose import project_name_sh, service_container_sh


def status_probe(url: str, project_dir: str | None = None, service: str | None = None
                 ) -> StringCommand:
    """Print the HTTP status ``url`` answers with (nothing or ``000``: no answer); exit 0.

    On the host: curl. Inside a Compose service: wget (busybox or GNU), which images of
    OneAPI ship and curl-less images usually have.
    """
    if project_dir is None:
        return StringCommand(
            "curl -s -o /dev/null -m 5 -w '%{http_code}'", QuoteString(url), "; echo",
        )  # fmt: skip
    return StringCommand(
        *_inside(project_dir, service or ""), "wget -S -O /dev/null -T 5", QuoteString(url),
        "2>&1 | awk", QuoteString(STATUS_AWK), "|| true",
    )  # fmt: skip


# wget -S prints the response headers on stderr; the last status line is the answer's
STATUS_AWK = "/^ *HTTP\\//{code=$2} END{print code}"


def statuses_probe(urls: list[str], project_dir: str, service: str) -> StringCommand:
    """``URL STATUS`` per URL (STATUS empty: no answer), all probed by one ``docker exec`` in
    the service's container: an exec costs the host ~75 ms of CPU, a wget inside it ~1 ms."""
    loop = ('for u in "$@"; do printf \'%s \' "$u"; wget -S -O /dev/null -T 5 "$u" 2>&1 | awk '
            + shlex.quote(STATUS_AWK) + "; done")
    return StringCommand(
        *_inside(project_dir, service), "sh -c", QuoteString(loop), "sh",
        *[QuoteString(u) for u in urls], "|| true",
    )  # fmt: skip


def _inside(project_dir: str, service: str) -> list[object]:
    """``docker exec CONTAINER`` of ``service`` in the Compose project of ``project_dir``, found
    by Compose's labels (``compose exec`` costs the host twice the CPU); nothing runs (and
    nothing is printed) when the project or its container is not there."""
    return ["cd", QuoteString(project_dir), "2>/dev/null || exit 0;", *project_name_sh(),
            service_container_sh(service), '[ -n "$c" ] && docker exec "$c"']


def wait_command(probe: StringCommand, what: str, timeout: int, statuses: tuple[str, ...] | None,
                 interval: int = 2) -> StringCommand:
    """Poll ``probe`` until it prints an accepted status, or fail after ``timeout`` s."""
    accepted = "|".join(statuses) if statuses else "[1-5][0-9][0-9]"
    message = f"{what} did not answer within {timeout}s"
    return StringCommand(
        "end=$(( $(date +%s) +", QuoteString(str(timeout)), "));",
        "while :; do code=$(", probe, ");",
        f'case "$code" in {accepted}) exit 0;; esac;',
        'if [ "$(date +%s)" -ge "$end" ]; then',
        "printf 'llminfra: %s: %s (last status: %s)\\n' \"$(hostname)\"", QuoteString(message),
        '"${code:-none}" >&2; exit 1; fi;',
        "sleep", QuoteString(str(interval)), "; done",
    )  # fmt: skip
