"""tls ops executed for real on this machine (openssl, a local TLS handshake)."""

from __future__ import annotations

import socket
import threading

from cryptography import x509

from llminfra.operations.tls import self_signed


def _sans(path) -> set[str]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {f"DNS:{n}" for n in ext.get_values_for_type(x509.DNSName)} | {
        f"IP:{a}" for a in ext.get_values_for_type(x509.IPAddress)
    }


def test_self_signed_is_made_once_and_remade_on_rename(apply, need, tmp_path):
    need("openssl")
    cert, key = tmp_path / "tls" / "gw.crt", tmp_path / "keys" / "gw.key"
    args = {"cert": str(cert), "key": str(key), "names": ["gw.lab"], "ips": ["10.0.0.5"]}
    assert apply(self_signed, **args).did_change()
    assert _sans(cert) == {"DNS:gw.lab", "IP:10.0.0.5"}
    assert key.stat().st_mode & 0o777 == 0o600
    assert (key.parent.stat().st_mode & 0o777) == 0o700
    first = cert.read_bytes()

    again = apply(self_signed, **args)
    assert not again.did_change() and not again.did_error()
    assert cert.read_bytes() == first  # generated once

    key.chmod(0o644)
    assert apply(self_signed, **args).did_change()
    assert key.stat().st_mode & 0o777 == 0o600 and cert.read_bytes() == first

    assert apply(self_signed, **{**args, "names": ["api.lab"]}).did_change()
    assert _sans(cert) == {"DNS:api.lab", "IP:10.0.0.5"}


def test_self_signed_cert_verifies_by_ip(apply, need, tmp_path):
    """A client connecting by IP accepts the certificate (the IP is in subjectAltName)."""
    need("openssl")
    import ssl

    cert, key = tmp_path / "c.crt", tmp_path / "c.key"
    apply(self_signed, cert=str(cert), key=str(key), names=["gw.lab"], ips=["127.0.0.1"])
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def serve():
            conn, _ = listener.accept()
            with server_ctx.wrap_socket(conn, server_side=True):
                pass

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        with socket.create_connection(("127.0.0.1", port)) as raw, client_ctx.wrap_socket(
            raw, server_hostname="127.0.0.1"
        ) as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
        thread.join(5)
