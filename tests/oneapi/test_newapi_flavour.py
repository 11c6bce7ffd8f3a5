"""The inventory selects New-API: first-run setup, generated admin token kept locally, then
the same plan/apply as OneAPI against the emulator's New-API mode."""
import io
import os
import stat
from pathlib import Path

import pytest
import yaml

from llminfra.cli import main
from llminfra.model import load_stack
from llminfra.oneapi.cli import Options, reconcile_gateway
from llminfra.oneapi.credentials import CACHE_FILE, CredentialCache, newapi_credentials
from llminfra.oneapi.errors import OneAPIAuthError
from llminfra.oneapi.from_stack import desired_state
from llminfra.render.compose_oneapi import oneapi_secrets, oneapi_view, render_oneapi_compose

APPLY = Options(apply=True, test="none")  # the example's hosts do not exist: nothing to test
PROD = Path(__file__).resolve().parents[2] / "inventory" / "prod.yml"
ROOT_PW = "new-root-pw-00001"
SECRETS = {
    "GPU1_VLLM_KEY": "vllm-key-value-0001", "ONEAPI_SESSION_SECRET": "session-value-00001",
    "ONEAPI_ROOT_PASSWORD": ROOT_PW, "RELAY_SHARED_SECRET": "relay-value-000001",
    "OPENAI_PROVIDER_KEY": "sk-openai-value", "ANTHROPIC_PROVIDER_KEY": "anthropic-value",
    "GEMINI_PROVIDER_KEY": "gemini-value",
}


@pytest.fixture
def stack_file(tmp_path):
    data = yaml.safe_load(PROD.read_text())
    oneapi = data["gateways"]["gw-1"]["oneapi"]
    oneapi["flavor"] = "new-api"
    for key in ("root_access_token", "image", "version"):
        oneapi.pop(key, None)
    f = tmp_path / "prod.yml"
    f.write_text(yaml.safe_dump(data, sort_keys=False))
    secrets = tmp_path / "prod.secrets.env"
    secrets.write_text("".join(f"{k}={v}\n" for k, v in SECRETS.items()))
    secrets.chmod(0o600)
    return f


def logins(emu):
    return sum(1 for _, path, _ in emu.requests if path == "/api/user/login")


def test_first_run_sets_up_root_and_later_runs_never_log_in(stack_file, newemu):
    stack = load_stack(stack_file)
    assert reconcile_gateway(stack, "gw-1", APPLY, admin_url=newemu.url,
                             out=io.StringIO()) == 0
    assert [p for m, p, _ in newemu.requests if m == "POST"][0] == "/api/setup"
    assert logins(newemu) == 1
    cache = stack_file.parent / ".llminfra" / "prod-gw-1" / CACHE_FILE
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600
    newemu.clear_log()
    assert main(["channels", "plan", str(stack_file), "--admin-url", newemu.url,
                 "--detailed-exitcode"]) == 0
    assert logins(newemu) == 0 and not newemu.writes()


def test_channels_and_tokens_land_in_new_api_shape(stack_file, newemu):
    stack = load_stack(stack_file)
    reconcile_gateway(stack, "gw-1", APPLY, admin_url=newemu.url, out=io.StringIO())
    rows = {c["name"]: c for c in newemu.store.table("channels")}
    qwen = rows["lmi/gpu-1/qwen"]
    assert (qwen["type"], qwen["base_url"]) == (1, "http://10.8.0.10:8000")
    assert qwen["key"] == "vllm-key-value-0001" and "config" not in qwen
    tokens = {t["name"]: t for t in newemu.store.table("tokens")}
    alice = tokens["lmi/alice"]
    assert alice["model_limits_enabled"] and alice["model_limits"] == "qwen2.5-14b,qwen2.5:7b"
    env = (stack_file.parent / ".llminfra" / "prod-gw-1" / "oneapi-tokens.env").read_text()
    for token in tokens.values():  # the kit captured every key despite the masked reads
        assert f"=sk-{token['key']}\n" in env


