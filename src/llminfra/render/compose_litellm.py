"""LiteLLM's Compose project on a gateway: one container, its config and auth module mounted
read-only, every secret in a 0600 env file."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib.resources import files

from llminfra.model import LiteLLMSettings, Stack

from .compose_service import LOG_MAX_FILE, LOG_MAX_SIZE, publish
from .envfile import secret_env_file
from .files import RenderError, RenderedFile, render
from .litellm_config import AUTH_MODULE, litellm_secrets, render_config
from .trust import trust_bundle

CONTAINER_PORT = 4000
NETWORK_NAME = "llminfra-litellm"
SERVICE = "litellm"  # the service name in templates/compose/litellm.yaml.j2
SECRETS_ENV = "secrets.env"
CONFIG_IN_CONTAINER = "/etc/llminfra/litellm"
TRUST_IN_CONTAINER = "/etc/llminfra/extra-ca.pem"
# Python's TLS trusts one bundle file: certifi's public CAs plus ours, joined at start.
BUNDLE_IN_CONTAINER = "/tmp/llminfra-ca-bundle.pem"
READY_PATH = "/health/readiness"


@dataclass(frozen=True)
class LiteLLMCompose:
    image: str
    port: str  # "bind:host_port:4000"
    command: tuple[str, ...]
    config_mount: str  # "host dir:container dir:ro"
    config_sha256: str  # a label, so a changed config recreates the container
    network: str
    subnet: str
    gateway_ip: str  # the bridge's own address, where the tunnels listen
    environment: tuple[tuple[str, str], ...]
    env_file: str
    entrypoint: tuple[str, ...] | None  # only to join a trust bundle before starting
    trust_mount: str | None
    ready_url: str = f"http://127.0.0.1:{CONTAINER_PORT}{READY_PATH}"
    log_max_size: str = LOG_MAX_SIZE
    log_max_file: str = LOG_MAX_FILE


def settings(stack: Stack, gateway: str) -> LiteLLMSettings:
    ll = stack.gateways[gateway].litellm
    if ll is None:
        raise RenderError(f"{gateway}: no litellm section")
    return ll


def auth_module() -> str:
    return files("llminfra").joinpath(f"templates/litellm/{AUTH_MODULE}.py").read_text()


def config_files(stack: Stack, gateway: str) -> list[RenderedFile]:
    """config.yaml and the auth module it names, side by side (LiteLLM imports the module
    from the config file's directory). No secrets: 0644."""
    base = f"{settings(stack, gateway).data_dir}/config"
    return [RenderedFile(f"{base}/config.yaml", render_config(stack, gateway)),
            RenderedFile(f"{base}/{AUTH_MODULE}.py", auth_module())]


def litellm_view(stack: Stack, gateway: str) -> LiteLLMCompose:
    ll = settings(stack, gateway)
    # LITELLM_MODE=PRODUCTION: no .env file is read from the working directory;
    # LITELLM_LOCAL_MODEL_COST_MAP: the bundled price list, no download at start.
    env = {"TZ": "UTC", "LITELLM_MODE": "PRODUCTION", "LITELLM_LOCAL_MODEL_COST_MAP": "True",
           "DISABLE_ADMIN_UI": "True"}
    trust = trust_bundle(stack, gateway)
    entrypoint = None
    if trust:
        env["SSL_CERT_FILE"] = BUNDLE_IN_CONTAINER
        entrypoint = ("/bin/sh", "-c", f'cat "$(python3 -m certifi)" {TRUST_IN_CONTAINER} > '
                      f'{BUNDLE_IN_CONTAINER} && exec litellm "$@"', "litellm")
    env.update(ll.env)
    digest = hashlib.sha256()
    for f in config_files(stack, gateway) + ([trust] if trust else []):
        digest.update(f.path_on_host.encode() + b"\0" + f.content.encode())
    return LiteLLMCompose(
        image=stack.mirrors.image(f"{ll.image}:{ll.version}"),
        port=publish(ll.bind, ll.port, CONTAINER_PORT),
        command=("--config", f"{CONFIG_IN_CONTAINER}/config.yaml", "--host", "0.0.0.0",
                 "--port", str(CONTAINER_PORT)),
        config_mount=f"{ll.data_dir}/config:{CONFIG_IN_CONTAINER}:ro",
        config_sha256=digest.hexdigest(), network=NETWORK_NAME, subnet=ll.network_subnet,
        gateway_ip=ll.tunnel_bind, environment=tuple(env.items()), env_file=SECRETS_ENV,
        entrypoint=entrypoint,
        trust_mount=f"{trust.path_on_host}:{TRUST_IN_CONTAINER}:ro" if trust else None,
    )


def render_litellm_compose(stack: Stack, gateway: str) -> RenderedFile:
    return RenderedFile(f"{settings(stack, gateway).data_dir}/compose.yaml",
                        render("compose/litellm.yaml.j2", litellm_view(stack, gateway)))


def render_litellm_secrets(stack: Stack, gateway: str) -> RenderedFile:
    return secret_env_file(f"{settings(stack, gateway).data_dir}/{SECRETS_ENV}",
                           litellm_secrets(stack, gateway))
