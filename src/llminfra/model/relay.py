"""Relay boxes: Nginx reverse proxies in front of the providers' APIs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import Port, SecretName, Strict, check_cidrs
from .providers import PROVIDERS, ProviderName
from .ssh import SshSettings
from .tls import TlsSettings


class Provider(Strict):
    kind: ProviderName = Field(description="The provider fronted (sets the default upstream).")
    upstream: str | None = Field(None, description="Upstream host. Default: the provider's API host.")
    prefix: str | None = Field(None, description="Path routing: URL prefix. Default `/<kind>`.")
    server_name: str | None = Field(None, description="Host routing: this provider's DNS name.")

    @property
    def upstream_host(self) -> str:
        return self.upstream or PROVIDERS[self.kind].host

    @property
    def path_prefix(self) -> str:
        return (self.prefix or f"/{self.kind}").rstrip("/")

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        if value is not None and (not value.startswith("/") or value == "/"):
            raise ValueError("should start with '/' and name a path, e.g. /openai")
        return value


class RelayAccess(Strict):
    allow_cidrs: list[str] = Field([], description="Client networks allowed in.")
    shared_secret: SecretName | None = Field(
        None, description="Secret clients may send in `header` instead of coming from an allowed network."
    )
    header: str = Field("X-Relay-Key", description="Header carrying the shared secret.")

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
    server_name: str = Field(description="DNS name of the relay (path routing) or default server.")
    routing: Literal["path", "host"] = Field("path", description="Route by URL prefix or by server name.")
    providers: list[Provider] = Field(min_length=1)
    access: RelayAccess
    tls: TlsSettings = Field(default_factory=TlsSettings)
    https_port: Port = Field(443, description="HTTPS port.")
    resolver: list[str] = Field(
        ["1.1.1.1", "8.8.8.8"], min_length=1,
        description="DNS servers Nginx re-resolves upstreams with (provider IPs change).",
    )
    read_timeout: int = Field(1800, ge=30, description="Seconds between upstream bytes.")

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
