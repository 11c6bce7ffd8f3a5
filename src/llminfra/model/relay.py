"""Relay boxes: Nginx reverse proxies in front of the providers' APIs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import Port, SecretName, Strict, check_cidrs
from .providers import PROVIDERS, ProviderName
from .types import HeaderName, HostPort, RelayRisk, ServerName, Upstream, UrlPrefix
from .ssh import SshSettings
from .tls import TlsSettings


class Provider(Strict):
    kind: ProviderName = Field(description="The provider fronted (sets the default upstream).")
    upstream: Upstream | None = Field(
        None, description="Upstream host[:port]. Default: the provider's API host.")
    prefix: UrlPrefix | None = Field(None, description="Path routing: URL prefix. Default `/<kind>`.")
    server_name: ServerName | None = Field(None, description="Host routing: this provider's DNS name.")

    @property
    def upstream_host(self) -> str:
        return self.upstream or PROVIDERS[self.kind].host

    @property
    def path_prefix(self) -> str:
        return (self.prefix or f"/{self.kind}").rstrip("/")


class RelayAccess(Strict):
    allow_cidrs: list[str] = Field([], max_length=256, description="Client networks allowed in.")
    shared_secret: SecretName | None = Field(
        None, description="Secret clients may send in `header` instead of coming from an allowed "
        "network; 16 characters at least."
    )
    header: HeaderName = Field("X-Relay-Key", description="Header carrying the shared secret.")

    @field_validator("allow_cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        return check_cidrs(value, " (e.g. 203.0.113.0/24)")

    @model_validator(mode="after")
    def _closed(self) -> RelayAccess:
        if not self.allow_cidrs and not self.shared_secret:
            raise ValueError(
                "a relay needs access control: set allow_cidrs and/or shared_secret"
            )
        return self


class RelayHost(Strict):
    ssh: SshSettings
    server_name: ServerName = Field(description="DNS name of the relay (path routing) or default server.")
    routing: Literal["path", "host"] = Field("path", description="Route by URL prefix or by server name.")
    providers: list[Provider] = Field(min_length=1, max_length=16)
    access: RelayAccess
    tls: TlsSettings = Field(default_factory=TlsSettings)
    https_port: Port = Field(443, description="HTTPS port.")
    resolver: list[HostPort] = Field(
        ["1.1.1.1", "8.8.8.8"], min_length=1, max_length=8,
        description="DNS servers Nginx re-resolves upstreams with (provider IPs change).",
    )
    read_timeout: int = Field(1800, ge=30, le=86400, description="Seconds between upstream bytes.")
    upstream_keepalive: int = Field(
        0, ge=0, le=1024,
        description="Idle TLS connections to each provider Nginx keeps (per worker) for the "
        "next request: saves a TCP + TLS handshake with the provider on every request. 0: none, "
        "and each request re-resolves the provider's address through `resolver`. Above 0 the "
        "addresses are resolved by the system resolver when Nginx starts or reloads (every "
        "deploy that changes this config), and Nginx refuses to start while they do not resolve.",
    )
    allow_risky: list[RelayRisk] = Field(
        [], description="Risky settings this host opts into, each listed as a warning by "
        "`check`: `open_relay` (allow_cidrs admits every address)."
    )

    @model_validator(mode="after")
    def _routing(self) -> RelayHost:
        kinds = [p.kind for p in self.providers]
        for i, kind in enumerate(kinds):
            if kinds.index(kind) != i:
                raise ValueError(f"providers/{i}: {kind} is already listed at providers/{kinds.index(kind)}")
        if self.routing == "host":
            for i, p in enumerate(self.providers):
                if not p.server_name:
                    raise ValueError(f"providers/{i}: routing 'host' needs server_name")
        return self
