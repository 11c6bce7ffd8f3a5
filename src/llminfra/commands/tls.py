"""TLS certificates: self-signed with openssl, issued by certbot, and what is on the host."""

from __future__ import annotations

import posixpath

from pyinfra.api import QuoteString, StringCommand

SELF_SIGNED_DAYS = 3650
ACME_WEBROOT = "/var/www/llminfra-acme"
ACME_LIVE = "/etc/letsencrypt/live"
ACME_RENEWAL = "/etc/letsencrypt/renewal"


def subject_alt_names(names: list[str], ips: list[str]) -> list[str]:
    return [f"DNS:{n}" for n in dict.fromkeys(names)] + [f"IP:{a}" for a in dict.fromkeys(ips)]


def certificate_state(cert: str, key: str) -> StringCommand:
    """Print ``key_mode <octal>`` and the certificate's subjectAltName line(s); nothing
    when either file is missing."""
    return StringCommand(
        "test -f", QuoteString(key), "&& test -f", QuoteString(cert),
        "&& { stat -c 'key_mode %a'", QuoteString(key), ";",
        "openssl x509 -noout -ext subjectAltName -in", QuoteString(cert),
        "2>/dev/null | tail -n +2; } || true",
    )  # fmt: skip


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


def acme_renewal_state(cert_name: str) -> StringCommand:
    """Print ``yes`` when certbot has a renewal config for ``cert_name``, else ``no``."""
    path = f"{ACME_RENEWAL}/{cert_name}.conf"
    return StringCommand("test -f", QuoteString(path), "&& echo yes || echo no")


def certbot_command(name: str, email: str, webroot: str = ACME_WEBROOT) -> StringCommand:
    """Swap the placeholder out of certbot's way, issue, restore the placeholder on failure."""
    live = f"{ACME_LIVE}/{name}"
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
