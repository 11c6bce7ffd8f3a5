"""The rendered relay config, run by Debian's nginx on loopback against a local TLS upstream."""

import contextlib
import dataclasses
import http.client
import socket
import ssl
import subprocess

import pytest
from live_relay import Dns, Upstream, free_port, issue, make_ca, serve, wait_for_port
from render_helpers import SECRETS, make_stack, nginx_conf, prod_data, require, self_signed

from llminfra.render import relay_view
from llminfra.render.files import render

SECRET = SECRETS["RELAY_SHARED_SECRET"]
ALLOWED, STRANGER = "127.0.0.2", "127.0.0.3"


@pytest.fixture(scope="module")
def relay(tmp_path_factory):
    nginx = require("nginx", "/usr/sbin/nginx")
    tmp = tmp_path_factory.mktemp("relay")
    ca = make_ca(tmp)
    upstream = Upstream(*issue(tmp, ca, "api.test"))
    # Valid-looking certificate for its name, but from a CA the relay does not trust.
    rogue = Upstream(*issue(tmp, make_ca(tmp_path_factory.mktemp("rogue")), "rogue.test"))
    dns = Dns({"api.test", "rogue.test"})
    for server in (upstream, rogue, dns):
        serve(server)
    port = free_port()
    data = prod_data()
    data["relays"]["relay-1"].update(
        server_name="relay.test", https_port=port, tls={"mode": "self_signed"},
        resolver=[f"127.0.0.1:{dns.server_address[1]}"],
        access={"allow_cidrs": [f"{ALLOWED}/32"], "shared_secret": "RELAY_SHARED_SECRET"},
        providers=[{"kind": "openai", "upstream": f"api.test:{upstream.server_address[1]}"},
                   {"kind": "claude", "upstream": f"rogue.test:{rogue.server_address[1]}"},
                   {"kind": "gemini"}])
    try:
        with running_relay(nginx, tmp, data, ca, port) as (_, cert):
            yield {"port": port, "upstream": upstream, "rogue": rogue, "dns": dns, "cert": cert}
    finally:
        for server in (upstream, rogue, dns):
            server.shutdown()


@contextlib.contextmanager
def running_relay(nginx, tmp, data, ca, port):
    """The relay rendered from `data` with a self-signed site certificate, served by nginx on
    loopback; yields (rendered config, site certificate)."""
    view = relay_view(make_stack(data), "relay-1")
    cert, key = self_signed(tmp / "site", "relay.test")
    server = dataclasses.replace(view.servers[0], cert=type(view.servers[0].cert)(str(cert), str(key)))
    view = dataclasses.replace(view, servers=(server,), trusted_ca=str(ca[0]))
    # Loopback only: the rendered `listen PORT` would take every interface.
    content = render("nginx/relay.conf.j2", view).replace(f"listen {port} ", f"listen 127.0.0.1:{port} ")
    site = tmp / "relay.conf"
    site.write_text(content)
    proc = subprocess.Popen([nginx, "-c", str(nginx_conf(tmp, site)), "-p", str(tmp),
                             "-g", "daemon off;"], stderr=subprocess.PIPE)
    try:
        wait_for_port(port)
        yield content, cert
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def get(relay, path, src, headers=()):
    ctx = ssl.create_default_context(cafile=str(relay["cert"]))
    sock = socket.create_connection(("127.0.0.1", relay["port"]), source_address=(src, 0), timeout=10)
    conn = http.client.HTTPConnection("relay.test", relay["port"], timeout=10)
    conn.sock = ctx.wrap_socket(sock, server_hostname="relay.test")
    conn.request("GET", path, headers=dict(headers))
    return conn.getresponse()


SPOOF = {"X-Forwarded-For": "198.51.100.7", "X-Real-IP": "198.51.100.7",
         "Forwarded": "for=198.51.100.7", "Via": "1.1 client-proxy"}


