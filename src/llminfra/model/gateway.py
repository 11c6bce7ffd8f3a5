"""The gateway VM: an engine (OneAPI / New-API or LiteLLM) under Compose behind Nginx with TLS."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import AbsPath, Port, SecretName, Strict, bridge_address, check_bridge_subnet
from .litellm import LiteLLMSettings
from .metrics import MetricsSettings
from .types import (
    Cidr, Env, GatewayRisk, Identifier, ImageRef, ImageRepo, ImageTag, IpAddress, LocalPath,
    ServerName, Size, UnixUser,
)
from .ssh import SshSettings
from .tls import TlsSettings


# flavour -> (image, tag) used when the inventory names neither
FLAVOR_IMAGES = {"oneapi": ("justsong/one-api", "v0.6.10"),
                 "new-api": ("calciumion/new-api", "v0.13.2")}


class MysqlSettings(Strict):
    image: ImageRef = Field("mysql:8.2", description="MySQL image.")
    password: SecretName = Field(description="Secret with the MySQL password.")
    database: Identifier = Field("oneapi", description="Database name.")


class OneApiSettings(Strict):
    flavor: Literal["oneapi", "new-api"] = Field(
        "oneapi", description="Gateway software: OneAPI, or New-API (its maintained fork; the "
        "admin API, image, bootstrap and channel type ids differ)."
    )
    image: ImageRepo | None = Field(
        None, description="Gateway image without tag (default: justsong/one-api, or "
        "calciumion/new-api for new-api)."
    )
    version: ImageTag | None = Field(
        None, description="Image tag (default: v0.6.10, or v0.13.2 for new-api)."
    )
    database: Literal["sqlite", "mysql"] = Field("sqlite", description="SQLite file or MySQL.")
    mysql: MysqlSettings | None = Field(None, description="Required when database is mysql.")
    redis: bool = Field(False, description="Add Redis (sets SYNC_FREQUENCY; channel changes lag).")
    redis_image: ImageRef = Field("redis:7.4-alpine", description="Redis image.")
    data_dir: AbsPath = Field("/opt/llminfra/oneapi", description="Data kept across redeploys.")
    admin_bind: IpAddress = Field("127.0.0.1", description="Host address the admin/API port binds to.")
    admin_port: Port = Field(3000, description="Host port for OneAPI (Nginx proxies to it).")
    network_subnet: str = Field(
        "172.30.0.0/24", description="Subnet of OneAPI's Compose network; tunnels listen on "
        "its first address so only OneAPI's containers reach them."
    )
    session_secret: SecretName = Field(
        description="Secret for SESSION_SECRET (cookie signing), 16 characters at least.")
    root_access_token: SecretName | None = Field(
        None, description="Secret for INITIAL_ROOT_ACCESS_TOKEN (admin API), 16 to 32 "
        "characters. Required for oneapi; new-api has no such variable (llminfra logs in "
        "once with the root password and keeps the generated token)."
    )
    root_password: SecretName = Field(
        description="Secret with root's password, 16 to 20 characters: it replaces OneAPI's "
        "default password; New-API's first-run setup creates root with it."
    )
    sync_frequency: int = Field(60, ge=1, le=86400, description="SYNC_FREQUENCY seconds (with Redis).")
    env: Env = Field({}, description="Extra non-secret environment for OneAPI.")
    trust_ca_files: list[LocalPath] = Field(
        [], description="PEM CA certificates on the operator's machine (relative to the stack "
        "file) that OneAPI trusts besides the system CAs, e.g. a private CA signing relay "
        "certificates. Mounted into /etc/ssl/certs of the container."
    )

    @field_validator("network_subnet")
    @classmethod
    def _subnet(cls, value: str) -> str:
        return check_bridge_subnet(value)

    @model_validator(mode="after")
    def _mysql(self) -> OneApiSettings:
        if self.database == "mysql" and self.mysql is None:
            raise ValueError("database 'mysql' needs a mysql section")
        if self.flavor == "oneapi" and self.root_access_token is None:
            raise ValueError("root_access_token: required for flavor oneapi")
        return self

    @property
    def image_ref(self) -> str:
        """The image with its tag, flavour defaults filled in (mirror rewrites come later)."""
        image, version = FLAVOR_IMAGES[self.flavor]
        return f"{self.image or image}:{self.version or version}"

    @property
    def tunnel_bind(self) -> str:
        """First host address of OneAPI's network: the bridge's own address on the gateway."""
        return bridge_address(self.network_subnet)

    @property
    def admin_url(self) -> str:
        return f"http://{self.admin_bind}:{self.admin_port}"

    # the engine-neutral view (same names on LiteLLMSettings)
    @property
    def api_bind(self) -> str:
        return self.admin_bind

    @property
    def api_port(self) -> int:
        return self.admin_port

    @property
    def port_key(self) -> str:
        return "oneapi/admin_port"


class GatewayNginx(Strict):
    server_name: ServerName = Field(description="Public DNS name of the API.")
    tls: TlsSettings = Field(default_factory=TlsSettings)
    http_port: Port = Field(80, description="Plain HTTP port (redirects to HTTPS, ACME).")
    https_port: Port = Field(443, description="HTTPS port.")
    read_timeout: int = Field(
        1800, ge=30, le=86400, description="Seconds Nginx waits between upstream bytes; long "
        "generations and slow first tokens need minutes, not Nginx's 60 s default."
    )
    client_max_body_size: Size = Field("64m", description="Largest request body (long prompts).")
    admin_allow_cidrs: list[Cidr] = Field(
        [], max_length=256, description="Client networks that may reach OneAPI's web UI and "
        "`/api/` through the public server name. Default: none; admins use `llminfra admin`, "
        "an SSH forward to the loopback admin port."
    )


Engine = Literal["oneapi", "litellm"]


class GatewayHost(Strict):
    ssh: SshSettings
    engine: Engine = Field(
        "oneapi", description="What serves the API behind Nginx: `oneapi` (OneAPI or New-API, "
        "see `oneapi.flavor`; channels and tokens are reconciled through its admin API) or "
        "`litellm` (config-only LiteLLM; its config file is rendered from the same channels "
        "and tokens). Only the chosen engine's section is used, so both may stay in the file "
        "and switching is this one key."
    )
    oneapi: OneApiSettings | None = Field(None, description="Required when engine is oneapi.")
    litellm: LiteLLMSettings | None = Field(None, description="Required when engine is litellm.")
    nginx: GatewayNginx
    tunnel_port_base: Port = Field(
        20000, description="First port of the range tunnels without a `tunnel_port` are "
        "hashed into."
    )
    tunnel_port_range: int = Field(
        1000, ge=1, le=64511, description="Size of that range. A service's port is a hash of "
        "`<gpu host>/<service>` into it, so adding or removing a service moves no other tunnel; "
        "`check` reports two services hashed onto one port (set `tunnel_port` on one of them)."
    )
    tunnel_user: UnixUser = Field(
        "llminfra-tunnel", description="User on GPU hosts that tunnels log in as. The deploy "
        "creates it without a login shell; root or a login user needs `login_tunnel_user`."
    )
    metrics: MetricsSettings | None = Field(
        None, description="Prometheus on this gateway (Debian's package, loopback only) scraping "
        "the model servers and GPU hosts it reaches. Default: none."
    )
    allow_risky: list[GatewayRisk] = Field(
        [], description="Risky settings this host opts into, each listed as a warning by "
        "`check`: `public_admin` (the engine's admin port bound off loopback, or "
        "nginx.admin_allow_cidrs admitting everyone), `login_tunnel_user`."
    )

    @model_validator(mode="after")
    def _engine_section(self) -> GatewayHost:
        if getattr(self, self.engine) is None:
            raise ValueError(f"engine {self.engine!r} needs a {self.engine} section")
        return self

    @property
    def owns_tunnel_user(self) -> bool:
        """False when the inventory opted a login user in (`login_tunnel_user`): the deploy
        then manages only the tunnel key in its authorized_keys, never the account itself
        (shell, home, existence)."""
        return "login_tunnel_user" not in self.allow_risky

    @property
    def tunnel_authorized_keys(self) -> str:
        home = "/root" if self.tunnel_user == "root" else f"/home/{self.tunnel_user}"
        return f"{home}/.ssh/authorized_keys"

    @property
    def engine_settings(self) -> OneApiSettings | LiteLLMSettings:
        """The chosen engine's section (the validator above guarantees it is set)."""
        settings = self.oneapi if self.engine == "oneapi" else self.litellm
        assert settings is not None
        return settings

    @property
    def oneapi_settings(self) -> OneApiSettings:
        """OneAPI's section, for code that only runs on OneAPI gateways."""
        if self.engine != "oneapi" or self.oneapi is None:
            raise ValueError("this gateway does not run OneAPI")
        return self.oneapi
