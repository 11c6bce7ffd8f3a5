"""SGLang services: settings, Compose project, secrets and readiness, by exact strings."""

import json
from pathlib import Path

import pytest
import yaml
from render_helpers import REPO, SECRETS, compose_binary, make_stack, prod_data, with_sglang
from test_render_compose_config import compose_config, write_host

from llminfra.model import StackError, parse_stack
from llminfra.model.services.sglang import sglang_args, sglang_command
from llminfra.render import render_all, render_service_compose, render_service_secrets


def sglang(**settings):
    stack = make_stack(with_sglang(prod_data(), **settings))
    return stack, stack.gpu_hosts["gpu-2"].services[1]


def spec_of(stack, svc):
    return yaml.safe_load(render_service_compose(stack, "gpu-2", svc).content)["services"]["sgl"]


ARGS = ["python3", "-m", "sglang.launch_server", "--model-path", "Qwen/Qwen2.5-7B-Instruct",
        "--served-model-name", "Qwen2.5-7B-Instruct", "--host", "0.0.0.0", "--port", "30000",
        "--tp-size", "1", "--enable-metrics"]


def test_command_line_defaults():
    _, svc = sglang()
    assert sglang_command(svc) == ARGS
    assert svc.served() == ["Qwen2.5-7B-Instruct"]


def test_command_line_with_every_setting():
    _, svc = sglang(served_name="qwen-7b", context_length=8192, mem_fraction_static=0.8,
                    trust_remote_code=True, extra_args=["--enable-metrics"])
    assert sglang_args(svc) == [
        "python3", "-m", "sglang.launch_server", "--model-path", "Qwen/Qwen2.5-7B-Instruct",
        "--served-model-name", "qwen-7b", "--host", "0.0.0.0", "--port", "30000",
        "--tp-size", "1", "--context-length", "8192", "--mem-fraction-static", "0.8",
        "--trust-remote-code", "--enable-metrics"]  # given once: not added twice


def test_api_key_is_added_from_the_environment_never_written():
    stack, svc = sglang(api_key="SGLANG_KEY")
    assert sglang_command(svc) == ["sh", "-c", 'exec "$@" --api-key "$SGLANG_API_KEY"', "sglang",
                                   *ARGS]
    compose = render_service_compose(stack, "gpu-2", svc)
    assert SECRETS["SGLANG_KEY"] not in compose.content
    # Compose must pass `$SGLANG_API_KEY` to the shell untouched: the template writes `$$`
    assert spec_of(stack, svc)["command"][2] == 'exec "$$@" --api-key "$$SGLANG_API_KEY"'
    sec = render_service_secrets(stack, "gpu-2", svc)
    assert (sec.path_on_host, sec.mode) == ("/opt/llminfra/llm-sgl/secrets.env", "0600")
    assert f"SGLANG_API_KEY='{SECRETS['SGLANG_KEY']}'" in sec.content.splitlines()


def test_compose_hands_the_shell_a_literal_dollar(tmp_path):
    stack, _ = sglang(api_key="SGLANG_KEY")
    [path] = [p for p in write_host(render_all(stack)["gpu-2"], tmp_path)
              if p.parent.name == "llm-sgl"]
    result = compose_config(compose_binary(), path, "--format", "json")
    assert result.returncode == 0, result.stderr
    service = json.loads(result.stdout)["services"]["sgl"]
    # `config` re-escapes `$` as `$$` in its output; the container receives one `$`
    assert service["command"][2].replace("$$", "$") == 'exec "$@" --api-key "$SGLANG_API_KEY"'
    assert service["environment"]["SGLANG_API_KEY"].replace("$$", "$") == SECRETS["SGLANG_KEY"]


