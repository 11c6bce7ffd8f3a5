"""`llminfra admin`: the documented way to the gateway engine's web UI.

The public server name never serves the UI or the admin API (unless
`nginx.admin_allow_cidrs` says so). An admin opens an SSH forward from their machine to the
gateway's loopback admin port instead: the same pinned host key and the same key handling
(ssh.key, ssh.key_password, ssh-agent) as pyinfra and the channel step.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from .commands.net import reach
from .model import Stack
from .oneapi.tunnel import TunnelError, open_admin_tunnel
from .paths import known_hosts_file

# Where each engine's web UI starts, on its admin port.
UI_PATHS = {"oneapi": "/", "litellm": "/ui/"}


def admin_target(stack: Stack, gateway: str) -> tuple[str, int, str]:
    """(host the forward targets on the gateway, port, path of the web UI)."""
    gw = stack.gateways[gateway]
    engine = gw.engine_settings
    return reach(engine.api_bind), engine.api_port, UI_PATHS[gw.engine]


def run_admin(stack: Stack, gateway: str, local_port: int = 0, out: TextIO = sys.stdout,
              wait: Callable[[], None] | None = None) -> int:
    """Open the forward, print the URL, keep it open until Ctrl-C / SIGTERM (or `wait`)."""
    gw = stack.gateways[gateway]
    host, port, path = admin_target(stack, gateway)
    password = stack.secret(gw.ssh.key_password) if gw.ssh.key_password else None
    try:
        with open_admin_tunnel(gw.ssh.host, ssh_user=gw.ssh.user, ssh_key_file=gw.ssh.key,
                               ssh_key_password=password, ssh_port=gw.ssh.port,
                               known_hosts=known_hosts_file(stack, gateway), remote_host=host,
                               remote_port=port, local_port=local_port) as url:
            print(f"{gateway}: {gw.engine} web UI at {url}{path}", file=out)
            print(f"(an SSH forward to {gw.ssh.host}'s {host}:{port}; Ctrl-C closes it)",
                  file=out, flush=True)
            (wait or _until_signal)()
    except TunnelError as exc:
        print(f"{gateway}: {exc}", file=sys.stderr)
        return 1
    return 0


def _until_signal() -> None:
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
