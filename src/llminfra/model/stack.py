"""The whole platform: hosts in three roles, mirrors, declared channels and tokens."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field, PrivateAttr

from .base import Name, Strict
from .types import LocalPath
from .gateway import GatewayHost
from .gateway_objects import ExternalChannel, Token
from .hosts import GpuHost
from .metrics import Forward, exporter_forward
from .mirrors import Mirrors
from .providers import OPENAI_COMPATIBLE
from .relay import RelayHost
from .secrets import Secrets, SecretValue
from .services import ServiceBase
from .tls import TlsSettings


# systemd unit names of the gateway's tunnels; the removal step looks for this prefix.
TUNNEL_UNIT_PREFIX = "llminfra-tunnel-"


@dataclass(frozen=True)
class Tunnel:
    """One forward from the gateway to a service on a tunnel-only GPU host."""

    gateway: str
    gpu_host: str
    service: str
    bind: str  # gateway-side address (the engine's Compose network gateway)
    local_port: int  # gateway-side port
    remote_port: int  # service port on the GPU host's loopback
    # more -L on the same unit (the host's exporter, on its first service's tunnel)
    forwards: tuple[Forward, ...] = ()

    @property
    def unit(self) -> str:
        return f"{TUNNEL_UNIT_PREFIX}{self.gpu_host}-{self.service}"


@dataclass(frozen=True)
class ChannelSpec:
    """A channel as the inventory declares it, in gateway-neutral terms (no wire codes)."""

    name: str
    kind: str  # a providers.CHANNEL_KINDS entry; each gateway adapter maps it to its code
    base_url: str
    models: list[str]
    key_secret: str | None
    model_mapping: dict[str, str] = field(default_factory=dict)
    priority: int = 0
    weight: int = 0
    groups: list[str] = field(default_factory=lambda: ["default"])
    enabled: bool = True
    origin: str = ""  # "gpu-1/services/0" or "channels/2", for error messages


class Stack(Strict):
    name: Name = Field("prod", description="Environment name (shown in plans).")
    secrets_file: LocalPath | None = Field(
        None, description="Dotenv file with secret values, relative to this file. "
        "Default `<stack file stem>.secrets.env`; keep it git-ignored and 0600."
    )
    mirrors: Mirrors = Field(default_factory=Mirrors)
    gpu_hosts: dict[Name, GpuHost] = Field({}, description="GPU hosts by name.")
    gateways: dict[Name, GatewayHost] = Field({}, description="Gateway VMs by name.")
    relays: dict[Name, RelayHost] = Field({}, description="Relay boxes by name.")
    channels: list[ExternalChannel] = Field([], max_length=1024, description="Channels beyond the model services.")
    tokens: list[Token] = Field([], max_length=1024, description="OneAPI tokens for clients.")

    _source: Path | None = PrivateAttr(None)
    _secrets: Secrets | None = PrivateAttr(None)
    _warnings: list[str] = PrivateAttr(default_factory=list)

    # -- wiring ---------------------------------------------------------------------------
    @property
    def source(self) -> Path | None:
        return self._source

    @property
    def warnings(self) -> list[str]:
        """Risky settings the inventory opted into (`allow_risky`), placeholders of an example
        secrets file, certificates near expiry: one line each."""
        return list(self._warnings)

    @property
    def secrets(self) -> Secrets:
        if self._secrets is None:
            self._secrets = Secrets(None)
        return self._secrets

    def secret(self, name: str) -> SecretValue:
        return self.secrets.get(name)

    def host(self, name: str) -> GpuHost | GatewayHost | RelayHost:
        for section in (self.gpu_hosts, self.gateways, self.relays):
            if name in section:
                return section[name]
        raise KeyError(name)

    def role(self, name: str) -> str:
        for role, section in (("gpu", self.gpu_hosts), ("gateway", self.gateways),
                              ("relay", self.relays)):
            if name in section:
                return role
        raise KeyError(name)

    def tls_settings(self) -> list[tuple[str, tuple[object, ...], TlsSettings]]:
        """(host, location, settings) of every TLS section."""
        out: list[tuple[str, tuple[object, ...], TlsSettings]] = [
            (n, ("gateways", n, "nginx", "tls"), g.nginx.tls) for n, g in self.gateways.items()]
        out += [(n, ("relays", n, "tls"), r.tls) for n, r in self.relays.items()]
        return out

    # -- derived topology -----------------------------------------------------------------
    def gateway_for(self, gpu: GpuHost) -> str | None:
        if gpu.via:
            return gpu.via
        return next(iter(self.gateways)) if len(self.gateways) == 1 else None

    def tunnels(self, gateway: str | None = None) -> list[Tunnel]:
        result: list[Tunnel] = []
        for host_name, gpu in self.gpu_hosts.items():
            if gpu.reach != "tunnel":
                continue
            gw_name = self.gateway_for(gpu)
            if gw_name is None or gw_name not in self.gateways:
                continue
            if gateway is not None and gateway != gw_name:
                continue
            gw = self.gateways[gw_name]
            extra = exporter_forward(self, gw_name, host_name)
            for i, svc in enumerate(gpu.services):
                port = svc.tunnel_port or hashed_tunnel_port(gw, host_name, svc.name)
                result.append(Tunnel(gw_name, host_name, svc.name, gw.engine_settings.tunnel_bind, port,
                                     svc.port, (extra,) if extra and i == 0 else ()))
        return result

    def service_bind(self, gpu: GpuHost, svc: ServiceBase) -> str:
        if svc.bind:
            return svc.bind
        return "127.0.0.1" if gpu.reach == "tunnel" else "0.0.0.0"

    def service_url(self, gateway: str, host_name: str, svc: ServiceBase,
                    tunnels: list[Tunnel] | None = None) -> str | None:
        """Base URL (with /v1) of a service as OneAPI's container on `gateway` sees it."""
        gpu = self.gpu_hosts[host_name]
        if gpu.reach == "direct":
            return f"http://{gpu.service_address}:{svc.port}/v1"
        for t in self.tunnels(gateway) if tunnels is None else tunnels:
            if t.gpu_host == host_name and t.service == svc.name:
                return f"http://{t.bind}:{t.local_port}/v1"
        return None

    def relay_url(self, ref: str) -> str | None:
        """`https://...` of a `<relay>/<provider kind>` reference, None if it points nowhere."""
        relay_name, _, kind = ref.partition("/")
        relay = self.relays.get(relay_name)
        provider = next((p for p in relay.providers if p.kind == kind), None) if relay else None
        if relay is None or provider is None:
            return None
        port = "" if relay.https_port == 443 else f":{relay.https_port}"
        if relay.routing == "host":
            return f"https://{provider.server_name}{port}"
        return f"https://{relay.server_name}{port}{provider.path_prefix}"

    def channel_specs(self, gateway: str) -> list[ChannelSpec]:
        specs: list[ChannelSpec] = []
        tunnels = self.tunnels(gateway)
        for host_name, gpu in self.gpu_hosts.items():
            mine = [t for t in tunnels if t.gpu_host == host_name]
            for i, svc in enumerate(gpu.services):
                url = self.service_url(gateway, host_name, svc, mine)
                if url is None:
                    continue
                opts = svc.channel
                specs.append(ChannelSpec(
                    name=f"{host_name}/{svc.name}", kind=OPENAI_COMPATIBLE, base_url=url,
                    models=svc.served(), key_secret=svc.client_key(),
                    model_mapping=dict(opts.model_mapping), priority=opts.priority or 0,
                    weight=opts.weight, groups=list(opts.groups), enabled=opts.enabled,
                    origin=f"{host_name}/services/{i}",
                ))
        for i, ch in enumerate(self.channels):
            url = ch.base_url or self.relay_url(ch.relay or "")
            if url is None:
                continue
            specs.append(ChannelSpec(
                name=ch.name, kind=ch.type, base_url=url, models=list(ch.models),
                key_secret=ch.key, model_mapping=dict(ch.model_mapping),
                priority=ch.priority or 0, weight=ch.weight, groups=list(ch.groups),
                enabled=ch.enabled, origin=f"channels/{i}",
            ))
        return specs

    def secret_names(self) -> list[tuple[tuple[object, ...], str]]:
        """Every secret reference as (location, name)."""
        found: list[tuple[tuple[object, ...], str]] = []

        def walk(obj: object, loc: tuple[object, ...]) -> None:
            if isinstance(obj, Strict):
                secret_keys = _secret_fields(type(obj))
                for key in type(obj).model_fields:
                    value = getattr(obj, key)
                    if value is not None and key in secret_keys:
                        found.append((loc + (key,), value))
                    else:
                        walk(value, loc + (key,))
            elif isinstance(obj, dict):
                for k, v in obj.items():
                    walk(v, loc + (k,))
            elif isinstance(obj, list):
                for i, v in enumerate(obj):
                    walk(v, loc + (i,))

        walk(self, ())
        return [(loc, name) for loc, name in found if not self._unused_engine(loc)]

    def _unused_engine(self, loc: tuple[object, ...]) -> bool:
        """A gateway's section for the engine it does not run (kept only for switching)."""
        if len(loc) < 3 or loc[0] != "gateways" or loc[2] not in ("oneapi", "litellm"):
            return False
        return self.gateways[str(loc[1])].engine != loc[2]


def hashed_tunnel_port(gw: GatewayHost, gpu_host: str, service: str) -> int:
    """Gateway port of a tunnel from its identity alone: a position-based number would move
    every later tunnel (and rewrite its channel) when one service is added or removed."""
    digest = hashlib.sha256(f"{gpu_host}/{service}".encode()).digest()
    return gw.tunnel_port_base + int.from_bytes(digest[:8], "big") % gw.tunnel_port_range


@functools.cache
def _secret_fields(model: type[Strict]) -> frozenset[str]:
    return frozenset(k for k, info in model.model_fields.items() if _is_secret_field(info))


def _is_secret_field(info: object) -> bool:
    from typing import get_args

    from .base import _check_secret

    def has(tp: object) -> bool:
        if any(getattr(m, "func", None) is _check_secret for m in getattr(tp, "__metadata__", ())):
            return True
        return any(has(arg) for arg in get_args(tp))

    metadata = getattr(info, "metadata", [])
    if any(getattr(m, "func", None) is _check_secret for m in metadata):
        return True
    return has(getattr(info, "annotation", None))
