"""The Ollama stand-in: pull/list through its CLI and API, persistence, chat (native+OpenAI)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from lab_helpers import container_ip, http_json, remove_leftover, wait_http

from llminfra_lab import images

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def ollama(dc):
    remove_leftover(dc, "llminfra-labtest-ollama")
    images.build("ollama", dc)
    volume = dc.volumes.create("llminfra-labtest-ollama", labels={"org.llminfra.lab": "test"})
    box = dc.containers.run("ollama/ollama:lab", detach=True, name="llminfra-labtest-ollama",
                            environment={"OLLAMA_MODELS": "/models-store"},
                            volumes={volume.name: {"bind": "/models-store", "mode": "rw"}},
                            labels={"org.llminfra.lab": "test"})
    try:
        url = f"http://{container_ip(box)}:11434"
        wait_http(url + "/api/version", container=box)
        yield box, url
    finally:
        box.remove(force=True)
        volume.remove(force=True)


def sh(box, *cmd: str) -> tuple[int, str]:
    code, out = box.exec_run(list(cmd))
    return code, out.decode()


def test_cli_version_pull_and_list(ollama):
    box, url = ollama
    code, out = sh(box, "ollama", "--version")
    assert code == 0 and out.startswith("ollama version is ")
    code, out = sh(box, "ollama", "list")
    assert code == 0 and out.split("\n")[0].split() == ["NAME", "ID", "SIZE", "MODIFIED"]
    assert "qwen2.5:0.5b" not in out
    code, out = sh(box, "ollama", "pull", "qwen2.5:0.5b")
    assert code == 0 and out.strip().endswith("success"), out
    code, out = sh(box, "ollama", "list")
    assert [ln.split()[0] for ln in out.strip().split("\n")[1:]] == ["qwen2.5:0.5b"]
    _, tags = http_json(url + "/api/tags")
    assert [m["name"] for m in tags["models"]] == ["qwen2.5:0.5b"]
    _, models = http_json(url + "/v1/models")
    assert [m["id"] for m in models["data"]] == ["qwen2.5:0.5b"]


def test_pull_streams_ndjson_progress(ollama):
    _, url = ollama
    req = urllib.request.Request(url + "/api/pull", data=json.dumps({"model": "llama3"}).encode())
    with urllib.request.urlopen(req, timeout=60) as resp:
        assert resp.headers["Content-Type"] == "application/x-ndjson"
        steps = [json.loads(line) for line in resp]
    assert steps[0] == {"status": "pulling manifest"}
    assert steps[-1] == {"status": "success"}
    progress = [s for s in steps if "completed" in s]
    assert progress[-1]["completed"] == progress[-1]["total"] > 0


def test_unpulled_model_is_404(ollama):
    _, url = ollama
    with pytest.raises(urllib.error.HTTPError) as err:
        http_json(url + "/api/chat", {"model": "never-pulled", "messages": []})
    assert err.value.code == 404
    assert "not found, try pulling it first" in json.loads(err.value.read())["error"]


def test_native_chat_and_ps(ollama):
    box, url = ollama
    sh(box, "ollama", "pull", "smollm2:135m")
    _, out = http_json(url + "/api/chat", {
        "model": "smollm2:135m", "stream": False, "options": {"num_predict": 8},
        "messages": [{"role": "user", "content": "Hello"}]}, timeout=120)
    assert out["done"] is True and out["model"] == "smollm2:135m"
    assert out["message"]["role"] == "assistant" and out["message"]["content"].strip()
    _, ps = http_json(url + "/api/ps")
    assert "smollm2:135m" in [m["name"] for m in ps["models"]]


def test_openai_streaming_chat(ollama):
    box, url = ollama
    sh(box, "ollama", "pull", "smollm2:135m")
    req = urllib.request.Request(url + "/v1/chat/completions", data=json.dumps({
        "model": "smollm2:135m", "stream": True, "max_tokens": 10,
        "messages": [{"role": "user", "content": "Count to three."}]}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        lines = [ln.decode().strip() for ln in resp if ln.strip()]
    events = [json.loads(ln[5:]) for ln in lines if ln != "data: [DONE]"]
    assert lines[-1] == "data: [DONE]" and len(events) >= 3
    assert {e["model"] for e in events} == {"smollm2:135m"}
    assert "".join(e["choices"][0]["delta"].get("content") or "" for e in events).strip()


def test_pulled_models_survive_a_restart(ollama):
    box, _ = ollama
    sh(box, "ollama", "pull", "keep:me")
    box.restart(timeout=10)
    wait_http(f"http://{container_ip(box)}:11434/api/version", container=box)
    code, out = sh(box, "ollama", "list")
    assert code == 0 and "keep:me" in out
