"""A local port forwarded through an SSH connection that is already open.

A deploy plans the gateway's channels over pyinfra's own connection to the gateway (pinned
host key, the same user and key): one ``direct-tcpip`` channel per HTTP connection, no second
SSH handshake, no child process. Everything runs in pyinfra's gevent hub (its socket module is
gevent's there; paramiko's waits are gevent-aware), so accepting and copying are greenlets.
"""

from __future__ import annotations

import contextlib
import socket
import sys
from collections.abc import Callable, Iterator
from typing import Any

import gevent
import paramiko


def _copy(read: Callable[[int], bytes], write: Callable[[bytes], Any], *ends: Any) -> None:
    """Copy until either side ends, then close both (HTTP never half-closes here)."""
    try:
        while data := read(65536):
            write(data)
    except (OSError, EOFError, paramiko.SSHException):
        pass
    finally:
        for end in ends:
            end.close()


@contextlib.contextmanager
def forwarded(transport: paramiko.Transport, remote: tuple[str, int],
              timeout: float = 10.0) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` forwarded to ``remote`` on the far side of ``transport``."""
    # httpcore probes for trio when a client is made; under gevent's patched select (no
    # epoll) trio's import fails with an error httpcore does not catch. It cannot run here.
    sys.modules.setdefault("trio", None)  # type: ignore[arg-type]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    ends: list[Any] = []

    def serve() -> None:
        while True:
            conn, peer = listener.accept()
            try:
                chan = transport.open_channel("direct-tcpip", remote, peer, timeout=timeout)
            except (paramiko.SSHException, OSError):
                conn.close()  # the client sees a closed connection and reports it
                continue
            ends.extend((conn, chan))
            gevent.spawn(_copy, conn.recv, chan.sendall, chan, conn)
            gevent.spawn(_copy, chan.recv, conn.sendall, conn, chan)

    server = gevent.spawn(serve)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.kill()
        listener.close()
        for end in ends:
            end.close()
