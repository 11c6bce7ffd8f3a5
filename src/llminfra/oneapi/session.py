"""Reach a gateway's admin API from the operator's machine: an SSH tunnel to its loopback port
(pinned host key), never an exposed port."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from llminfra.model import Stack
from llminfra.paths import OperatorPaths, known_hosts_file

from .client import OneAPIClient
from .credentials import CredentialCache, admin_credentials
from .from_stack import flavor_of
from .localstate import LocalState
from .tunnel import open_admin_tunnel


def local_state(stack: Stack, gateway: str) -> LocalState:
    """0700 directory beside the stack file: key fingerprints, captured token keys, backups."""
    return LocalState(str(OperatorPaths.of(stack).oneapi_state(gateway)))


def _client(stack: Stack, gateway: str, url: str) -> OneAPIClient:
    oa = stack.gateways[gateway].oneapi_settings
    flavor = flavor_of(stack, gateway)
    creds = admin_credentials(
        url, flavor, password=stack.secret(oa.root_password),
        access_token=stack.secret(oa.root_access_token) if oa.root_access_token else None,
        cache=CredentialCache(OperatorPaths.of(stack).oneapi_state(gateway)))
    return OneAPIClient(url, creds.access_token, flavor=flavor, user_id=creds.user_id)


@contextlib.contextmanager
def admin_endpoint(stack: Stack, gateway: str, direct_url: str | None = None) -> Iterator[str]:
    """The admin API's base URL: `direct_url` as given (tests, local), else a pinned SSH
    tunnel to the gateway's loopback port, open while the context lasts."""
    if direct_url:
        yield direct_url
        return
    gw = stack.gateways[gateway]
    with open_admin_tunnel(
        gw.ssh.host, ssh_user=gw.ssh.user,
        ssh_key_file=os.path.expanduser(gw.ssh.key) if gw.ssh.key else None,
        ssh_key_password=stack.secret(gw.ssh.key_password) if gw.ssh.key_password else None,
        known_hosts=known_hosts_file(stack, gateway), ssh_port=gw.ssh.port,
        remote_port=gw.oneapi_settings.admin_port, remote_host=gw.oneapi_settings.admin_bind,
    ) as url:
        yield url


@contextlib.contextmanager
def admin_client(stack: Stack, gateway: str, admin_url: str | None = None
                 ) -> Iterator[OneAPIClient]:
    """A client on the gateway's admin API, authenticated the flavour's way
    (:mod:`.credentials`); `admin_url` skips the tunnel (tests, local)."""
    with admin_endpoint(stack, gateway, admin_url) as url, _client(stack, gateway, url) as client:
        yield client
