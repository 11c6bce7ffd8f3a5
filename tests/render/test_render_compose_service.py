"""Model-service Compose projects: pinning, images, commands, secrets."""

import pytest
import yaml
from render_helpers import SECRETS, make_stack

from llminfra.model.services.vllm import vllm_args
from llminfra.render import (
    RenderError, render_service_compose, render_service_secrets,
)


def compose_of(stack, host, name):
    svc = next(s for s in stack.gpu_hosts[host].services if s.name == name)
    f = render_service_compose(stack, host, svc)
    return f, yaml.safe_load(f.content)["services"][name], svc


def devices(spec):
    return spec["deploy"]["resources"]["reservations"]["devices"]


def test_vllm_pins_gpus_by_device_ids_never_count(prod):
    f, spec, _ = compose_of(prod, "gpu-1", "qwen")
    assert f.path_on_host == "/opt/llminfra/llm-qwen/compose.yaml"
    assert devices(spec) == [{"driver": "nvidia", "device_ids": ["0", "1"], "capabilities": ["gpu"]}]
    assert "count" not in devices(spec)[0]
    assert spec["ipc"] == "host" and spec["shm_size"] == "16g"


def test_cpu_service_has_no_device_reservation(prod):
    f, spec, _ = compose_of(prod, "gpu-1", "embed")
    assert "deploy" not in spec and "nvidia" not in f.content
    assert "ipc" not in spec


def test_tensor_parallel_defaults_to_pinned_gpus(data):
    stack = make_stack(data)
    _, spec, _ = compose_of(stack, "gpu-1", "qwen")
    cmd = spec["command"]
    assert cmd[cmd.index("--tensor-parallel-size") + 1] == "2"
    data["gpu_hosts"]["gpu-1"]["services"][0]["gpus"] = [1]
    _, spec, _ = compose_of(make_stack(data), "gpu-1", "qwen")
    assert spec["command"][spec["command"].index("--tensor-parallel-size") + 1] == "1"


def test_vllm_command_line(data):
    data["gpu_hosts"]["gpu-1"]["services"][0].update(
        served_names=["qwen2.5-14b", "b"], quantization="awq", lora_modules={"sql": "/m/sql"},
        trust_remote_code=True, extra_args=["--enable-prefix-caching"])
    stack = make_stack(data)
    svc = stack.gpu_hosts["gpu-1"].services[0]
    assert vllm_args(svc, "/c") == [
        "--model", "Qwen/Qwen2.5-14B-Instruct", "--served-model-name", "qwen2.5-14b", "b",
        "--host", "0.0.0.0", "--port", "8000", "--tensor-parallel-size", "2",
        "--gpu-memory-utilization", "0.9", "--dtype", "auto",
        "--download-dir", "/c/huggingface/hub", "--max-model-len", "32768",
        "--quantization", "awq", "--enable-lora", "--lora-modules", "sql=/m/sql",
        "--trust-remote-code", "--enable-prefix-caching"]


def test_image_rewrite_applies_to_ghcr_and_quay(data):
    data["mirrors"]["image_rewrite"] = {"ghcr.io": "ghcr.m.cn", "quay.io": "quay.m.cn"}
    data["gpu_hosts"]["gpu-1"]["services"][0]["image"] = "quay.io/vllm/vllm-openai:v1"
    stack = make_stack(data)
    assert compose_of(stack, "gpu-1", "embed")[1]["image"] == "ghcr.m.cn/ggml-org/llama.cpp:server"
    assert compose_of(stack, "gpu-1", "qwen")[1]["image"] == "quay.m.cn/vllm/vllm-openai:v1"
    # Docker Hub images are left to registry-mirrors unless docker.io is rewritten too
    assert compose_of(stack, "gpu-2", "ollama")[1]["image"] == "ollama/ollama:0.5.7"


def test_published_only_on_the_service_bind(prod):
    assert compose_of(prod, "gpu-1", "qwen")[1]["ports"] == ["10.8.0.10:8000:8000"]
    assert compose_of(prod, "gpu-2", "ollama")[1]["ports"] == ["127.0.0.1:11434:11434"]


def test_secrets_only_in_the_0600_env_file(data):
    data["gpu_hosts"]["gpu-1"]["services"][0]["hf_token"] = "HF_TOKEN_1"
    stack = make_stack(data)
    f, spec, svc = compose_of(stack, "gpu-1", "qwen")
    key, token = SECRETS["GPU1_VLLM_KEY"], SECRETS["HF_TOKEN_1"]
    assert key not in f.content and token not in f.content and not f.secret
    assert "--api-key" not in spec["command"]  # vLLM reads VLLM_API_KEY itself
    assert spec["env_file"] == ["secrets.env"]
    sec = render_service_secrets(stack, "gpu-1", svc)
    assert (sec.path_on_host, sec.mode, sec.secret) == ("/opt/llminfra/llm-qwen/secrets.env", "0600", True)
    assert f"VLLM_API_KEY='{key}'" in sec.content.splitlines()
    assert f"HF_TOKEN='{token}'" in sec.content.splitlines()
    assert key not in repr(sec)


def test_env_file_refuses_values_that_would_break_quoting(data):
    stack = make_stack(data)
    stack.secrets._env["GPU1_VLLM_KEY"] = "it's"
    with pytest.raises(RenderError, match="VLLM_API_KEY"):
        render_service_secrets(stack, "gpu-1", stack.gpu_hosts["gpu-1"].services[0])


def test_model_download_mirrors(data):
    data["mirrors"]["huggingface_endpoint"] = "https://hf-mirror.com"
    env = dict(compose_of(make_stack(data), "gpu-1", "qwen")[1]["environment"])
    assert env == {"HF_HOME": "/opt/llminfra/models/huggingface", "HF_ENDPOINT": "https://hf-mirror.com"}
    data["gpu_hosts"]["gpu-1"]["services"][0]["model_source"] = "modelscope"
    data["mirrors"]["modelscope_endpoint"] = "www.modelscope.cn"
    env = compose_of(make_stack(data), "gpu-1", "qwen")[1]["environment"]
    assert env["VLLM_USE_MODELSCOPE"] == "True" and env["MODELSCOPE_DOMAIN"] == "www.modelscope.cn"
    assert "HF_ENDPOINT" not in env


def test_ollama_models_is_a_mounted_directory(prod):
    _, spec, _ = compose_of(prod, "gpu-2", "ollama")
    env = spec["environment"]
    assert env["OLLAMA_HOST"] == "0.0.0.0:11434"
    assert (env["OLLAMA_KEEP_ALIVE"], env["OLLAMA_NUM_PARALLEL"], env["OLLAMA_MAX_LOADED_MODELS"]) == ("5m", "4", "1")
    assert f"/opt/llminfra/ollama:{env['OLLAMA_MODELS']}" in spec["volumes"]


def test_health_and_logs(prod):
    _, spec, _ = compose_of(prod, "gpu-1", "qwen")
    assert spec["restart"] == "unless-stopped"
    assert "/v1/models" in spec["healthcheck"]["test"][1]
    assert spec["healthcheck"]["start_period"] == "900s"
    assert spec["logging"] == {"driver": "json-file", "options": {"max-size": "50m", "max-file": "5"}}


def test_compose_interpolation_is_escaped(data):
    data["gpu_hosts"]["gpu-1"]["services"][1]["command"] = ["--x", "$HOME"]
    f, spec, _ = compose_of(make_stack(data), "gpu-1", "embed")
    assert spec["command"][-1] == "$$HOME"  # Compose turns $$ into a literal $
