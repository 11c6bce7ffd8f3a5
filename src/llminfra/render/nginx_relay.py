"""A relay's Nginx config: closed to strangers, hides who is calling, checks the upstream."""

from __future__ import annotations

import re
from dataclasses import dataclass

from llminfra.commands.tls import ACME_WEBROOT
from llminfra.model import Stack

from .files import RenderedFile, render
from .nginx_common import address, header, hostname, path, upstream
from .tls import CertPaths, cert_paths

RELAY_SITE = "/etc/nginx/conf.d/llminfra-relay.conf"
TRUSTED_CA = "/etc/ssl/certs/ca-certificates.crt"
VERIFY_DEPTH = 4
# Headers that would tell the provider who the real client is.
CLIENT_IP_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded", "X-Forwarded-Host",
                     "X-Forwarded-Proto", "X-Forwarded-Port", "Via", "True-Client-IP",
                     "CF-Connecting-IP", "X-Client-IP", "X-Cluster-Client-IP")


@dataclass(frozen=True)
class RelayRoute:
    kind: str
    var: str  # nginx variable holding the upstream, so `resolver` re-resolves it
    pool: str  # the `upstream` block's name, when connections are kept alive
    upstream: str  # host[:port] proxied to
    upstream_server: str  # host:port, as an `upstream` block's `server` needs it
    upstream_host: str  # SNI and certificate name
    host_header: str
    location: str
    prefix_regex: str | None  # path routing: strips the prefix


@dataclass(frozen=True)
class RelayServer:
    server_name: str
    cert: CertPaths
    routes: tuple[RelayRoute, ...]
    path_routing: bool


@dataclass(frozen=True)
class RelaySite:
    servers: tuple[RelayServer, ...]
    https_port: int
    resolver: tuple[str, ...]
    allow_cidrs: tuple[str, ...]
    secret: str | None
    secret_var: str  # `$http_x_relay_key`
    strip_headers: tuple[str, ...]
    read_timeout: int
    acme_webroot: str | None
    keepalive: int = 0  # idle connections kept per provider and worker; 0: re-resolve per request
    trusted_ca: str = TRUSTED_CA
    verify_depth: int = VERIFY_DEPTH
    client_max_body_size: str = "100m"


def _route(kind: str, up: str, prefix: str | None) -> RelayRoute:
    host, _, port = upstream(up).partition(":")
    regex = None if prefix is None else "^" + re.escape(path(prefix)) + "/(.*)$"
    return RelayRoute(kind=kind, var=f"llminfra_up_{kind}", pool=f"llminfra_relay_{kind}",
                      upstream=up, upstream_server=f"{host}:{port or 443}", upstream_host=host,
                      host_header=up if port and port != "443" else host,
                      location="/" if prefix is None else f"{prefix}/", prefix_regex=regex)


def relay_view(stack: Stack, relay: str) -> RelaySite:
    r = stack.relays[relay]
    site = hostname(r.server_name)
    if r.routing == "path":
        routes = tuple(_route(p.kind, p.upstream_host, p.path_prefix) for p in r.providers)
        servers = (RelayServer(site, cert_paths(r.tls, site, site), routes, True),)
    else:
        servers = tuple(
            RelayServer(hostname(p.server_name or ""), cert_paths(r.tls, p.server_name or "", site),
                        (_route(p.kind, p.upstream_host, None),), False)
            for p in r.providers)
    access = r.access
    # The model checked the value can sit verbatim in a `map` key (validate.check_secrets).
    secret = stack.secret(access.shared_secret) if access.shared_secret else None
    return RelaySite(
        servers=servers, https_port=r.https_port,
        resolver=tuple(address(a, "resolver") for a in r.resolver),
        allow_cidrs=tuple(access.allow_cidrs), secret=secret,
        secret_var="http_" + header(access.header).lower().replace("-", "_"),
        strip_headers=CLIENT_IP_HEADERS + (access.header,), read_timeout=r.read_timeout,
        acme_webroot=ACME_WEBROOT if r.tls.mode == "acme" else None,
        keepalive=r.upstream_keepalive,
    )


def render_relay_nginx(stack: Stack, relay: str) -> RenderedFile:
    view = relay_view(stack, relay)
    # The shared secret sits in a map: the whole file is secret.
    return RenderedFile(RELAY_SITE, render("nginx/relay.conf.j2", view), "0600", secret=True)
