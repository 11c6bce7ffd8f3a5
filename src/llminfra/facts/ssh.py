"""Facts about SSH key pairs and known_hosts files."""

from __future__ import annotations

from pyinfra.api import FactBase
from typing_extensions import override

from llminfra.commands.ssh import keypair_state


class SshKeypair(FactBase[dict[str, str | bool | None] | None]):
    """
    The key pair at ``path`` (private key) / ``path.pub``; ``None`` if neither exists.

    .. code:: python

        {"private": True, "public": "ssh-ed25519 AAAA… llminfra@gw"}
    """

    @override
    def command(self, path):
        return keypair_state(path)

    @override
    def process(self, output):
        public = [line[len("public ") :].strip() for line in output if line.startswith("public ")]
        return {"private": "private" in output, "public": public[0] if public else None}
