"""The rendered gateway config, run by Debian's nginx on loopback in front of a recording
engine: the public name serves the client API only; the UI and admin API only to the
allowlist."""

import dataclasses
import http.client
import http.server
import socket
import ssl
import subprocess

import pytest
from live_relay import free_port, serve, wait_for_port
from render_helpers import make_stack, nginx_conf, prod_data, require, self_signed

from llminfra.render.files import render
from llminfra.render.nginx_gateway import gateway_view
from llminfra.render.tls import CertPaths

ADMIN, STRANGER = "127.0.0.2", "127.0.0.3"

CLIENT_API = [
    ("GET", "/v1/models"), ("GET", "/v1/models/qwen2.5-14b"), ("GET", "/v1/models/Qwen/Qwen2.5"),
    ("POST", "/v1/chat/completions"), ("POST", "/v1/completions"), ("POST", "/v1/embeddings"),
    ("POST", "/v1/moderations"), ("POST", "/v1/audio/speech"),
    ("POST", "/v1/audio/transcriptions"), ("POST", "/v1/images/generations"),
    ("POST", "/v1/rerank"), ("GET", "/v1/dashboard/billing/subscription"),
    ("GET", "/v1/chat/completions?stream=true"),
]
NOT_PUBLISHED = [
    ("POST", "/api/user/login"), ("GET", "/api/channel/"), ("GET", "/api/status"),
    ("GET", "/api/token/?p=0"), ("GET", "/"), ("GET", "/index.html"), ("GET", "/login"),
    ("GET", "/panel"), ("GET", "/metrics"), ("GET", "/health"), ("GET", "/ui/"),
    ("POST", "/key/generate"), ("GET", "/v1"), ("GET", "/v1/"), ("GET", "/v1models"),
    ("GET", "/v1/api/user/login"), ("GET", "/v1/../api/user/login"),
    ("GET", "/v1/chat/completions/../../api/channel/"), ("GET", "/v1/%2e%2e/api/channel/"),
    ("GET", "/v1/models/..%2f..%2fapi/channel/"), ("GET", "/V1/models"),
    ("GET", "/dashboard/billing/subscription"), ("GET", "//api/channel/"),
]


class Engine(http.server.ThreadingHTTPServer):
    """Stands in for OneAPI: records every request that gets through."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _EngineHandler)
        self.paths: list[str] = []


class _EngineHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.paths.append(self.path)
        body = b'{"engine": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    nginx = require("nginx", "/usr/sbin/nginx")
    tmp = tmp_path_factory.mktemp("gateway")
    engine = Engine()
    serve(engine)
    sites = {}
    procs = []
    for label, allow in (("closed", []), ("allowlist", [f"{ADMIN}/32"])):
        port = free_port()
        data = prod_data()
        data["gateways"]["gw-1"]["nginx"].update(server_name="api.test", https_port=port,
                                                 tls={"mode": "self_signed"},
                                                 admin_allow_cidrs=allow)
        data["gateways"]["gw-1"]["oneapi"]["admin_port"] = engine.server_address[1]
        view = gateway_view(make_stack(data), "gw-1")
        cert, key = self_signed(tmp / label, "api.test")
        view = dataclasses.replace(view, cert=CertPaths(str(cert), str(key)))
        # Loopback only: the rendered `listen PORT` would take every interface.
        content = render("nginx/gateway.conf.j2", view)
        content = content.replace(f"listen {port} ", f"listen 127.0.0.1:{port} ")
        content = content.replace("listen 80;", f"listen 127.0.0.1:{free_port()};")
        prefix = tmp / label
        site = prefix / "gateway.conf"
        site.write_text(content)
        procs.append(subprocess.Popen([nginx, "-c", str(nginx_conf(prefix, site)), "-p",
                                       str(prefix), "-g", "daemon off;"], stderr=subprocess.PIPE))
        wait_for_port(port)
        sites[label] = {"port": port, "cert": cert}
    try:
        yield {"engine": engine, **sites}
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)
        engine.shutdown()


def call(site, method, path, src=STRANGER):
    ctx = ssl.create_default_context(cafile=str(site["cert"]))
    sock = socket.create_connection(("127.0.0.1", site["port"]), source_address=(src, 0),
                                    timeout=10)
    conn = http.client.HTTPConnection("api.test", site["port"], timeout=10)
    conn.sock = ctx.wrap_socket(sock, server_hostname="api.test")
    conn.putrequest(method, path, skip_accept_encoding=True)
    conn.putheader("Content-Length", "2" if method == "POST" else "0")
    conn.endheaders(b"{}" if method == "POST" else None)
    resp = conn.getresponse()
    resp.read()
    return resp.status


@pytest.mark.parametrize(("method", "path"), CLIENT_API)
def test_client_api_reaches_the_engine(gateway, method, path):
    before = len(gateway["engine"].paths)
    assert call(gateway["closed"], method, path) == 200
    assert gateway["engine"].paths[before:] == [path]


@pytest.mark.parametrize(("method", "path"), NOT_PUBLISHED)
def test_everything_else_is_404_and_never_reaches_the_engine(gateway, method, path):
    before = len(gateway["engine"].paths)
    assert call(gateway["closed"], method, path) == 404
    assert call(gateway["allowlist"], method, path, STRANGER) == 404
    assert gateway["engine"].paths[before:] == []


def test_admin_allowlist_reaches_the_ui_and_admin_api(gateway):
    before = len(gateway["engine"].paths)
    for path in ("/", "/api/status", "/api/channel/"):
        assert call(gateway["allowlist"], "GET", path, ADMIN) == 200
        assert call(gateway["closed"], "GET", path, ADMIN) == 404  # no allowlist: nobody
    assert gateway["engine"].paths[before:] == ["/", "/api/status", "/api/channel/"]
