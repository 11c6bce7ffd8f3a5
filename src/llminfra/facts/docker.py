"""Facts about the Docker engine's own configuration."""

from __future__ import annotations

import json
from typing import Any

from pyinfra.api import FactBase, QuoteString, StringCommand
from pyinfra.api.exceptions import FactProcessError
from typing_extensions import override

DAEMON_JSON = "/etc/docker/daemon.json"


class DockerDaemonConfig(FactBase[dict[str, Any] | None]):
    """
    The parsed ``/etc/docker/daemon.json`` (or ``path``); ``None`` if the file is absent.
    """

    @override
    def command(self, path=DAEMON_JSON):
        return StringCommand("! test -e", QuoteString(path), "|| cat", QuoteString(path))

    @override
    def process(self, output):
        try:
            data = json.loads("\n".join(output))
        except json.JSONDecodeError as e:
            raise FactProcessError(f"daemon.json is not valid JSON: {e}") from e
        if not isinstance(data, dict):
            raise FactProcessError("daemon.json does not hold a JSON object")
        return data
