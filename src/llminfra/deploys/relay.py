"""Relay boxes: Nginx reverse proxies to the providers, closed to strangers."""

from __future__ import annotations

from pyinfra.api import deploy

from llminfra.model import Stack
from llminfra.render import relay_view, render_relay_nginx

from ._tls import ip_literals
from .nginx import nginx_site
from .preflight import preflight


@deploy("Relay")
def relay(stack: Stack, relay_name: str) -> None:
    """
    Nginx with the relay's config (0600: it holds the shared secret) and a certificate per
    server name; ``ca-certificates`` lets Nginx verify the providers.

    + stack: the loaded stack
    + relay_name: key of ``stack.relays``
    """
    settings = stack.relays[relay_name]
    preflight(stack, relay_name, docker=False)
    view = relay_view(stack, relay_name)
    nginx_site(
        render_relay_nginx(stack, relay_name), settings.tls,
        {server.server_name: server.cert for server in view.servers},
        ip_literals(settings.ssh.host), packages=("ca-certificates",),
    )
