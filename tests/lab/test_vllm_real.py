"""Real vLLM (CPU build) takes every command line the renderer emits for a vllm service.

vLLM's own parser and engine configuration check each rendered command line inside the image
(seconds, no weights loaded); the server is booted once, with the full rendered command line,
environment, secrets and healthcheck, and the kit's readiness command is run against it.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from lab_helpers import container_ip, http_json, remove_leftover

from llminfra.commands import raw
from llminfra.commands.models import model_wait
from llminfra.model import parse_stack
from llminfra.render import service_view
from llminfra.render.compose_service import service_secrets
from llminfra_lab import images

pytestmark = pytest.mark.docker

IMAGE = images.SPECS["vllm-cpu"].tag
ENTRYPOINT = ["/opt/vllm/bin/python", "-m", "vllm.entrypoints.openai.api_server"]
CHAT = "/models/SmolLM2-135M-Instruct"
EMBED = "/models/all-MiniLM-L6-v2"
KEY = "lab-vllm-key-0001"
CHECKER = Path(__file__).with_name("vllm_argcheck.py")
BOOTED = "key-names-len-dtype"

# name -> (service fields, deep check). Deep: engine configuration too (model files read);
# GPU-only options are checked by the parser alone (no GPU, no AWQ weights here).
CASES: dict[str, tuple[dict, bool]] = {
    "defaults": ({"model": CHAT}, True),
    BOOTED: ({"model": CHAT, "api_key": "KEY", "served_names": ["smol", "smol-alias"],
              "max_model_len": 1024, "dtype": "bfloat16", "shm_size": "512m"}, True),
    "float32-tools-extra-args": ({
        "model": CHAT, "dtype": "float32", "trust_remote_code": True,
        "extra_args": ["--enforce-eager", "--max-num-seqs", "4", "--enable-prefix-caching",
                       "--enable-auto-tool-choice", "--tool-call-parser", "hermes",
                       "--generation-config", "vllm", "--uvicorn-log-level", "warning"]}, True),
    "embeddings": ({"model": EMBED, "task": "embed", "served_names": ["minilm"],
                    "max_model_len": 256}, True),
    "lora": ({"model": CHAT, "lora_modules": {"adapter": "/models/lora-adapter"}}, False),
    "gpu-only": ({"model": CHAT, "gpus": [0, 1], "quantization": "awq",
                  "gpu_memory_utilization": 0.85, "hf_token": "KEY"}, False),
    "modelscope": ({"model": "Qwen/Qwen2.5-0.5B-Instruct", "model_source": "modelscope"}, False),
}


def stack_for(cases: dict[str, tuple[dict, bool]]):
    # one priority for all: several cases serve the same model name
    services = [{"kind": "vllm", "name": name, "port": 8000 + i, "gpus": "cpu",
                 "channel": {"priority": 1}, **fields}
                for i, (name, (fields, _)) in enumerate(cases.items())]
    doc = {
        "name": "vllm-flags",
        "gpu_hosts": {"gpu-1": {"allow_risky": ["public_model_port"], "ssh": {"host": "10.0.0.1", "host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKw3hrqqjSTb/qLWzvkZ/FkxUTX42glyh8OA5pWzex2s"},
                                "gpus": 2, "services": services}},
        "gateways": {"gw-1": {
            "ssh": {"host": "10.0.0.3"},
            "oneapi": {"session_secret": "KEY", "root_access_token": "KEY",
                       "root_password": "KEY"},
            "nginx": {"server_name": "api.test"}}},
    }
    return parse_stack(doc, environ={"KEY": KEY})


STACK = stack_for(CASES)


def view(name: str):
    svc = next(s for s in STACK.gpu_hosts["gpu-1"].services if s.name == name)
    return svc, service_view(STACK, "gpu-1", svc)


def run_checker(dc, entries: list[dict]) -> list[dict]:
    out = dc.containers.run(IMAGE, ["-c", CHECKER.read_text(), json.dumps(entries)],
                            entrypoint=ENTRYPOINT[0], remove=True,
                            environment={"VLLM_LOGGING_LEVEL": "ERROR"}).decode()
    line = next(x for x in out.splitlines() if x.startswith("RESULTS "))
    return json.loads(line[len("RESULTS "):])


@pytest.fixture(scope="module")
def image(dc):
    images.build("vllm-cpu", dc)
    return dc.images.get(IMAGE)


@pytest.fixture(scope="module")
def checked(dc, image):
    """Every case's rendered command line, plus two misspelled ones, through vLLM's checks."""
    entries = [{"argv": list(view(name)[1].command), "deep": deep}
               for name, (_, deep) in CASES.items()]
    good = list(view(BOOTED)[1].command)
    typos = [[("--max-model-length" if a == "--max-model-len" else a) for a in good],
             [("--served-model-names" if a == "--served-model-name" else a) for a in good]]
    too_long = list(good)
    too_long[too_long.index("--max-model-len") + 1] = "100000"
    results = run_checker(dc, entries + [{"argv": t, "deep": False} for t in typos]
                          + [{"argv": too_long, "deep": True}])
    return dict(zip(CASES, results[:len(CASES)], strict=True)), results[len(CASES):]


def test_image_entrypoint_is_vllms_own_server(image):
    assert image.attrs["Config"]["Entrypoint"] == ENTRYPOINT


@pytest.mark.parametrize("name", list(CASES))
def test_vllm_accepts_the_rendered_command_line(checked, name):
    result = checked[0][name]
    assert result["ok"], f"vLLM rejected the rendered command line of {name}: {result}"


def test_a_misspelled_flag_is_rejected_by_vllms_parser(checked):
    for result, flag in zip(checked[1][:2], ("--max-model-length", "--served-model-names"),
                            strict=True):
        assert not result["ok"] and result["exit"] == 2
        assert "unrecognized arguments" in result["error"] and flag in result["error"]


def test_engine_config_check_rejects_a_context_beyond_the_model(checked):
    result = checked[1][2]
    assert not result["ok"] and "max_model_len (100000)" in result["error"]


def test_a_misspelled_flag_makes_the_server_exit_non_zero(dc, image):
    argv = [("--tensor-paralel-size" if a == "--tensor-parallel-size" else a)
            for a in view("defaults")[1].command]
    name = "llminfra-labtest-vllm-typo"
    remove_leftover(dc, name)
    box = dc.containers.run(IMAGE, argv, name=name, detach=True,
                            labels={"org.llminfra.lab": "test"})
    try:
        code = box.wait(timeout=300)["StatusCode"]
        logs = box.logs().decode(errors="replace")
    finally:
        box.remove(force=True)
    assert code != 0
    assert "unrecognized arguments: --tensor-paralel-size" in logs


# -- one full boot with the rendered command line ---------------------------------------------

def _healthcheck(hc) -> dict:
    seconds = 1_000_000_000
    return {"test": list(hc.test), "interval": 3 * seconds, "timeout": 10 * seconds,
            "retries": hc.retries, "start_period": 300 * seconds}


@pytest.fixture(scope="module")
def server(dc, image):
    svc, v = view(BOOTED)
    name = "llminfra-labtest-vllm-real"
    remove_leftover(dc, name)
    env = dict(v.environment) | service_secrets(STACK, svc)
    started = time.monotonic()
    # shm_size, not the rendered `ipc: host`: here that would be the build machine's /dev/shm
    box = dc.containers.run(IMAGE, list(v.command), name=name, detach=True, environment=env,
                            shm_size=svc.shm_size, healthcheck=_healthcheck(v.healthcheck),
                            labels={"org.llminfra.lab": "test"})
    try:
        url = f"http://{container_ip(box)}:{svc.port}"
        healthy_after = wait_health(url, box, started)
        print(f"\n[vllm] real vLLM healthy after {healthy_after:.0f} s")
        yield box, url, svc
    finally:
        box.remove(force=True)


def wait_health(url: str, box, started: float, timeout: float = 600) -> float:
    import urllib.request

    while time.monotonic() - started < timeout:
        box.reload()
        if box.status == "exited":
            break
        try:
            with urllib.request.urlopen(url + "/health", timeout=3) as resp:
                if resp.status == 200:
                    return time.monotonic() - started
        except OSError:
            pass
        time.sleep(1)
    raise AssertionError(f"vLLM did not get healthy:\n{box.logs().decode()[-4000:]}")


def test_kits_readiness_command_passes_against_real_vllm(server, tmp_path):
    _, url, svc = server
    key_file = tmp_path / "api-key"
    key_file.write_text(KEY + "\n")
    cmd = model_wait(url, svc.served()[0], svc.name, 120, None, str(key_file), 2,
                     svc.readiness_probe(), svc.health_path)
    proc = subprocess.run(["sh", "-c", raw(cmd)], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr


def test_rendered_healthcheck_turns_healthy(server):
    box, _, _ = server
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        box.reload()
        health = box.attrs["State"].get("Health", {})
        if health.get("Status") == "healthy":
            return
        time.sleep(2)
    raise AssertionError(f"docker healthcheck: {health}")


def test_served_names_context_and_key_are_applied(server):
    import urllib.error
    import urllib.request

    _, url, _ = server
    status, body = http_json(url + "/v1/models", headers={"Authorization": f"Bearer {KEY}"})
    assert status == 200
    assert [m["id"] for m in body["data"]] == ["smol", "smol-alias"]
    assert body["data"][0]["max_model_len"] == 1024
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url + "/v1/models", timeout=10)
    assert err.value.code == 401
    box = server[0]
    assert KEY not in box.logs().decode(errors="replace")


def stream_chat(url: str, model: str, max_tokens: int = 32) -> tuple[float, int, float, str]:
    """(time to first token, content chunks, seconds in total, text) of a streamed chat."""
    import httpx

    body = {"model": model, "stream": True, "max_tokens": max_tokens, "temperature": 0,
            "messages": [{"role": "user", "content": "Count from one to twenty in words."}]}
    start = time.monotonic()
    first, chunks, text = None, 0, ""
    with httpx.stream("POST", url + "/v1/chat/completions", json=body, timeout=120,
                      headers={"Authorization": f"Bearer {KEY}"}, trust_env=False) as resp:
        assert resp.status_code == 200, resp.read()
        for line in resp.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            delta = json.loads(line[6:])["choices"][0]["delta"].get("content")
            if delta:
                first = first or time.monotonic() - start
                chunks += 1
                text += delta
    return first or 0.0, chunks, time.monotonic() - start, text


def test_streamed_chat_from_real_vllm(server):
    _, url, _ = server
    stream_chat(url, "smol", 4)  # the first request after start pays for warm-up
    ttft, chunks, total, text = stream_chat(url, "smol-alias")
    rate = (chunks - 1) / (total - ttft) if chunks > 1 and total > ttft else 0.0
    print(f"\n[vllm] direct: first token {ttft * 1000:.0f} ms, {chunks} tokens in {total:.2f} s"
          f" ({rate:.1f} tokens/s after the first): {text!r}")
    assert chunks >= 8 and text.strip()
