"""System accounts the kit creates (the tunnel users)."""

from __future__ import annotations

from pyinfra.api import QuoteString, StringCommand


def user_remove(user: str) -> StringCommand:
    """End the account's processes (a tunnel session still open) and delete it; its home
    stays, as ``userdel`` leaves it by default."""
    name = QuoteString(user)
    return StringCommand("{ pkill -KILL -u", name, "2>/dev/null; sleep 1; };", "userdel", name)
