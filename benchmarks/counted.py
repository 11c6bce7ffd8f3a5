"""pyinfra with every remote command counted: `python3 -m benchmarks.counted <pyinfra args>`.

Method: SSHConnector.run_shell_command is wrapped before pyinfra's CLI starts, so every command
pyinfra sends over SSH (facts, operations, and the cp/rm a sudo upload runs) is counted per
host; SFTP uploads and downloads are counted apart. Identical fact commands that pyinfra answers
from its per-host cache never reach the connector and are not counted: they are not sent.
At exit the counts go to the JSON file named by LLMINFRA_COUNT_FILE (mode 0600). Command text
is kept as pyinfra prints it (str(StringCommand): MaskString values masked).
"""

from __future__ import annotations

import atexit
import json
import os
import time

COUNTS: dict[str, dict] = {}
TIMELINE: list[tuple] = []  # (sent at, answered at, host, command start) in s from start
T0 = time.monotonic()


def _record(host: str, kind: str, text: str = "") -> None:
    rec = COUNTS.setdefault(host, {"commands": 0, "uploads": 0, "downloads": 0, "sent": []})
    rec[kind] += 1
    if text:
        rec["sent"].append(text)


def install() -> None:
    from pyinfra.connectors.ssh import SSHConnector

    run, put, get = SSHConnector.run_shell_command, SSHConnector._put_file, \
        SSHConnector._get_file

    def run_counted(self, command, *args, **kwargs):
        _record(self.host.name, "commands", str(command))
        started = time.monotonic()
        try:
            return run(self, command, *args, **kwargs)
        finally:
            TIMELINE.append((round(started - T0, 3), round(time.monotonic() - T0, 3),
                             self.host.name, str(command)[:60]))

    def put_counted(self, *args, **kwargs):
        _record(self.host.name, "uploads")
        return put(self, *args, **kwargs)

    def get_counted(self, *args, **kwargs):
        _record(self.host.name, "downloads")
        return get(self, *args, **kwargs)

    SSHConnector.run_shell_command = run_counted
    SSHConnector._put_file = put_counted
    SSHConnector._get_file = get_counted


def _dump(path: str, started: float) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"seconds": time.monotonic() - started, "hosts": COUNTS,
                   "timeline": TIMELINE}, fh)


def main() -> None:
    from pyinfra_cli.main import main as pyinfra_main

    started = time.monotonic()
    install()
    path = os.environ.get("LLMINFRA_COUNT_FILE")
    if path:
        atexit.register(_dump, path, started)
    pyinfra_main()


if __name__ == "__main__":
    main()
