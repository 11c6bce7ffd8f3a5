"""The gateway: Docker, its engine (OneAPI or LiteLLM) under Compose on loopback, Nginx with TLS
in front of it."""

from __future__ import annotations

import posixpath
from io import StringIO

from pyinfra.api import deploy

from llminfra.commands.net import reach
from llminfra.model import Stack
from llminfra.operations import compose, paths, private
from llminfra.operations.http import answers
from llminfra.render import (
    cert_paths,
    render_gateway_nginx,
    render_oneapi_compose,
    render_oneapi_secrets,
    trust_bundle,
)
from llminfra.render.compose_litellm import SERVICE as LITELLM_SERVICE
from llminfra.render.nginx_gateway import gateway_view

from ._tls import ip_literals
from .docker import docker_engine
from .litellm import litellm
from .nginx import nginx_site
from .preflight import preflight

ONEAPI_SERVICE = "oneapi"  # the service name in templates/compose/oneapi.yaml.j2
ENGINE_SERVICE = {"oneapi": ONEAPI_SERVICE, "litellm": LITELLM_SERVICE}
ENGINE_NAME = {"oneapi": "OneAPI", "litellm": "LiteLLM"}
ONEAPI_START_TIMEOUT = 180


def oneapi_status_url(stack: Stack, gateway: str) -> str:
    oa = stack.gateways[gateway].oneapi_settings
    return f"http://{reach(oa.admin_bind)}:{oa.admin_port}/api/status"


@deploy("OneAPI")
def oneapi(stack: Stack, gateway: str) -> None:
    """
    OneAPI's Compose project in ``oneapi.data_dir`` (its data stays there across redeploys),
    secrets in 0600 env files, and a wait until ``/api/status`` answers on the admin port.

    + stack: the loaded stack
    + gateway: key of ``stack.gateways``
    """
    oa = stack.gateways[gateway].oneapi_settings
    secrets, trust = render_oneapi_secrets(stack, gateway), trust_bundle(stack, gateway)
    for secret in secrets:
        private.file(name=f"OneAPI {posixpath.basename(secret.path_on_host)}",
                     path=secret.path_on_host, src=StringIO(secret.content))  # fmt: skip
    if trust:
        paths.file(name="OneAPI extra CA certificates", src=StringIO(trust.content),
                   path=trust.path_on_host, mode="644")  # fmt: skip
    compose.project(name="OneAPI Compose project", project_dir=oa.data_dir,
                  compose=render_oneapi_compose(stack, gateway).content)  # fmt: skip
    answers(name="OneAPI answers /api/status", url=oneapi_status_url(stack, gateway),
            what="OneAPI /api/status", timeout=ONEAPI_START_TIMEOUT)  # fmt: skip


@deploy("Gateway")
def gateway(stack: Stack, gateway: str) -> None:
    """
    Docker, the engine and the TLS edge of one gateway (tunnels and channels are separate deploys,
    run after the GPU hosts and relays they point at).

    + stack: the loaded stack
    + gateway: key of ``stack.gateways``
    """
    gw = stack.gateways[gateway]
    preflight(stack, gateway)
    docker_engine(stack, gateway)
    # the engine not chosen is stopped when it is declared (a switch); its data stays
    for engine in ("oneapi", "litellm"):
        other = getattr(gw, engine)
        if engine != gw.engine and other is not None:
            compose.project(name=f"{ENGINE_NAME[engine]} Compose project is down "
                          f"(engine is {gw.engine})",
                          project_dir=other.data_dir, present=False)  # fmt: skip
    if gw.engine == "litellm":
        litellm(stack, gateway)
    else:
        oneapi(stack, gateway)
    site = gateway_view(stack, gateway)
    nginx_site(
        render_gateway_nginx(stack, gateway), gw.nginx.tls,
        {site.server_name: cert_paths(gw.nginx.tls, site.server_name, site.server_name)},
        ip_literals(gw.ssh.host),
    )