def test_compose_service():
    stack, svc = sglang(hf_token="HF_TOKEN_1")
    spec = spec_of(stack, svc)
    assert spec["image"] == "lmsysorg/sglang:v0.4.7.post1-cu124"
    assert spec["command"] == ARGS
    assert spec["ports"] == ["127.0.0.1:30000:30000"]  # gpu-2 is tunnel-only
    assert spec["ipc"] == "host" and spec["shm_size"] == "16g"
    assert spec["volumes"] == ["/opt/llminfra/models:/opt/llminfra/models"]
    assert spec["environment"] == {"HF_HOME": "/opt/llminfra/models/huggingface"}
    assert spec["deploy"]["resources"]["reservations"]["devices"] == [
        {"driver": "nvidia", "device_ids": ["1"], "capabilities": ["gpu"]}]
    assert spec["healthcheck"]["test"] == [
        "CMD", "python3", "-c",
        "import urllib.request as u; u.urlopen('http://127.0.0.1:30000/health', timeout=5)"]
    assert spec["healthcheck"]["start_period"] == "900s"
    sec = render_service_secrets(stack, "gpu-2", svc)
    assert sec.content.splitlines()[-1] == f"HF_TOKEN='{SECRETS['HF_TOKEN_1']}'"


def test_mirrors_apply_as_for_every_kind():
    data = with_sglang(prod_data())
    data["mirrors"].update(image_rewrite={"docker.io": "hub.m.example.cn"},
                           huggingface_endpoint="https://hf-mirror.com",
                           pip_index="https://pypi.m.example.cn/simple")
    stack = make_stack(data)
    spec = spec_of(stack, stack.gpu_hosts["gpu-2"].services[1])
    assert spec["image"] == "hub.m.example.cn/lmsysorg/sglang:v0.4.7.post1-cu124"
    assert spec["environment"] == {"HF_HOME": "/opt/llminfra/models/huggingface",
                                   "HF_ENDPOINT": "https://hf-mirror.com",
                                   "PIP_INDEX_URL": "https://pypi.m.example.cn/simple"}


def test_readiness_and_channel():
    stack, svc = sglang(api_key="SGLANG_KEY", served_name="qwen-7b")
    assert (svc.readiness_probe(), svc.steady_probe()) == ("chat", "chat")
    [spec] = [c for c in stack.channel_specs("gw-1") if c.name == "gpu-2/sgl"]
    assert spec.models == ["qwen-7b"] and spec.key_secret == "SGLANG_KEY"


@pytest.mark.parametrize(("settings", "message"), [
    ({"tensor_parallel_size": 2}, "gpu-2: services/1/tensor_parallel_size: 2 does not match "
                                  "the 1 pinned GPU(s)"),
    ({"api_key": "sk-inline"}, "gpu-2: services/1/api_key: 'sk-inline' is not a secret name: "
                               "secrets are referenced by an UPPER_SNAKE name, never written inline"),
    ({"mem_fraction_static": 1.5}, "gpu-2: services/1/mem_fraction_static: input should be less "
                                   "than 1 (got 1.5)"),
    ({"served_names": ["a"]}, "gpu-2: services/1/served_names: unknown key"),
])
def test_settings_are_checked(settings, message):
    with pytest.raises(StackError) as exc:
        sglang(**settings)
    assert message in exc.value.lines


def test_the_commented_example_in_prod_yml_is_valid():
    text = (REPO / "inventory" / "prod.yml").read_text()
    block = [ln for ln in text.splitlines() if ln.startswith("      # ") and (
        "- kind: sglang" in ln or ln.startswith("      #   "))]
    service = yaml.safe_load("\n".join(ln.replace("      # ", "", 1) for ln in block))[0]
    data = prod_data()
    data["gpu_hosts"]["gpu-2"]["gpus"] = 2
    data["gpu_hosts"]["gpu-2"]["services"].append(service)
    stack = parse_stack(data, environ={**SECRETS, "GPU2_SGLANG_KEY": "sglang-key-gpu2-0000"},
                        secrets_file=Path("/nonexistent"))
    assert stack.gpu_hosts["gpu-2"].services[1].served() == ["qwen2.5-7b-sgl"]
