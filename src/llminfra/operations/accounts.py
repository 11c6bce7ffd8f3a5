"""System accounts: the login-less ones the kit makes, and removing those it no longer needs."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import operation
from pyinfra.facts.server import Users

from llminfra.commands.accounts import user_add, user_modify, user_remove
from llminfra.facts import batch
from llminfra.facts.batch import expecting
from llminfra.facts.host import observe, wanted


@expecting(lambda user: [(Users, {})])
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
    if user not in (batch.get(Users) or {}):
        host.noop(f"user {user} does not exist")
        return
    yield user_remove(user)


@expecting(lambda user, **_: [wanted(users=[user])])
@operation()
def system_user(user: str, shell: str, home: str | None = None):
    """
    A system account that cannot log in with a password (``useradd -r``).

    + user: the account
    + shell: its login shell, e.g. ``/usr/sbin/nologin``
    + home: its home directory, created with it (``None``: no home)

    An existing account gets the shell and home fixed; its uid is left alone.

    **Examples:**

    .. code:: python

        accounts.system_user(name="autossh user", user="llminfra-autossh",
                             shell="/usr/sbin/nologin")
    """
    found = observe(users=[user])["users"].get(user)
    if found is None:
        yield user_add(user, shell, home)
    elif found["shell"] != shell or (home and found["home"] != home):
        yield user_modify(user, shell, home)
    else:
        host.noop(f"user {user} exists")
