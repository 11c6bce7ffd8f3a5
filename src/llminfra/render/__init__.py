"""Every file the deploys upload, rendered from the stack model.

Each template takes one typed view (a frozen dataclass built by a pure function here).
"""

from .bundle import engine_files, gateway_files, gpu_files, relay_files, render_all
from .compose_litellm import (
    litellm_view, render_litellm_compose, render_litellm_secrets,
)
from .compose_oneapi import (
    oneapi_view, render_oneapi_compose, render_oneapi_secrets,
)
from .compose_service import (
    project_dir, render_service_compose, render_service_secrets, service_view,
)
from .daemon import render_daemon_json
from .files import RenderError, RenderedFile
from .nginx_gateway import gateway_view, render_gateway_nginx
from .nginx_relay import relay_view, render_relay_nginx
from .tls import CertPaths, cert_paths
from .trust import trust_bundle
from .tunnel_unit import render_known_hosts, render_tunnel_unit, tunnel_view

__all__ = [
    "CertPaths", "RenderError", "RenderedFile", "cert_paths", "engine_files",
    "gateway_files", "gateway_view", "gpu_files", "litellm_view", "oneapi_view", "project_dir",
    "relay_files", "relay_view", "render_all", "render_daemon_json", "render_gateway_nginx",
    "render_known_hosts", "render_litellm_compose", "render_litellm_secrets",
    "render_oneapi_compose", "render_oneapi_secrets", "render_relay_nginx",
    "render_service_compose", "render_service_secrets", "render_tunnel_unit", "service_view",
    "trust_bundle", "tunnel_view",
]
