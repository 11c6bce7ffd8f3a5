"""`llminfra admin`: an SSH forward to the gateway's loopback admin port, through a real sshd,
with the inventory's pinned host key and key settings."""
import io

import httpx
import pytest

from llminfra.admin import admin_target, run_admin
from llminfra.model import parse_stack

from .test_tunnel import sshd  # noqa: F401 - the real sshd fixture

SECRETS = {"S_SESSION": "session-secret-value", "S_TOKEN": "0123456789abcdef",
           "S_PASSWORD": "rootpassword-0001"}


def gateway_stack(sshd, admin_port, tmp_path, **ssh):  # noqa: F811
    host_key = sshd["known"].split(" ", 1)[1]
    data = {"gateways": {"gw-1": {
        "ssh": {"host": "127.0.0.1", "port": sshd["port"], "user": "root", "key": sshd["key"],
                "host_key": host_key, **ssh},
        "oneapi": {"admin_port": admin_port, "session_secret": "S_SESSION",
                   "root_access_token": "S_TOKEN", "root_password": "S_PASSWORD"},
        "nginx": {"server_name": "api.test"}}}}
    return parse_stack(data, source=tmp_path / "admin.yml", environ=SECRETS)


def test_admin_prints_the_ui_url_and_the_ui_answers_through_it(sshd, emu, tmp_path):  # noqa: F811
    stack = gateway_stack(sshd, emu.port, tmp_path)
    assert admin_target(stack, "gw-1") == ("127.0.0.1", emu.port, "/")
    out, seen = io.StringIO(), {}

    def browse():
        url = out.getvalue().split(" web UI at ", 1)[1].split()[0]
        seen["url"] = url
        seen["status"] = httpx.get(url.rstrip("/") + "/api/status", timeout=10).json()

    assert run_admin(stack, "gw-1", out=out, wait=browse) == 0
    assert seen["url"].startswith("http://127.0.0.1:") and seen["url"].endswith("/")
    assert f":{emu.port}/" not in seen["url"]  # a local forward, not the admin port itself
    assert seen["status"]["success"] is True
    assert "gw-1: oneapi web UI at http://127.0.0.1:" in out.getvalue()


def test_admin_refuses_a_host_presenting_another_key(sshd, emu, tmp_path, capsys):  # noqa: F811
    wrong = sshd["wrong"].split(" ", 1)[1]
    stack = gateway_stack(sshd, emu.port, tmp_path, host_key=wrong)
    assert run_admin(stack, "gw-1", out=io.StringIO(), wait=lambda: pytest.fail("opened")) == 1
    err = capsys.readouterr().err
    assert "host key mismatch" in err and err.count("\n") == 1
