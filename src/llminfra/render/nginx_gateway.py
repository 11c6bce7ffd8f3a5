"""The gateway's Nginx site: TLS at the edge, streaming-safe proxy to OneAPI."""

from __future__ import annotations

from dataclasses import dataclass

from llminfra.commands.net import reach
from llminfra.commands.tls import ACME_WEBROOT
from llminfra.model import Stack

from .files import RenderedFile, render
from .nginx_common import hostname, size
from .tls import CertPaths, cert_paths

GATEWAY_SITE = "/etc/nginx/conf.d/llminfra-gateway.conf"


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
    )


def render_gateway_nginx(stack: Stack, gateway: str) -> RenderedFile:
    return RenderedFile(GATEWAY_SITE, render("nginx/gateway.conf.j2", gateway_view(stack, gateway)))