def test_allowed_network_reaches_upstream_without_client_identity(relay):
    before = len(relay["upstream"].requests)
    resp = get(relay, "/openai/v1/models?limit=2", ALLOWED, SPOOF)
    assert (resp.status, resp.read()) == (200, b'{"ok": true}')
    seen = relay["upstream"].requests[before]
    assert seen["path"] == "/v1/models?limit=2"
    assert seen["headers"]["Host"] == f"api.test:{relay['upstream'].server_address[1]}"
    assert relay["upstream"].sni[-1] == "api.test"
    lowered = {k.lower() for k in seen["headers"]}
    assert not lowered & {"x-forwarded-for", "x-real-ip", "forwarded", "via", "x-relay-key"}
    assert "198.51.100.7" not in str(seen["headers"]) and ALLOWED not in str(seen["headers"])
    assert "api.test" in relay["dns"].queries  # resolved at request time, through `resolver`


def test_stranger_without_secret_gets_403(relay):
    before = len(relay["upstream"].requests)
    assert get(relay, "/openai/v1/models", STRANGER).status == 403
    assert get(relay, "/openai/v1/models", STRANGER, {"X-Relay-Key": "wrong"}).status == 403
    assert len(relay["upstream"].requests) == before


def test_stranger_with_secret_is_admitted_and_secret_not_forwarded(relay):
    before = len(relay["upstream"].requests)
    assert get(relay, "/openai/v1/models", STRANGER, {"X-Relay-Key": SECRET}).status == 200
    headers = relay["upstream"].requests[before]["headers"]
    assert SECRET not in str(headers)


def test_upstream_certificate_is_verified(relay):
    assert get(relay, "/claude/v1/messages", ALLOWED).status == 502
    assert relay["rogue"].requests == []


def test_unknown_prefix_is_404(relay):
    assert get(relay, "/elsewhere", ALLOWED).status == 404


def read_stream(site: dict) -> tuple[bytes, bytes, bool | None]:
    """(first line, the rest, whether event 1 reached us while the upstream held event 2)."""
    upstream = site["upstream"]
    upstream.gate.clear()
    upstream.gate_opened = None
    resp = get(site, "/openai/stream", ALLOWED)
    first = resp.readline()
    upstream.gate.set()
    return first, resp.read(), upstream.gate_opened


def test_stream_is_not_buffered(relay):
    first, rest, passed_on = read_stream(relay)
    assert first == b"data: 1\n" and b"data: 2" in rest
    assert passed_on is True


@pytest.fixture(scope="module")
def pooled(tmp_path_factory):
    """The same relay with upstream_keepalive: a pool per provider instead of a variable."""
    nginx = require("nginx", "/usr/sbin/nginx")
    tmp = tmp_path_factory.mktemp("pooled")
    ca = make_ca(tmp)
    upstream = Upstream(*issue(tmp, ca, "localhost"))  # a pool's name resolves at start-up
    serve(upstream)
    port = free_port()
    data = prod_data()
    data["relays"]["relay-1"].update(
        server_name="relay.test", https_port=port, tls={"mode": "self_signed"},
        upstream_keepalive=4, access={"allow_cidrs": [f"{ALLOWED}/32"]},
        providers=[{"kind": "openai", "upstream": f"localhost:{upstream.server_address[1]}"}])
    data["channels"] = [c for c in data["channels"] if c.get("relay") in (None, "relay-1/openai")]
    try:
        with running_relay(nginx, tmp, data, ca, port) as (content, cert):
            assert "proxy_pass https://llminfra_relay_openai;" in content
            yield {"port": port, "upstream": upstream, "cert": cert}
    finally:
        upstream.shutdown()


def test_pooled_relay_reuses_one_provider_connection(pooled):
    """Two requests, one TLS handshake with the provider; streams still pass unbuffered."""
    for _ in range(2):
        resp = get(pooled, "/openai/v1/models", ALLOWED)
        assert (resp.status, resp.read()) == (200, b'{"ok": true}')
    assert [r["path"] for r in pooled["upstream"].requests] == ["/v1/models"] * 2
    assert pooled["upstream"].sni == ["localhost"]
    first, _, passed_on = read_stream(pooled)
    assert first == b"data: 1\n" and passed_on is True
    assert pooled["upstream"].sni == ["localhost"]
