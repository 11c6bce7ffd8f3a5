"""OneAPI's Compose project on a gateway (plus MySQL / Redis when the model asks)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from llminfra.model import Stack

from .compose_service import LOG_MAX_FILE, LOG_MAX_SIZE, publish
from .envfile import secret_env_file
from .files import RenderedFile, render
from .trust import trust_bundle

CONTAINER_PORT = 3000
NETWORK_NAME = "llminfra-oneapi"
SECRETS_ENV = "secrets.env"
MYSQL_ENV = "mysql.secrets.env"
# Go's crypto/x509 (OneAPI) reads every file in /etc/ssl/certs besides the system bundle.
TRUST_IN_CONTAINER = "/etc/ssl/certs/llminfra-extra-ca.pem"


@dataclass(frozen=True)
class MysqlView:
    image: str
    database: str
    data_dir: str
    env_file: str = MYSQL_ENV


@dataclass(frozen=True)
class OneApiCompose:
    product: str  # "OneAPI" or "New-API", for the header comment
    image: str
    port: str  # "bind:host_port:3000"
    data_dir: str
    network: str
    subnet: str
    gateway_ip: str  # the bridge's own address, where the tunnels listen
    environment: tuple[tuple[str, str], ...]
    env_file: str
    mysql: MysqlView | None
    redis_image: str | None
    trust_mount: str | None = None  # "host file:container file:ro"
    trust_sha256: str | None = None  # a label, so a changed CA bundle recreates the container
    log_max_size: str = LOG_MAX_SIZE
    log_max_file: str = LOG_MAX_FILE


def oneapi_view(stack: Stack, gateway: str) -> OneApiCompose:
    oa = stack.gateways[gateway].oneapi_settings
    image = stack.mirrors.image
    env = {"TZ": "UTC"}
    if oa.redis:
        # OneAPI only turns Redis on when SYNC_FREQUENCY is set too.
        env.update(REDIS_CONN_STRING="redis://redis:6379", SYNC_FREQUENCY=str(oa.sync_frequency))
    env.update(oa.env)
    mysql = None
    if oa.database == "mysql" and oa.mysql is not None:
        mysql = MysqlView(image(oa.mysql.image), oa.mysql.database, f"{oa.data_dir}/mysql")
    trust = trust_bundle(stack, gateway)
    return OneApiCompose(
        product="New-API" if oa.flavor == "new-api" else "OneAPI",
        trust_mount=f"{trust.path_on_host}:{TRUST_IN_CONTAINER}:ro" if trust else None,
        trust_sha256=hashlib.sha256(trust.content.encode()).hexdigest() if trust else None,
        image=image(oa.image_ref),
        port=publish(oa.admin_bind, oa.admin_port, CONTAINER_PORT), data_dir=oa.data_dir,
        network=NETWORK_NAME, subnet=oa.network_subnet, gateway_ip=oa.tunnel_bind,
        environment=tuple(env.items()), env_file=SECRETS_ENV, mysql=mysql,
        redis_image=image(oa.redis_image) if oa.redis else None,
    )


def oneapi_secrets(stack: Stack, gateway: str) -> dict[str, str]:
    oa = stack.gateways[gateway].oneapi_settings
    out = {"SESSION_SECRET": stack.secret(oa.session_secret)}
    if oa.flavor == "oneapi" and oa.root_access_token:
        # New-API has no such variable: its root comes from the first-run setup
        out["INITIAL_ROOT_ACCESS_TOKEN"] = stack.secret(oa.root_access_token)
    if oa.database == "mysql" and oa.mysql is not None:
        password = stack.secret(oa.mysql.password)
        out["SQL_DSN"] = f"root:{password}@tcp(mysql:3306)/{oa.mysql.database}"
    return out


def render_oneapi_compose(stack: Stack, gateway: str) -> RenderedFile:
    oa = stack.gateways[gateway].oneapi_settings
    return RenderedFile(f"{oa.data_dir}/compose.yaml",
                        render("compose/oneapi.yaml.j2", oneapi_view(stack, gateway)))


def render_oneapi_secrets(stack: Stack, gateway: str) -> list[RenderedFile]:
    oa = stack.gateways[gateway].oneapi_settings
    files = [secret_env_file(f"{oa.data_dir}/{SECRETS_ENV}", oneapi_secrets(stack, gateway))]
    if oa.database == "mysql" and oa.mysql is not None:
        files.append(secret_env_file(f"{oa.data_dir}/{MYSQL_ENV}", {
            "MYSQL_ROOT_PASSWORD": stack.secret(oa.mysql.password)}))
    return files
