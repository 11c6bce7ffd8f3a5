"""A scrape target removed from Prometheus' configuration (a GPU host or a service taken out of
the inventory) stops counting at once for the deploy's "Prometheus scrapes every target" wait.

Found by shrinking the lab from seven GPU hosts to two: the next deploy waited 90 s for 5 targets
and failed, because `count(up == 1)` still counted removed targets' series minutes after the
reload. Restores Prometheus' configuration as the deploy wrote it.
"""

from __future__ import annotations

import shlex
import time

from llminfra.commands.prometheus import targets_up

from .conftest import NUMBERS

CONFIG = "/etc/prometheus/prometheus.yml"
BASE = "http://127.0.0.1:9090"
EXTRA = """
  - job_name: removed-later
    static_configs:
      - targets: ["127.0.0.1:9090"]
"""


def count_up(gw) -> int | None:
    out = gw.check_output(targets_up(BASE).get_raw_value()).strip()
    return int(out) if out.isdigit() else None


def removed_up(gw) -> str:
    """The removed job's `up`, as an instant query sees it ("" once its series is gone)."""
    query = shlex.quote('query=up{job="removed-later"}')
    return gw.check_output(f"curl -s -G --data-urlencode {query} {BASE}/api/v1/query "
                           "| sed -n 's/.*\"value\":\\[[^,]*,\"\\([^\"]*\\)\"\\].*/\\1/p'")


def until(what, done, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, what
        time.sleep(1)


def test_a_removed_target_stops_counting_at_once(hosts, deployed):
    gw = hosts["gw-1"]
    until("every configured target up", lambda: count_up(gw) == 5)
    assert gw.check_output(f"tail -n1 {CONFIG}").startswith("        labels:")  # appendable
    try:
        gw.check_output(f"cp -p {CONFIG} {CONFIG}.kept && printf '%s' {shlex.quote(EXTRA)} "
                        f">> {CONFIG} && systemctl reload prometheus")
        until("the added target scraped", lambda: count_up(gw) == 6)
        until("its up series", lambda: removed_up(gw).strip() == "1")
    finally:  # byte for byte as the deploy wrote it: the next deploy changes nothing
        gw.check_output(f"mv {CONFIG}.kept {CONFIG} && systemctl reload prometheus")
    started = time.monotonic()
    until("the removed target no longer counted", lambda: count_up(gw) == 5, timeout=30)
    NUMBERS["removed scrape target: counted until (s)"] = f"{time.monotonic() - started:.1f}"
    NUMBERS["removed scrape target: its up series right after"] = removed_up(gw).strip() or "gone"
