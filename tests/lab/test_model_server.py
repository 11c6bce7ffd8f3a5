"""The vLLM stand-in takes vLLM's flags and serves a real model over the OpenAI API."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import openai
import pytest
from lab_helpers import container_ip, http_json, remove_leftover, wait_http

from llminfra_lab import images

pytestmark = pytest.mark.docker
KEY = "lab-test-key"


@pytest.fixture(scope="module")
def vllm(dc):
    remove_leftover(dc, "llminfra-labtest-vllm")
    images.build("model-server", dc)
    box = dc.containers.run(
        "vllm/vllm-openai:lab",
        ["--model", "HuggingFaceTB/SmolLM2-135M-Instruct", "--served-model-name", "smol",
         "smol-alias", "--port", "8000", "--api-key", KEY, "--max-model-len", "1024",
         "--tensor-parallel-size", "2", "--gpu-memory-utilization", "0.9", "--dtype", "auto",
         "--trust-remote-code", "--enforce-eager"],
        detach=True, name="llminfra-labtest-vllm", labels={"org.llminfra.lab": "test"})
    try:
        url = f"http://{container_ip(box)}:8000"
        wait_http(url + "/health", container=box)
        yield box, url
    finally:
        box.remove(force=True)


def test_models_lists_every_served_name_and_needs_the_key(vllm):
    _, url = vllm
    status, body = http_json(url + "/v1/models", headers={"Authorization": f"Bearer {KEY}"})
    assert status == 200
    assert [m["id"] for m in body["data"]] == ["smol", "smol-alias"]
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url + "/v1/models", timeout=10)
    assert err.value.code == 401


def test_gpu_only_flags_are_logged_as_ignored(vllm):
    box, _ = vllm
    logs = box.logs().decode()
    assert "ignoring GPU-only/unsupported flags:" in logs
    for flag in ("tensor_parallel_size", "gpu_memory_utilization", "trust_remote_code"):
        assert flag in logs
    assert KEY not in logs


def test_streamed_chat_completion_comes_from_the_model(vllm):
    _, url = vllm
    req = urllib.request.Request(
        url + "/v1/chat/completions",
        data=json.dumps({"model": "smol-alias", "stream": True, "max_tokens": 12,
                         "messages": [{"role": "user", "content": "Say hello."}]}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        lines = [ln.decode().strip() for ln in resp if ln.strip()]
    events = [json.loads(ln[5:]) for ln in lines if ln.startswith("data:") and "[DONE]" not in ln]
    assert lines[-1] == "data: [DONE]"
    assert len(events) >= 3  # several token chunks, not one block
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events)
    assert text.strip()
    assert events[-1]["choices"][0]["finish_reason"] in ("stop", "length")


def test_openai_client_works_against_it(vllm):
    _, url = vllm
    cli = openai.OpenAI(base_url=url + "/v1", api_key=KEY)
    out = cli.chat.completions.create(model="smol", max_tokens=8,
                                      messages=[{"role": "user", "content": "2+2?"}])
    assert out.choices[0].message.content.strip()
    assert out.usage.completion_tokens > 0
