"""Exact-string tests for llminfra.commands.tls (openssl, certbot, certificate state)."""

from __future__ import annotations

from llminfra.commands import raw
from llminfra.commands import tls as c


def test_subject_alt_names_dedupe_in_order():
    assert c.subject_alt_names(["b", "a", "b"], ["10.0.0.1", "::1", "10.0.0.1"]) == [
        "DNS:b", "DNS:a", "IP:10.0.0.1", "IP:::1",
    ]  # fmt: skip


def test_openssl_self_signed_key_private_from_birth():
    assert raw(c.openssl_self_signed("/c/gw.crt", "/k/gw.key", ["DNS:gw", "IP:10.0.0.5"], 30)) == (
        "mkdir -p -m 755 /c && mkdir -p -m 700 /k"
        " && (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
        " -nodes -sha256 -days 30 -subj /CN=gw -addext subjectAltName=DNS:gw,IP:10.0.0.5"
        " -keyout /k/gw.key.new -out /c/gw.crt.new 2>/dev/null)"
        " && chmod 600 /k/gw.key.new && chmod 644 /c/gw.crt.new"
        " && mv -f /k/gw.key.new /k/gw.key && mv -f /c/gw.crt.new /c/gw.crt"
    )


def test_certbot_restores_placeholder_on_failure():
    assert raw(c.certbot_command("api.example.net", "ops@example.net")) == (
        "rm -rf /etc/letsencrypt/live/api.example.net.placeholder"
        " && mv /etc/letsencrypt/live/api.example.net"
        " /etc/letsencrypt/live/api.example.net.placeholder"
        " && if certbot certonly --webroot -w /var/www/llminfra-acme -d api.example.net"
        " --cert-name api.example.net --non-interactive --agree-tos -m ops@example.net"
        " --deploy-hook 'systemctl reload nginx';"
        " then rm -rf /etc/letsencrypt/live/api.example.net.placeholder ;"
        " else rm -rf /etc/letsencrypt/live/api.example.net ;"
        " mv /etc/letsencrypt/live/api.example.net.placeholder"
        " /etc/letsencrypt/live/api.example.net ; exit 1; fi"
    )


def test_certificate_state():
    assert raw(c.certificate_state("/t/a b.crt", "/t/a.key")) == (
        "test -f /t/a.key && test -f '/t/a b.crt' && { stat -c 'key_mode %a' /t/a.key ;"
        " openssl x509 -noout -ext subjectAltName -in '/t/a b.crt' 2>/dev/null | tail -n +2; }"
        " || true"
    )


def test_acme_renewal_state():
    assert raw(c.acme_renewal_state("api.example.net")) == (
        "test -f /etc/letsencrypt/renewal/api.example.net.conf && echo yes || echo no"
    )
