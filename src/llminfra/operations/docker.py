"""Configure the Docker engine itself."""

from __future__ import annotations

from io import StringIO

from pyinfra import host
from pyinfra.api import operation
from pyinfra.operations import files

from llminfra.commands.docker import DAEMON_JSON


@operation()
def daemon_config(content: str, path: str = DAEMON_JSON):
    """
    Keep Docker's ``daemon.json`` holding exactly ``content``.

    + content: the whole file, e.g. ``llminfra.render.render_daemon_json(stack, host).content``
      (the same text ``llminfra render`` writes)
    + path: file to write

    Restart dockerd only when this op changed the file, with pyinfra's ``_if``:

    **Examples:**

    .. code:: python

        from pyinfra.operations import systemd
        from llminfra.operations import docker

        daemon = docker.daemon_config(
            name="Configure dockerd",
            content='{\\n  "log-driver": "local"\\n}\\n',
        )
        systemd.service(
            name="Restart dockerd",
            service="docker",
            restarted=True,
            _if=daemon.did_change,
        )
    """
    commands = list(files.put._inner(src=StringIO(content), dest=path, mode="644"))
    if commands:
        yield from commands
    else:
        host.noop(f"{path} is up to date")
