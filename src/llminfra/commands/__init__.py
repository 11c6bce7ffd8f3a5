"""Pure builders for every shell command and config line llminfra sends to a host.

One module per tool (``compose``, ``models``, ``ollama``, ``apt``, ``ssh``, ``tls``, ``http``,
``files``, ``gpu``, ``docker``) plus ``net`` for address forms shared by both ends of a
connection. Nothing here touches pyinfra state: each function maps plain arguments to a
``StringCommand`` (user values wrapped in ``QuoteString``) or to a plain string (file
content, argv for systemd units). Tests assert their exact output.

This package imports nothing itself, so ``commands.net`` stays usable without pyinfra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyinfra.api import StringCommand


def raw(command: StringCommand) -> str:
    """The command exactly as the host's shell receives it (secrets unmasked)."""
    return command.get_raw_value()
