"""Facts about the TLS certificates Nginx serves: self-signed ones and certbot's."""

from __future__ import annotations

from pyinfra.api import FactBase
from typing_extensions import override

from llminfra.commands.tls import acme_renewal_state, certificate_state


class Certificate(FactBase[dict | None]):
    """The certificate at ``cert``: its subjectAltName entries (``DNS:x`` / ``IP:y``) and the
    mode of its key file ``key``; ``None`` when either file is missing.

    .. code:: python

        {"names": ["DNS:gw-1.lab", "IP:10.0.0.5"], "key_mode": "600"}
    """

    @override
    def command(self, cert, key):
        return certificate_state(cert, key)

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


class AcmeRenewal(FactBase[bool]):
    """Whether certbot manages a certificate named ``cert_name`` (its renewal config exists)."""

    @override
    def command(self, cert_name):
        return acme_renewal_state(cert_name)

    @override
    def process(self, output):
        return "yes" in output
