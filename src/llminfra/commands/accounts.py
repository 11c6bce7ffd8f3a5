"""System accounts the kit creates (the tunnel users)."""

from __future__ import annotations

from pyinfra.api import QuoteString, StringCommand


def user_remove(user: str) -> StringCommand:
    """End the account's processes (a tunnel session still open) and delete it; its home
    stays, as ``userdel`` leaves it by default."""
    name = QuoteString(user)
    return StringCommand("{ pkill -KILL -u", name, "2>/dev/null; sleep 1; };", "userdel", name)


def user_add(user: str, shell: str, home: str | None, system: bool = True) -> StringCommand:
    """A login-less system account; ``home`` is created (``-m``) when given."""
    return StringCommand(
        "useradd", *(["-r"] if system else []), "-s", QuoteString(shell),
        *(["-d", QuoteString(home), "-m"] if home else ["-M"]), QuoteString(user),
    )  # fmt: skip


def user_modify(user: str, shell: str, home: str | None) -> StringCommand:
    return StringCommand("usermod", "-s", QuoteString(shell),
                         *(["-d", QuoteString(home)] if home else []), QuoteString(user))  # fmt: skip
