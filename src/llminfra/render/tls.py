"""Where certificates live on gateways and relays (the deploy puts them there)."""

from __future__ import annotations

from dataclasses import dataclass

from llminfra.commands.tls import ACME_LIVE
from llminfra.model import TlsSettings

TLS_DIR = "/etc/llminfra/tls"


@dataclass(frozen=True)
class CertPaths:
    cert: str
    key: str


def cert_paths(tls: TlsSettings, name: str, site: str) -> CertPaths:
    """Certificate for server name `name` of a site whose main name is `site`.

    `files` mode brings one certificate (chain) for the whole site; the other modes make
    one per server name."""
    if tls.mode == "acme":
        return CertPaths(f"{ACME_LIVE}/{name}/fullchain.pem", f"{ACME_LIVE}/{name}/privkey.pem")
    stem = site if tls.mode == "files" else name
    return CertPaths(f"{TLS_DIR}/{stem}.crt", f"{TLS_DIR}/{stem}.key")
