"""Long commands that say what they wait for: image pulls, model pulls, readiness waits.

pyinfra prints an operation's name when it starts and its result when it ends; a wait of
several minutes in between looks like a hang. A :class:`Watched` command is the same shell
command (its string, and so the fixtures, unchanged) that logs one line naming host and
step when it starts, another every ``every`` seconds while it runs, and one when it ends.
"""

from __future__ import annotations

import time

import gevent
from pyinfra import logger
from pyinfra.api import StringCommand

HEARTBEAT_S = 15.0


def waiting_line(prefix: str, what: str, timeout: int | None) -> str:
    limit = f" (up to {timeout} s)" if timeout else ""
    return f"{prefix}{what}{limit}"


def still_line(prefix: str, what: str, elapsed: float, timeout: int | None) -> str:
    limit = f" of up to {timeout} s" if timeout else ""
    return f"{prefix}still {what}: {elapsed:.0f} s{limit}"


class Watched(StringCommand):
    """``command``, announced as ``what`` (e.g. "waiting for smol to serve qwen") with a
    heartbeat while it runs."""

    def __init__(self, command: StringCommand, what: str, timeout: int | None = None,
                 every: float = HEARTBEAT_S):
        super().__init__(command)
        self.what, self.timeout, self.every = what, timeout, every

    def execute(self, state, host, connector_arguments):
        prefix = host.print_prefix
        logger.info(waiting_line(prefix, self.what, self.timeout))
        start = time.monotonic()

        def heartbeat() -> None:
            while True:
                gevent.sleep(self.every)
                logger.info(still_line(prefix, self.what, time.monotonic() - start,
                                       self.timeout))

        beat = gevent.spawn(heartbeat)
        outcome = "stopped"
        try:
            result = super().execute(state, host, connector_arguments)
            ok = result[0] if isinstance(result, tuple) else bool(result)
            outcome = "done" if ok else "failed"
            return result
        finally:
            beat.kill()
            logger.info(f"{prefix}{self.what}: {outcome} after {time.monotonic() - start:.0f} s")
