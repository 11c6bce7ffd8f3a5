"""The gateway's public URL in the lab: the client API and nothing else; the admin reaches
the web UI the documented way, `llminfra admin` (an SSH forward to the loopback port)."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys

import httpx
import pytest

from llminfra.model import load_stack
from llminfra.model.secrets import parse_dotenv
from llminfra.paths import OperatorPaths
from llminfra.render import cert_paths

from .conftest import REPO

LAB_YML = REPO / "inventory" / "lab.yml"


@pytest.fixture(scope="module")
def public(deployed, hosts, tmp_path_factory):
    """An HTTP client on the public URL, verifying the gateway's certificate."""
    stack = load_stack(LAB_YML)
    gw = stack.gateways["gw-1"]
    cert = cert_paths(gw.nginx.tls, gw.nginx.server_name, gw.nginx.server_name).cert
    ca = tmp_path_factory.mktemp("public") / "gateway.crt"
    ca.write_text(hosts["gw-1"].file(cert).content_string)
    client = httpx.Client(base_url=f"https://{gw.ssh.host}", timeout=30, trust_env=False,
                          verify=ssl.create_default_context(cafile=str(ca)))
    yield stack, client
    client.close()


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/api/user/login"), ("GET", "/api/channel/"), ("GET", "/api/status"),
    ("GET", "/api/token/"), ("GET", "/"), ("GET", "/login"), ("GET", "/v1/../api/channel/"),
])
def test_admin_surface_is_not_served_on_the_public_url(public, method, path):
    _, client = public
    body = {"username": "root", "password": "123456"} if method == "POST" else None
    resp = client.request(method, path, json=body)
    assert resp.status_code == 404
    assert "success" not in resp.text  # nginx's page, not an engine answer


def test_root_with_the_default_password_cannot_log_in_publicly(public):
    _, client = public
    resp = client.post("/api/user/login", json={"username": "root", "password": "123456"})
    assert resp.status_code == 404


def test_client_api_is_served_and_needs_a_token(public):
    stack, client = public
    tokens = OperatorPaths.beside(LAB_YML).oneapi_tokens("gw-1")
    token = parse_dotenv(tokens.read_text())["LMI_TOKEN_APPS"]
    assert client.get("/v1/models").status_code == 401
    listed = client.get("/v1/models", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200
    declared = {m for spec in stack.channel_specs("gw-1") for m in spec.models}
    assert {m["id"] for m in listed.json()["data"]} <= declared


def test_admin_reaches_the_ui_through_llminfra_admin(public):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-m", "llminfra", "admin", str(LAB_YML)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        first = proc.stdout.readline()
        assert " web UI at http://127.0.0.1:" in first, proc.stderr.read() if proc.poll() else first
        url = first.split(" web UI at ", 1)[1].strip()
        ui = httpx.get(url, timeout=30, trust_env=False)
        assert ui.status_code == 200 and "<html" in ui.text.lower()  # the web UI, through SSH
        status = httpx.get(url.rstrip("/") + "/api/status", timeout=30, trust_env=False)
        assert json.loads(status.text)["success"] is True  # and the admin API behind it
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode == 0
    assert "Traceback" not in proc.stderr.read()
