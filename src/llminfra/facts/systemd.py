"""Facts about systemd units the kit wrote."""

from __future__ import annotations

from pyinfra.api import FactBase
from typing_extensions import override

from llminfra.commands.systemd import kit_units


class KitUnits(FactBase[dict[str, str]]):
    """
    ``<prefix>*.service`` units whose file carries the kit's header: unit name (without
    ``.service``) -> ``systemctl is-active`` state.

    .. code:: python

        {"llminfra-tunnel-gpu-2-ollama": "active"}
    """

    @override
    def default(self):
        return {}

    @override
    def requires_command(self, prefix):
        return "systemctl"

    @override
    def command(self, prefix):
        return kit_units(prefix)

    @override
    def process(self, output):
        found = {}
        for line in output:
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "unit":
                found[parts[1]] = parts[2] if len(parts) > 2 else "unknown"
        return found
