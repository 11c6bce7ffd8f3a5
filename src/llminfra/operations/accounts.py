"""System accounts the kit no longer needs."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import operation
from pyinfra.facts.server import Users

from llminfra.commands.accounts import user_remove


@operation()
def absent(user: str):
    """
    Delete ``user`` (ending its processes first) unless it does not exist.

    + user: the account, e.g. the tunnel login user on a GPU host

    pyinfra's ``server.user(present=False)`` fails while an SSH session of the user is open,
    which a gateway's tunnel keeps open.

    **Examples:**

    .. code:: python

        accounts.absent(name="Tunnel login user", user="llminfra-tunnel")
    """
    if user not in (host.get_fact(Users) or {}):
        host.noop(f"user {user} does not exist")
        return
    yield user_remove(user)
