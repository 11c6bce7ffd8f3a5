"""TLS certificates for the Nginx sites: self-signed on the host, or issued by ACME.

Self-signed certificates are made once on the host (the private key never leaves it) and
made again only when the names they must carry change.
"""

from __future__ import annotations

import posixpath

from pyinfra import host
from pyinfra.api import QuoteString, StringCommand, operation

from llminfra.facts.tls import AcmeRenewal, Certificate
from llminfra.render.tls import ACME_WEBROOT

SELF_SIGNED_DAYS = 3650


def subject_alt_names(names: list[str], ips: list[str]) -> list[str]:
    return [f"DNS:{n}" for n in dict.fromkeys(names)] + [f"IP:{a}" for a in dict.fromkeys(ips)]


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
