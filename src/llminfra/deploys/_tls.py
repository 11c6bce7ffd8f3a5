"""Certificates for the Nginx sites: self-signed on the host, the operator's files, or ACME.

Self-signed certificates are made once on the host (the private key never leaves it) and
made again only when the names they must carry change.
"""

from __future__ import annotations

import ipaddress
import posixpath
from io import StringIO
from pathlib import Path

from pyinfra import host
from pyinfra.api import FactBase, QuoteString, StringCommand, operation
from pyinfra.operations import files
from typing_extensions import override

from llminfra.model import TlsSettings
from llminfra.operations import private
from llminfra.render import CertPaths
from llminfra.render.tls import ACME_WEBROOT

from ._apt import install

SELF_SIGNED_DAYS = 3650


def subject_alt_names(names: list[str], ips: list[str]) -> list[str]:
    return [f"DNS:{n}" for n in dict.fromkeys(names)] + [f"IP:{a}" for a in dict.fromkeys(ips)]


def ip_literals(*values: str) -> list[str]:
    """The values that are IP addresses (a client connecting by IP verifies against these)."""
    out = []
    for value in values:
        try:
            out.append(str(ipaddress.ip_address(value.strip("[]"))))
        except ValueError:
            continue
    return out


def openssl_self_signed(cert: str, key: str, sans: list[str],
                        days: int = SELF_SIGNED_DAYS) -> StringCommand:
    """Make a P-256 key (0600 from birth) and a self-signed certificate for ``sans``."""
    common_name = sans[0].partition(":")[2]
    return StringCommand(
        "mkdir -p -m 755", QuoteString(posixpath.dirname(cert)),
        "&& mkdir -p -m 700", QuoteString(posixpath.dirname(key)),
        "&& (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1",
        "-nodes -sha256 -days", QuoteString(str(days)),
        "-subj", QuoteString(f"/CN={common_name}"),
        "-addext", QuoteString("subjectAltName=" + ",".join(sans)),
        "-keyout", QuoteString(f"{key}.new"), "-out", QuoteString(f"{cert}.new"), "2>/dev/null)",
        "&& chmod 600", QuoteString(f"{key}.new"), "&& chmod 644", QuoteString(f"{cert}.new"),
        "&& mv -f", QuoteString(f"{key}.new"), QuoteString(key),
        "&& mv -f", QuoteString(f"{cert}.new"), QuoteString(cert),
    )  # fmt: skip


class Certificate(FactBase[dict | None]):
    """The certificate at ``cert``: its subjectAltName entries (``DNS:x`` / ``IP:y``) and the
    mode of its key file ``key``; ``None`` when either file is missing.

    .. code:: python

        {"names": ["DNS:gw-1.lab", "IP:10.0.0.5"], "key_mode": "600"}
    """

    @override
    def command(self, cert, key):
        return StringCommand(
            "test -f", QuoteString(key), "&& test -f", QuoteString(cert),
            "&& { stat -c 'key_mode %a'", QuoteString(key), ";",
            "openssl x509 -noout -ext subjectAltName -in", QuoteString(cert),
            "2>/dev/null | tail -n +2; } || true",
        )  # fmt: skip

    @override
    def process(self, output):
        names, mode = [], None
        for line in output:
            if line.startswith("key_mode "):
                mode = line.split()[1]
                continue
            for item in line.split(","):
                kind, _, value = item.strip().partition(":")
                if kind == "DNS":
                    names.append(f"DNS:{value}")
                elif kind == "IP Address":
                    names.append(f"IP:{value}")
        return None if mode is None else {"names": names, "key_mode": mode}


@operation()
def self_signed(cert: str, key: str, names: list[str], ips: list[str] | None = None):
    """
    Keep a self-signed certificate at ``cert`` (key ``key``, 0600) valid for ``names`` and
    ``ips``; generated on the host once, again only when the wanted names change.

    + cert: certificate file
    + key: private key file
    + names: DNS names (the first one is also the subject CN)
    + ips: IP addresses
    """
    sans = subject_alt_names(names, ips or [])
    present = host.get_fact(Certificate, cert=cert, key=key)
    if present is None or sorted(present["names"]) != sorted(sans):
        yield openssl_self_signed(cert, key, sans)
    elif present["key_mode"] != "600":
        yield StringCommand("chmod 600", QuoteString(key))
    else:
        host.noop(f"certificate {cert} covers {', '.join(sans)}")


def certbot_command(name: str, email: str, webroot: str = ACME_WEBROOT) -> StringCommand:
    """Swap the placeholder out of certbot's way, issue, restore the placeholder on failure."""
    live = f"/etc/letsencrypt/live/{name}"
    return StringCommand(
        "rm -rf", QuoteString(f"{live}.placeholder"),
        "&& mv", QuoteString(live), QuoteString(f"{live}.placeholder"),
        "&& if certbot certonly --webroot -w", QuoteString(webroot), "-d", QuoteString(name),
        "--cert-name", QuoteString(name), "--non-interactive --agree-tos -m", QuoteString(email),
        "--deploy-hook 'systemctl reload nginx';",
        "then rm -rf", QuoteString(f"{live}.placeholder"), ";",
        "else rm -rf", QuoteString(live), "; mv", QuoteString(f"{live}.placeholder"),
        QuoteString(live), "; exit 1; fi",
    )  # fmt: skip


class AcmeRenewal(FactBase[bool]):
    """Whether certbot manages a certificate named ``cert_name`` (its renewal config exists)."""

    @override
    def command(self, cert_name):
        path = f"/etc/letsencrypt/renewal/{cert_name}.conf"
        return StringCommand("test -f", QuoteString(path), "&& echo yes || echo no")

    @override
    def process(self, output):
        return "yes" in output


@operation()
def acme_certificate(server_name: str, email: str):
    """
    Issue ``server_name``'s certificate with certbot (HTTP-01 through Nginx's webroot)
    unless certbot already manages it; certbot's timer renews it from then on.

    + server_name: the name to certify
    + email: ACME account e-mail
    """
    if host.get_fact(AcmeRenewal, cert_name=server_name):
        host.noop(f"certbot manages {server_name}")
        return
    yield certbot_command(server_name, email)


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
            changes.append(files.put(
                name=f"TLS certificate {paths.cert}",
                src=StringIO(Path(tls.cert_file or "").expanduser().read_text()),
                dest=paths.cert, mode="644",
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
