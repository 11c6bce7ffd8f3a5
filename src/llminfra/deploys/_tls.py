"""Certificates for the Nginx sites: self-signed on the host, the operator's files, or ACME."""

from __future__ import annotations

import ipaddress
from io import StringIO
from pathlib import Path

from pyinfra.operations import files

from llminfra.commands.tls import ACME_WEBROOT
from llminfra.model import TlsSettings
from llminfra.operations import paths as kit_paths
from llminfra.operations import private
from llminfra.operations.tls import acme_certificate, self_signed
from llminfra.render import CertPaths

from ._apt import install


def ip_literals(*values: str) -> list[str]:
    """The values that are IP addresses (a client connecting by IP verifies against these)."""
    out = []
    for value in values:
        try:
            out.append(str(ipaddress.ip_address(value.strip("[]"))))
        except ValueError:
            continue
    return out


def site_certificates(tls: TlsSettings, certs: dict[str, CertPaths], ips: list[str]) -> list:
    """Ops putting each server name's certificate in place (before Nginx loads the site).

    ``certs`` maps server name -> where the site expects its certificate. ACME starts from a
    self-signed placeholder so Nginx can serve the challenge; :func:`acme_issue` follows
    once Nginx runs.
    """
    changes = []
    if tls.mode == "files":
        seen = set()
        for paths in certs.values():
            if paths in seen:
                continue
            seen.add(paths)
            changes.append(kit_paths.file(
                name=f"TLS certificate {paths.cert}",
                src=StringIO(Path(tls.cert_file or "").expanduser().read_text()),
                path=paths.cert, mode="644",
            ))  # fmt: skip
            changes.append(private.file(
                name=f"TLS key {paths.key}",
                src=StringIO(Path(tls.key_file or "").expanduser().read_text()),
                path=paths.key,
            ))  # fmt: skip
        return changes
    if tls.mode == "acme":
        install("Install certbot", ["certbot"])
        files.directory(name="ACME webroot", path=ACME_WEBROOT, mode="755")
    for name, paths in certs.items():
        changes.append(self_signed(
            name=f"TLS certificate for {name}" + (" (placeholder)" if tls.mode == "acme" else ""),
            cert=paths.cert, key=paths.key, names=[name],
            ips=[] if tls.mode == "acme" else ips,
        ))  # fmt: skip
    return changes


def acme_issue(tls: TlsSettings, names: list[str]) -> None:
    if tls.mode != "acme":
        return
    for name in names:
        acme_certificate(name=f"ACME certificate for {name}", server_name=name,
                         email=tls.acme_email or "")
