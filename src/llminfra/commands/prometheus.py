"""Questions to Prometheus' HTTP API, answered with one bare value (no JSON parser needed on
the host: a sed expression cuts the first sample's value out of the answer)."""

from __future__ import annotations

from pyinfra.api import QuoteString, StringCommand

# the first sample's value in an instant query's answer: "value":[<time>,"<value>"]
VALUE_SED = r's/.*"value":\[[^,]*,"\([^"]*\)"\].*/\1/p'
UP_COUNT = "count(up == 1)"


def query_value(url: str, query: str) -> StringCommand:
    """Print the value of ``query`` at ``url`` (``.../api/v1/query``); nothing when Prometheus
    does not answer or the result is empty; exit 0."""
    return StringCommand(
        "curl -s -m 5 -G --data-urlencode", QuoteString(f"query={query}"), QuoteString(url),
        "| sed -n", QuoteString(VALUE_SED), "; echo",
    )  # fmt: skip
