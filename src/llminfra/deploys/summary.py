"""One line at the end of a run naming the hosts pyinfra could not connect to.

pyinfra reports a connect failure once, early, among pages of output, then deploys the other
hosts; the run's end does not repeat it. The deploy files call :func:`unreachable_at_exit`
(deploy code runs after pyinfra connected, so every host that failed so far failed to
connect) and the line is printed last, after pyinfra's own summary.
"""

from __future__ import annotations

import atexit
import sys

from pyinfra import state


def unreachable_line(names: list[str]) -> str:
    return (f"llminfra: NOT DEPLOYED (unreachable over SSH): {', '.join(names)}; "
            "the other hosts were deployed, re-run once it answers")


def unreachable_at_exit() -> None:
    """Once per run: remember the hosts that failed to connect, print them at exit."""
    if getattr(state, "llminfra_unreachable_noted", False):
        return
    state.llminfra_unreachable_noted = True
    names = sorted(host.name for host in state.failed_hosts)
    if names:
        atexit.register(lambda: print(unreachable_line(names), file=sys.stderr, flush=True))
