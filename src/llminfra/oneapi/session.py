"""Reach a gateway's admin API from the operator's machine: an SSH tunnel to its loopback port
(pinned host key), never an exposed port."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from llminfra.model import Stack
from llminfra.paths import OperatorPaths, known_hosts_file

from .client import OneAPIClient
from .from_stack import flavor_of
from .localstate import LocalState
from .tunnel import open_admin_tunnel


def local_state(stack: Stack, gateway: str) -> LocalState:
    """0700 directory beside the stack file: key fingerprints, captured token keys, backups."""
    return LocalState(str(OperatorPaths.of(stack).oneapi_state(gateway)))


@contextlib.contextmanager
def admin_client(stack: Stack, gateway: str, admin_url: str | None = None
                 ) -> Iterator[OneAPIClient]:
    """A client on the gateway's admin API; `admin_url` skips the tunnel (tests, local)."""
    gw = stack.gateways[gateway]
    token = stack.secret(gw.oneapi_settings.root_access_token)
    flavor = flavor_of(stack, gateway)
    if admin_url:
        with OneAPIClient(admin_url, token, flavor=flavor) as client:
            yield client
        return
    with open_admin_tunnel(
        gw.ssh.host, ssh_user=gw.ssh.user,
        ssh_key_file=os.path.expanduser(gw.ssh.key) if gw.ssh.key else None,
        known_hosts=known_hosts_file(stack, gateway), ssh_port=gw.ssh.port,
        remote_port=gw.oneapi_settings.admin_port, remote_host=gw.oneapi_settings.admin_bind,
    ) as url, OneAPIClient(url, token, flavor=flavor) as client:
        yield client
