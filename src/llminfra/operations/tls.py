"""TLS certificates for the Nginx sites: self-signed on the host, or issued by ACME.

Self-signed certificates are made once on the host (the private key never leaves it) and
made again only when the names they must carry change.
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import operation

from llminfra.commands.files import chmod_private
from llminfra.commands.tls import certbot_command, openssl_self_signed, subject_alt_names
from llminfra.facts import batch
from llminfra.facts.batch import expecting
from llminfra.facts.tls import AcmeRenewal, Certificate


@expecting(lambda cert, key, **_: [(Certificate, {"cert": cert, "key": key})])
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
    present = batch.get(Certificate, cert=cert, key=key)
    if present is None or sorted(present["names"]) != sorted(sans):
        yield openssl_self_signed(cert, key, sans)
    elif present["key_mode"] != "600":
        yield chmod_private(key)
    else:
        host.noop(f"certificate {cert} covers {', '.join(sans)}")


@expecting(lambda server_name, **_: [(AcmeRenewal, {"cert_name": server_name})])
@operation()
def acme_certificate(server_name: str, email: str):
    """
    Issue ``server_name``'s certificate with certbot (HTTP-01 through Nginx's webroot)
    unless certbot already manages it; certbot's timer renews it from then on.

    + server_name: the name to certify
    + email: ACME account e-mail
    """
    if batch.get(AcmeRenewal, cert_name=server_name):
        host.noop(f"certbot manages {server_name}")
        return
    yield certbot_command(server_name, email)