def test_another_machine_logs_in_once_and_the_first_recovers(stack_file, newemu, tmp_path):
    stack = load_stack(stack_file)
    reconcile_gateway(stack, "gw-1", APPLY, admin_url=newemu.url, out=io.StringIO())
    other = CredentialCache(tmp_path / "elsewhere")
    newapi_credentials(newemu.url, ROOT_PW, other)  # rotates the gateway's token
    newemu.clear_log()
    assert reconcile_gateway(stack, "gw-1", Options(), admin_url=newemu.url,
                             out=io.StringIO()) == 0  # nothing pending
    assert logins(newemu) == 1 and [p for m, p, _ in newemu.requests
                                    if m == "POST"] == ["/api/user/login"]


def test_wrong_root_password_is_one_clear_line(stack_file, newemu, capsys):
    newapi_credentials(newemu.url, "someone-elses-pw", CredentialCache(stack_file.parent / "x"))
    assert main(["channels", "plan", str(stack_file), "--admin-url", newemu.url]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "login as root failed" in err[0]
    assert "oneapi.root_password" in err[0] and ROOT_PW not in err[0]
    with pytest.raises(OneAPIAuthError):
        newapi_credentials(newemu.url, ROOT_PW, CredentialCache(stack_file.parent / "y"))


def test_compose_and_secrets_follow_the_flavour(stack_file):
    stack = load_stack(stack_file)
    view = oneapi_view(stack, "gw-1")
    assert view.image == "calciumion/new-api:v0.13.2" and view.product == "New-API"
    assert "INITIAL_ROOT_ACCESS_TOKEN" not in oneapi_secrets(stack, "gw-1")
    assert desired_state(stack, "gw-1").channels  # channel kinds resolve to New-API ids
    compose = render_oneapi_compose(stack, "gw-1").content
    assert "# Written by llminfra: New-API." in compose
    assert "calciumion/new-api:v0.13.2" in compose and "/api/status" in compose


def test_the_mirrors_rewrite_the_new_api_image_too(stack_file):
    data = yaml.safe_load(stack_file.read_text())
    data["mirrors"]["image_rewrite"] = {"docker.io": "hub.m.example.cn"}
    data["gateways"]["gw-1"]["oneapi"]["version"] = "v1.0.0-rc.10"
    stack_file.write_text(yaml.safe_dump(data))
    view = oneapi_view(load_stack(stack_file), "gw-1")
    assert view.image == "hub.m.example.cn/calciumion/new-api:v1.0.0-rc.10"


def test_oneapi_without_a_root_access_token_is_refused(tmp_path):
    data = yaml.safe_load(PROD.read_text())
    del data["gateways"]["gw-1"]["oneapi"]["root_access_token"]
    f = tmp_path / "prod.yml"
    f.write_text(yaml.safe_dump(data))
    (tmp_path / "prod.secrets.env").write_text("")
    (tmp_path / "prod.secrets.env").chmod(0o600)
    assert main(["check", str(f)]) == 2


def test_a_stale_key_in_the_tokens_file_is_replaced_after_a_re_created_gateway(
        stack_file, newemu):
    """The gateway was rebuilt: the tokens file still holds the old gateway's keys, which the
    masked listing cannot confirm, so the new ones are read through the key route."""
    env = stack_file.parent / ".llminfra" / "prod-gw-1" / "oneapi-tokens.env"
    env.parent.mkdir(parents=True)
    env.write_text("LMI_TOKEN_APPS=sk-" + "x" * 48 + "\n")
    env.chmod(0o600)
    reconcile_gateway(load_stack(stack_file), "gw-1", APPLY, admin_url=newemu.url,
                      out=io.StringIO())
    apps = next(t for t in newemu.store.table("tokens") if t["name"] == "lmi/apps")
    assert f"LMI_TOKEN_APPS=sk-{apps['key']}\n" in env.read_text()
