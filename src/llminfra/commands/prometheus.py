"""Questions to Prometheus' HTTP API, answered with one bare value (no JSON parser needed on
the host)."""

from __future__ import annotations

from pyinfra.api import QuoteString, StringCommand

# the first sample's value in an instant query's answer: "value":[<time>,"<value>"]
VALUE_SED = r's/.*"value":\[[^,]*,"\([^"]*\)"\].*/\1/p'

# An active target that answered its last scrape, as /api/v1/targets writes it; label values
# are JSON strings there, so a quote inside one is escaped and cannot fake this.
UP_HEALTH = '"health":"up"'


def targets_up(base: str) -> StringCommand:
    """Print how many of the targets Prometheus at ``base`` scrapes now answered their last
    scrape; nothing when Prometheus does not answer; exit 0.

    The targets API, not ``count(up == 1)``: after a reload drops a target (a GPU host or a
    service removed), its ``up`` series still answers queries for minutes."""
    return StringCommand(
        "r=$(curl -sf -m 5", QuoteString(f"{base.rstrip('/')}/api/v1/targets?state=active"),
        ") && printf '%s' \"$r\" | grep -o", QuoteString(UP_HEALTH), "| grep -c . ; echo",
    )  # fmt: skip
