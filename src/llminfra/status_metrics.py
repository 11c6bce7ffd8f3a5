"""`llminfra status` rows from Prometheus on the gateway: each scrape target up or down, and for
model servers tokens per second and queue depth.

The queries run on the gateway inside the same batched SSH probe as every other gateway check
(curl to Prometheus on loopback); each answer is cut down to its one value on the gateway, so
a row's output stays a few short ``name=value`` lines.
"""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING

from .commands.net import reach
from .commands.prometheus import VALUE_SED
from .model import Stack
from .model.metrics import PROMETHEUS_BIND, duration_seconds, metrics_of

if TYPE_CHECKING:
    from .status import Check, State



def rate_window(scrape_interval: str) -> str:
    """rate() needs a few samples: four scrape intervals, at least a minute."""
    return f"{max(60, int(4 * duration_seconds(scrape_interval)))}s"


def query_script(url: str, queries: list[tuple[str, str]]) -> str:
    """Print ``name=<value>`` per query (``none`` when the answer holds no sample)."""
    define = (f"q() {{ v=$(curl -fsS --max-time 10 -G --data-urlencode \"query=$2\" "
              f"{shlex.quote(url)} | sed -n {shlex.quote(VALUE_SED)}); echo \"$1=${{v:-none}}\"; }}")
    calls = [f"q {name} {shlex.quote(query)}" for name, query in queries]
    return "; ".join([define, *calls])


def target_queries(job: str, generated: str | None = None, waiting: str | None = None,
                   running: str | None = None, window: str = "60s") -> list[tuple[str, str]]:
    sel = f'{{job="{job}"}}'
    out = [("up", f"up{sel}")]
    if generated:
        out.append(("tokens_per_s", f"sum(rate({generated}{sel}[{window}]))"))
    if waiting:
        out.append(("waiting", f"sum({waiting}{sel})"))
    if running:
        out.append(("running", f"sum({running}{sel})"))
    return out


def values(output: str) -> dict[str, str]:
    found = dict(re.findall(r"(\w+)=(\S+)", output))
    return {k: v for k, v in found.items() if v != "none"}


def digest(output: str) -> tuple[State, str]:
    """A target row from its ``name=value`` lines."""
    v = values(output)
    if "up" not in v:
        return "unknown", "no sample in Prometheus yet"
    if v["up"] != "1":
        return "down", "Prometheus cannot scrape it"
    parts = []
    if "tokens_per_s" in v:
        parts.append(f"{float(v['tokens_per_s']):.1f} tokens/s")
    elif "tokens_per_s=none" in output:  # rate() needs two samples in its window
        parts.append("tokens/s not known yet")
    if "waiting" in v:
        parts.append(f"{float(v['waiting']):g} waiting")
    if "running" in v:
        parts.append(f"{float(v['running']):g} running")
    return "ok", ", ".join(parts) or "scraped"


def metrics_checks(stack: Stack, gateway: str) -> list[Check]:
    from .render.metrics import scrape_targets
    from .status import Check, curl_probe

    m = metrics_of(stack, gateway)
    if m is None:
        return []
    base = f"http://{reach(PROMETHEUS_BIND)}:{m.port}"
    out = [Check(f"{gateway}:prometheus", "metrics", f"{gateway} prometheus",
                 curl_probe(f"{base}/-/ready"))]
    window = rate_window(m.scrape_interval)
    for t in scrape_targets(stack, gateway):
        s = t.series
        queries = target_queries(t.job, window=window) if s is None else \
            target_queries(t.job, s.generated_tokens, s.waiting, s.running, window)
        out.append(Check(f"{gateway}:metrics:{t.job}", "metrics", f"{gateway}<-{t.job}",
                         query_script(f"{base}/api/v1/query", queries), digest))
    return out
