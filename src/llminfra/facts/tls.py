"""Facts about the TLS certificates Nginx serves: self-signed ones and certbot's."""

from __future__ import annotations

from pyinfra.api import FactBase, QuoteString, StringCommand
from typing_extensions import override


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


class AcmeRenewal(FactBase[bool]):
    """Whether certbot manages a certificate named ``cert_name`` (its renewal config exists)."""

    @override
    def command(self, cert_name):
        path = f"/etc/letsencrypt/renewal/{cert_name}.conf"
        return StringCommand("test -f", QuoteString(path), "&& echo yes || echo no")

    @override
    def process(self, output):
        return "yes" in output
