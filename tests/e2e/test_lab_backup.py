"""Restore drill in the lab (either flavour: LLMINFRA_LAB_FLAVOR): back the gateway up, empty
its database, restore it, and a client key issued before still works through the public URL.

Runs before test_lab_e2e.py (file order) on the same deployed lab and leaves it as it found it.
"""

from __future__ import annotations

import shlex
import ssl
import stat
import time

import httpx
import pytest

from llminfra.cli import main
from llminfra.model import load_stack
from llminfra.model.secrets import parse_dotenv
from llminfra.render import cert_paths

from .conftest import REPO, TIMES

LAB_YML = REPO / "inventory" / "lab.yml"
TOKENS = REPO / "inventory" / ".llminfra" / "lab-gw-1" / "oneapi-tokens.env"
UPSTREAM_REPLY = "Hello from the lab upstream."


@pytest.fixture(scope="module")
def public(deployed, hosts, tmp_path_factory):
    """(chat(key) -> HTTP status, the stack): requests through the gateway's TLS front."""
    stack = load_stack(LAB_YML)
    gw = stack.gateways["gw-1"]
    ca = tmp_path_factory.mktemp("gw") / "gateway.crt"
    ca.write_text(hosts["gw-1"].file(
        cert_paths(gw.nginx.tls, gw.nginx.server_name, gw.nginx.server_name).cert
    ).content_string)
    http = httpx.Client(verify=ssl.create_default_context(cafile=str(ca)), timeout=60,
                        trust_env=False)

    def chat(key: str) -> httpx.Response:
        return http.post(f"https://{gw.ssh.host}/v1/chat/completions",
                         headers={"Authorization": f"Bearer {key}"},
                         json={"model": "gpt-4o-mini", "max_tokens": 8,
                               "messages": [{"role": "user", "content": "ping"}]})
    yield chat, stack
    http.close()


def wait_status(gw, port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while gw.run(f"curl -sf http://127.0.0.1:{port}/api/status").rc != 0:
        assert time.monotonic() < deadline, "the gateway did not come back"
        time.sleep(1)


def test_restore_into_an_emptied_gateway_brings_back_channels_tokens_and_client_keys(
        public, hosts, tmp_path):
    chat, stack = public
    key = parse_dotenv(TOKENS.read_text())["LMI_TOKEN_APPS"]
    answer = chat(key)
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == UPSTREAM_REPLY

    started = time.monotonic()
    assert main(["gateway", "backup", str(LAB_YML), str(tmp_path / "bk")]) == 0
    TIMES["gateway backup"] = time.monotonic() - started
    target = tmp_path / "bk" / "gw-1"
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    for private in ("database.tar", "secrets.json"):
        assert stat.S_IMODE((target / private).stat().st_mode) == 0o600
    assert key.removeprefix("sk-") not in (target / "export.json").read_text()

    # an empty gateway: same container and project, nothing in its database
    oa = stack.gateways["gw-1"].oneapi_settings
    gw = hosts["gw-1"]
    gw.check_output(f"cd {shlex.quote(oa.data_dir)} && docker compose stop oneapi && "
                    "find data -mindepth 1 -delete && docker compose start oneapi")
    wait_status(gw, oa.admin_port)
    assert chat(key).status_code == 401

    started = time.monotonic()
    assert main(["gateway", "restore", str(LAB_YML), str(tmp_path / "bk")]) == 0
    TIMES["gateway restore"] = time.monotonic() - started
    answer = chat(key)
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == UPSTREAM_REPLY
    # the restored gateway is exactly what the inventory says: nothing to plan
    assert main(["channels", "plan", str(LAB_YML), "--detailed-exitcode"]) == 0
