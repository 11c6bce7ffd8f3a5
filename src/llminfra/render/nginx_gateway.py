"""The gateway's Nginx site: TLS at the edge, streaming-safe proxy to the engine.

The public server name serves the OpenAI-compatible client API and nothing else: the
engine's web UI and admin API (`/api/`, LiteLLM's `/ui`, `/key/...`) answer 404 unless the
client's address is in `nginx.admin_allow_cidrs` (default: none). Admins reach the UI through
`llminfra admin`, an SSH forward to the loopback admin port.
"""

from __future__ import annotations

from dataclasses import dataclass

from llminfra.commands.net import reach
from llminfra.commands.tls import ACME_WEBROOT
from llminfra.model import Stack

from .files import RenderedFile, render
from .nginx_common import hostname, size
from .tls import CertPaths, cert_paths

GATEWAY_SITE = "/etc/nginx/conf.d/llminfra-gateway.conf"
# What OpenAI-compatible clients (SDKs, LangChain, chat UIs) call: the API itself, the model
# list, and the token-authenticated usage endpoints some UIs poll. One regex, anchored, so an
# engine route outside it (an admin API, a new debug page) is never published by accident.
CLIENT_PATHS = (
    "models(/.+)?", "chat/completions", "completions", "embeddings", "moderations",
    "audio/(speech|transcriptions|translations)", "images/(generations|edits|variations)",
    "rerank", "dashboard/billing/(subscription|usage)",
)
CLIENT_API = "^/v1/(" + "|".join(CLIENT_PATHS) + ")$"


@dataclass(frozen=True)
class GatewaySite:
    server_name: str
    http_port: int
    https_port: int
    cert: CertPaths
    acme_webroot: str | None
    upstream: str  # host:port of the engine's published port
    read_timeout: int
    client_max_body_size: str
    admin_allow_cidrs: tuple[str, ...]  # may reach the engine's UI and admin API
    client_api: str = CLIENT_API

    @property
    def https_origin(self) -> str:
        port = "" if self.https_port == 443 else f":{self.https_port}"
        return f"https://{self.server_name}{port}"


def gateway_view(stack: Stack, gateway: str) -> GatewaySite:
    gw = stack.gateways[gateway]
    ngx, engine = gw.nginx, gw.engine_settings
    name = hostname(ngx.server_name)
    return GatewaySite(
        server_name=name, http_port=ngx.http_port, https_port=ngx.https_port,
        cert=cert_paths(ngx.tls, name, name),
        acme_webroot=ACME_WEBROOT if ngx.tls.mode == "acme" else None,
        upstream=f"{reach(engine.api_bind)}:{engine.api_port}",
        read_timeout=ngx.read_timeout, client_max_body_size=size(ngx.client_max_body_size),
        admin_allow_cidrs=tuple(ngx.admin_allow_cidrs),
    )


def render_gateway_nginx(stack: Stack, gateway: str) -> RenderedFile:
    return RenderedFile(GATEWAY_SITE, render("nginx/gateway.conf.j2", gateway_view(stack, gateway)))
