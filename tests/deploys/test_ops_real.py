"""The deploys' own ops, executed for real on this machine (openssl, curl, a local server)."""

from __future__ import annotations

import http.server
import socket
import threading
import time

import pytest
from cryptography import x509

from llminfra.deploys._http import answers
from llminfra.deploys._tls import self_signed


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


class _Status(http.server.BaseHTTPRequestHandler):
    code = 200

    def do_GET(self):
        self.send_response(self.code)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Status)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_answers_is_a_noop_when_up(apply, need, server):
    need("curl")
    meta = apply(answers, url=f"http://127.0.0.1:{server.server_port}/", what="local")
    assert not meta.did_change() and not meta.did_error()


def test_answers_waits_for_a_late_server(apply, need):
    need("curl")
    port = _free_port()
    late = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Status, bind_and_activate=False)

    def start_later():
        time.sleep(3)
        late.server_bind()
        late.server_activate()
        late.serve_forever()

    threading.Thread(target=start_later, daemon=True).start()
    try:
        started = time.monotonic()
        meta = apply(answers, url=f"http://127.0.0.1:{port}/", what="late", timeout=30)
        assert meta.did_change() and not meta.did_error()
        assert time.monotonic() - started >= 2
    finally:
        late.shutdown()


def test_answers_fails_after_timeout_on_wrong_status(apply, need, server):
    need("curl")
    _Status.code = 503
    try:
        meta = apply(answers, url=f"http://127.0.0.1:{server.server_port}/", what="busy",
                     timeout=3)  # fmt: skip
        assert meta.did_error()
        any_status = apply(answers, url=f"http://127.0.0.1:{server.server_port}/",
                           what="busy", statuses=None)  # fmt: skip
        assert not any_status.did_change() and not any_status.did_error()
    finally:
        _Status.code = 200
