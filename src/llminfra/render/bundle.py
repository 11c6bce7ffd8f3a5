"""Every file each host gets, for `llminfra render` and the deploys."""

from __future__ import annotations

from llminfra.model import Stack

from .compose_litellm import config_files, render_litellm_compose, render_litellm_secrets
from .compose_oneapi import render_oneapi_compose, render_oneapi_secrets
from .compose_service import render_service_compose, render_service_secrets
from .daemon import render_daemon_json
from .files import RenderedFile
from .metrics import gateway_metrics_files, gpu_metrics_files
from .nginx_gateway import render_gateway_nginx
from .nginx_relay import render_relay_nginx
from .tunnel_unit import render_known_hosts, render_tunnel_unit
from .trust import trust_bundle


def gpu_files(stack: Stack, host_name: str) -> list[RenderedFile]:
    files = [render_daemon_json(stack, host_name)]
    for svc in stack.gpu_hosts[host_name].services:
        files += [render_service_compose(stack, host_name, svc),
                  render_service_secrets(stack, host_name, svc)]
    return files + gpu_metrics_files(stack, host_name)


def engine_files(stack: Stack, gateway: str) -> list[RenderedFile]:
    """The gateway engine's Compose file first, then its secrets and config files."""
    if stack.gateways[gateway].engine == "litellm":
        return [render_litellm_compose(stack, gateway), render_litellm_secrets(stack, gateway),
                *config_files(stack, gateway)]
    return [render_oneapi_compose(stack, gateway), *render_oneapi_secrets(stack, gateway)]


def gateway_files(stack: Stack, gateway: str) -> list[RenderedFile]:
    files = [render_daemon_json(stack, gateway), *engine_files(stack, gateway),
             render_gateway_nginx(stack, gateway)]
    trust = trust_bundle(stack, gateway)
    if trust:
        files.append(trust)
    tunnels = stack.tunnels(gateway)
    for gpu_host in dict.fromkeys(t.gpu_host for t in tunnels):
        files.append(render_known_hosts(stack, gpu_host))
    files += [render_tunnel_unit(stack, t) for t in tunnels]
    return files + gateway_metrics_files(stack, gateway)


def relay_files(stack: Stack, relay: str) -> list[RenderedFile]:
    return [render_relay_nginx(stack, relay)]


def render_all(stack: Stack) -> dict[str, list[RenderedFile]]:
    out: dict[str, list[RenderedFile]] = {}
    out.update({name: gpu_files(stack, name) for name in stack.gpu_hosts})
    out.update({name: gateway_files(stack, name) for name in stack.gateways})
    out.update({name: relay_files(stack, name) for name in stack.relays})
    return out
