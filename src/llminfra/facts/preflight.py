"""Whether a host can be deployed to at all: init system, privileges, package manager."""

from __future__ import annotations

from typing import Any

from pyinfra.api import FactBase
from typing_extensions import override

from llminfra.commands.preflight import preflight_probe


class Preflight(FactBase[dict[str, Any]]):
    """
    What the login user finds on the host (read it with ``_sudo=False``).

    .. code:: python

        {"uid": 0, "systemd": True, "sudo": "root", "apt": True,
         "os": "debian", "codename": "trixie"}
    """

    @override
    def command(self):
        return preflight_probe()

    @override
    def process(self, output):
        fields = dict(line.strip().partition(" ")[::2] for line in output if line.strip())
        os_id, _, codename = fields.get("os", "unknown unknown").partition(" ")
        uid = fields.get("uid", "")
        return {
            "uid": int(uid) if uid.isdigit() else None,
            "systemd": fields.get("systemd") == "yes",
            "sudo": fields.get("sudo", "no"),
            "apt": fields.get("apt") == "yes",
            "os": os_id.lower(),
            "codename": codename.strip().lower(),
        }
