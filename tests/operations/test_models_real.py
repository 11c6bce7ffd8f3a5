"""models.servable for real: curl against a loopback OpenAI-style stub (standing in for vLLM)."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import time

import pytest

from llminfra.operations import compose, models

KEY = "sk-test-not-for-output-7f3a"


class Stub(http.server.BaseHTTPRequestHandler):
    served = "tiny"
    ready_at = 0.0  # completions answer 503 until then (a model still loading)

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {KEY}":
            return True
        self._reply(401, {"error": "unauthorized"})
        return False

    def do_GET(self):
        if self._authorized():
            self._reply(200, {"object": "list", "data": [{"id": self.served, "object": "model"}]})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if not self._authorized():
            return
        if time.time() < self.ready_at or body["model"] != self.served:
            self._reply(503, {"error": "loading"})
            return
        if self.path == "/v1/embeddings":
            self._reply(200, {"data": [{"embedding": [0.1, 0.2]}]})
            return
        self._reply(200, {"choices": [{"message": {"role": "assistant", "content": "p"}}]})

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path, need, serve):
    need("curl")
    Stub.ready_at = 0.0
    httpd = serve(Stub)
    key_file = tmp_path / "api-key"
    key_file.write_text(KEY + "\n")
    key_file.chmod(0o600)
    return f"http://127.0.0.1:{httpd.server_address[1]}", str(key_file)


def test_servable_is_a_noop(server, apply):
    url, key_file = server
    meta = apply(models.servable, url=url, model="tiny", service="stub", api_key_file=key_file)
    assert meta.did_succeed() and not meta.will_change and not meta.did_change()


def test_waits_for_a_loading_model(server, apply):
    url, key_file = server
    Stub.ready_at = time.time() + 3
    started = time.monotonic()
    meta = apply(models.servable, url=url, model="tiny", service="stub", api_key_file=key_file,
                 timeout=60, interval=1)  # fmt: skip
    assert meta.did_succeed() and meta.did_change()
    assert 2 <= time.monotonic() - started < 30


def test_timeout_names_service_and_fails(server, apply):
    url, key_file = server
    started = time.monotonic()
    meta = apply(models.servable, url=url, model="absent", service="stub", api_key_file=key_file,
                 timeout=3, interval=1)  # fmt: skip
    assert meta.did_error()
    assert time.monotonic() - started < 30
    assert f"service stub did not serve model absent at {url} within 3s" in meta.stderr
    assert KEY not in meta.stderr + meta.stdout


@pytest.mark.parametrize("probe", ["embeddings", "list"])
def test_other_probes(server, apply, probe):
    url, key_file = server
    meta = apply(models.servable, url=url, model="tiny", service="stub", api_key_file=key_file,
                 probe=probe)  # fmt: skip
    assert meta.did_succeed() and not meta.did_change()


def test_list_probe_does_not_wait_for_completions(server, apply):
    url, key_file = server
    Stub.ready_at = time.time() + 600  # completions would answer 503 for ten minutes
    meta = apply(models.servable, url=url, model="tiny", service="stub", api_key_file=key_file,
                 probe="list")  # fmt: skip
    assert meta.did_succeed() and not meta.did_change()


def test_wrong_key_is_not_servable(server, apply, tmp_path):
    url, _ = server
    wrong = tmp_path / "wrong-key"
    wrong.write_text("sk-wrong\n")
    meta = apply(models.servable, url=url, model="tiny", service="stub",
                 api_key_file=str(wrong), timeout=2, interval=1)  # fmt: skip
    assert meta.did_error()


@pytest.mark.docker
def test_timeout_prints_redacted_container_logs(server, apply, tmp_path, monkeypatch,
                                                docker_compose_env, sleep_image):  # fmt: skip
    for key, value in docker_compose_env.items():
        monkeypatch.setenv(key, value)
    url, key_file = server
    name = f"llminfra-models-{os.getpid()}"
    directory = str(tmp_path / name)
    content = (
        f"services:\n  server:\n    image: {sleep_image}\n"
        f"    command: [/bin/sh, -c, 'echo starting api_key={KEY}; echo boom; exec sleep 1000']\n"
    )
    try:
        assert apply(compose.project, project_dir=directory, compose=content).did_succeed()
        meta = apply(models.servable, url=url, model="absent", service="server",
                     project_dir=directory, api_key_file=key_file, timeout=2,
                     interval=1)  # fmt: skip
        assert meta.did_error()
        assert "last log lines:" in meta.stderr
        assert "boom" in meta.stderr and "api_key=***" in meta.stderr
        assert KEY not in meta.stderr + meta.stdout
    finally:
        subprocess.run(["docker", "compose", "down"], cwd=directory, capture_output=True)
