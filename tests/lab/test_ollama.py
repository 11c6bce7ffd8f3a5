"""The Ollama stand-in over HTTP: pull/list through its CLI and API, persistence, chat
(native+OpenAI), and the rules pinned against Ollama v0.12.10's source (server/routes.go):
pull progress and its final status, /api/tags and /api/ps shapes, keep-alive, the loaded
models limit, error texts and status codes. The scheduler's rules in depth:
test_ollama_sched.py."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, UTC

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
                            environment={"OLLAMA_MODELS": "/models-store",
                                         "OLLAMA_MAX_LOADED_MODELS": "2",
                                         # as the kit deploys it: several streams at once
                                         "OLLAMA_NUM_PARALLEL": "4",
                                         "LAB_OLLAMA_UNKNOWN": "nosuch:model"},
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


def error_of(url: str, body: dict | None, method: str = "POST", raw: bytes | None = None):
    data = raw if raw is not None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=60)
    return err.value.code, json.loads(err.value.read())


@pytest.mark.parametrize("path, body, code, error", [
    ("/api/chat", {"model": "never-pulled", "messages": []}, 404,
     "model 'never-pulled' not found"),
    ("/api/generate", {"model": "never-pulled", "prompt": "hi"}, 404,
     "model 'never-pulled' not found"),
    ("/api/generate", {"model": "", "prompt": "hi"}, 404, "model '' not found"),
    ("/api/chat", {"model": "", "messages": []}, 400, "model is required"),
    ("/api/show", {"model": "never-pulled"}, 404, "model 'never-pulled' not found"),
    ("/api/pull", {"model": "bad name!"}, 400, "invalid model name"),
    ("/api/chat", {"model": "smollm2:135m", "keep_alive": "soon"}, 400,
     'time: invalid duration "soon"'),
])
def test_error_texts_and_codes(ollama, path, body, code, error):
    _, url = ollama
    assert error_of(url + path, body) == (code, {"error": error})


def test_missing_body_and_delete_of_an_unknown_model(ollama):
    _, url = ollama
    assert error_of(url + "/api/chat", None, raw=b"") == (400, {"error": "missing request body"})
    assert error_of(url + "/api/delete", {"model": "never-pulled"}, method="DELETE") == (
        404, {"error": "model 'never-pulled' not found"})


def test_openai_route_wraps_the_error_and_keeps_the_status(ollama):
    _, url = ollama
    assert error_of(url + "/v1/chat/completions", {"model": "never-pulled", "messages": []}) == (
        404, {"error": {"message": "model 'never-pulled' not found", "type": "api_error",
                        "param": None, "code": None}})


def test_pull_without_streaming_answers_the_last_status(ollama):
    _, url = ollama
    assert http_json(url + "/api/pull", {"model": "quiet:1", "stream": False})[1] == {
        "status": "success"}


def test_pull_of_a_name_the_registry_lacks(ollama):
    box, url = ollama
    req = urllib.request.Request(url + "/api/pull", data=json.dumps({"model": "nosuch:model"}).encode())
    with urllib.request.urlopen(req, timeout=60) as resp:  # the stream began: 200
        steps = [json.loads(line) for line in resp]
    assert steps == [{"status": "pulling manifest"},
                     {"error": "pull model manifest: file does not exist"}]
    assert error_of(url + "/api/pull", {"model": "nosuch:model", "stream": False}) == (
        500, {"error": "pull model manifest: file does not exist"})
    code, out = sh(box, "ollama", "pull", "nosuch:model")
    assert code == 1 and "Error: pull model manifest: file does not exist" in out
    assert "nosuch:model" not in [m["name"] for m in http_json(url + "/api/tags")[1]["models"]]


def test_tags_shape_and_newest_first(ollama):
    _, url = ollama
    http_json(url + "/api/pull", {"model": "older:1", "stream": False})
    time.sleep(1.1)  # Ollama orders by whole seconds
    http_json(url + "/api/pull", {"model": "newer:1", "stream": False})
    models = http_json(url + "/api/tags")[1]["models"]
    names = [m["name"] for m in models]
    assert names.index("newer:1") < names.index("older:1")
    m = models[names.index("newer:1")]
    assert set(m) == {"name", "model", "modified_at", "size", "digest", "details"}
    assert m["model"] == "newer:1" and len(m["digest"]) == 64 and m["size"] > 0
    assert set(m["details"]) == {"parent_model", "format", "family", "families",
                                 "parameter_size", "quantization_level"}


def load(url: str, name: str, keep_alive=None, api: str = "/api/generate") -> dict:
    body = {"model": name, **({"keep_alive": keep_alive} if keep_alive is not None else {})}
    return http_json(url + api, body)[1]


def ps(url: str) -> list[dict]:
    return http_json(url + "/api/ps")[1]["models"]


def test_load_keep_alive_and_unload(ollama):
    _, url = ollama
    for name in ("ka:1", "ka:2"):
        http_json(url + "/api/pull", {"model": name, "stream": False})
    out = load(url, "ka:1", "10m")
    assert {k: out[k] for k in ("model", "response", "done", "done_reason")} == {
        "model": "ka:1", "response": "", "done": True, "done_reason": "load"}
    load(url, "ka:2", -1)
    [forever, ten] = ps(url)  # longest time left first
    assert (forever["name"], ten["name"]) == ("ka:2", "ka:1")
    assert set(ten) == {"name", "model", "size", "digest", "details", "expires_at",
                        "size_vram", "context_length"}
    left = datetime.fromisoformat(ten["expires_at"]) - datetime.now(UTC)
    assert 9 * 60 < left.total_seconds() <= 10 * 60
    assert datetime.fromisoformat(forever["expires_at"]).year >= 2300  # Go's MaxInt64 ns
    out = load(url, "ka:2", 0)  # keep_alive 0 and no prompt: unload
    assert (out["done"], out["done_reason"]) == (True, "unload")
    chat = load(url, "ka:1", 0, api="/api/chat")
    assert chat["message"] == {"role": "assistant", "content": ""}
    assert chat["done_reason"] == "unload"
    assert [m["name"] for m in ps(url)] == []


def test_loaded_models_limit_unloads_the_shortest_keep_alive(ollama):
    _, url = ollama  # the container runs with OLLAMA_MAX_LOADED_MODELS=2
    for name in ("lim:a", "lim:b", "lim:c"):
        http_json(url + "/api/pull", {"model": name, "stream": False})
    load(url, "lim:b", "1m")
    load(url, "lim:a", "1h")
    load(url, "lim:b", "1m")  # b is the most recently used, and still goes first
    load(url, "lim:c", "30m")
    assert [m["name"] for m in ps(url)] == ["lim:a", "lim:c"]
    for name in ("lim:a", "lim:c"):
        load(url, name, 0)


def test_native_chat_and_ps(ollama):
    box, url = ollama
    sh(box, "ollama", "pull", "smollm2:135m")
    _, out = http_json(url + "/api/chat", {
        "model": "smollm2:135m", "stream": False, "options": {"num_predict": 8},
        "messages": [{"role": "user", "content": "Hello"}]}, timeout=120)
    assert out["done"] is True and out["model"] == "smollm2:135m"
    assert out["message"]["role"] == "assistant" and out["message"]["content"].strip()
    assert "smollm2:135m" in [m["name"] for m in ps(url)]


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


def test_concurrent_streams_each_get_their_answer(ollama):
    """Four streams at once (OLLAMA_NUM_PARALLEL=4): none is cut short by the next one (the
    llama.cpp backend queues them; by default it would abort the running one, empty 200s)."""
    box, url = ollama
    sh(box, "ollama", "pull", "smollm2:135m")
    body = json.dumps({"model": "smollm2:135m", "stream": True, "max_tokens": 6,
                       "messages": [{"role": "user", "content": "Count to three."}]}).encode()
    texts: list[str] = [""] * 4

    def stream(i: int) -> None:
        req = urllib.request.Request(url + "/v1/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as resp:
            for ln in resp:
                if ln.startswith(b"data: {"):
                    texts[i] += json.loads(ln[6:])["choices"][0]["delta"].get("content") or ""

    threads = [threading.Thread(target=stream, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(t.strip() for t in texts), texts


def test_pulled_models_survive_a_restart(ollama):
    box, _ = ollama
    sh(box, "ollama", "pull", "keep:me")
    box.restart(timeout=10)
    wait_http(f"http://{container_ip(box)}:11434/api/version", container=box)
    code, out = sh(box, "ollama", "list")
    assert code == 0 and "keep:me" in out
