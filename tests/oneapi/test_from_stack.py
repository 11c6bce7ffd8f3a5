"""Stack model -> desired OneAPI state -> `llminfra channels plan|apply` against the emulator."""

import io
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest
import yaml

from llminfra.cli import main
from llminfra.model import load_stack
from llminfra.oneapi.cli import Options, reconcile_gateway
from llminfra.oneapi.from_stack import NO_KEY, desired_state

from .conftest import ACCESS

APPLY = Options(apply=True, test="none")  # the example's hosts do not exist: nothing to test
PROD = Path(__file__).resolve().parents[2] / "inventory" / "prod.yml"
SECRETS = {
    "GPU1_VLLM_KEY": "vllm-key-value-0001", "ONEAPI_SESSION_SECRET": "session-value-00001",
    "ONEAPI_ROOT_ACCESS_TOKEN": ACCESS, "ONEAPI_ROOT_PASSWORD": "new-root-pw-00001",
    "RELAY_SHARED_SECRET": "relay-value-000001", "OPENAI_PROVIDER_KEY": "sk-openai-value",
    "ANTHROPIC_PROVIDER_KEY": "anthropic-value", "GEMINI_PROVIDER_KEY": "gemini-value",
}


@pytest.fixture
def stack_file(tmp_path):
    f = tmp_path / "prod.yml"
    f.write_text(PROD.read_text())
    secrets = tmp_path / "prod.secrets.env"
    secrets.write_text("".join(f"{k}={v}\n" for k, v in SECRETS.items()))
    secrets.chmod(0o600)
    return f


def test_desired_state_from_prod_example(stack_file):
    desired = desired_state(load_stack(stack_file), "gw-1")
    by_name = {c.name: c for c in desired.channels}
    assert by_name["gpu-1/qwen"].type == 50
    assert by_name["gpu-1/qwen"].base_url == "http://10.8.0.10:8000/v1"
    assert by_name["gpu-1/qwen"].key == "vllm-key-value-0001"
    assert by_name["gpu-1/qwen"].priority == 10
    assert by_name["gpu-2/ollama"].base_url == "http://172.30.0.1:20732/v1"
    assert by_name["gpu-2/ollama"].key == NO_KEY
    assert (by_name["claude"].type, by_name["claude"].base_url) == (
        14, "https://relay.example.com/claude")
    tokens = {t.name: t for t in desired.tokens}
    assert tokens["apps"].unlimited and tokens["apps"].expired_time == -1
    assert (tokens["alice"].remain_quota, tokens["alice"].models) == (
        5000000, ("qwen2.5-14b", "qwen2.5:7b"))


def test_cli_apply_then_plan_is_empty(stack_file, emu, capsys):
    stack = load_stack(stack_file)
    out = io.StringIO()
    assert reconcile_gateway(stack, "gw-1", APPLY, admin_url=emu.url, out=out) == 0
    text = out.getvalue()
    for secret in SECRETS.values():
        assert secret not in text
    # second run: nothing pending, exit code 0 even with --detailed-exitcode
    code = main(["channels", "plan", str(stack_file), "--admin-url", emu.url,
                 "--detailed-exitcode"])
    assert code == 0
    tokens_env = stack_file.parent / ".llminfra" / "prod-gw-1" / "oneapi-tokens.env"
    assert stat.S_IMODE(os.stat(tokens_env).st_mode) == 0o600
    assert "LMI_TOKEN_APPS=" in tokens_env.read_text()


def test_cli_plan_reports_pending_with_exit_3(stack_file, emu):
    assert main(["channels", "plan", str(stack_file), "--admin-url", emu.url,
                 "--detailed-exitcode"]) == 3


def test_wrong_gateway_token_is_one_clear_error(stack_file, emu, capsys):
    secrets = stack_file.parent / "prod.secrets.env"
    secrets.write_text(secrets.read_text().replace(ACCESS, "fedcba9876543210fedcba9876543210"))
    assert main(["channels", "plan", str(stack_file), "--admin-url", emu.url]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gw-1: oneapi: ")


def test_changed_inventory_is_a_minimal_write(stack_file, emu):
    stack = load_stack(stack_file)
    reconcile_gateway(stack, "gw-1", APPLY, admin_url=emu.url,
                      out=io.StringIO())
    data = yaml.safe_load(stack_file.read_text())
    data["gpu_hosts"]["gpu-1"]["services"][0]["channel"]["priority"] = 20
    stack_file.write_text(yaml.safe_dump(data))
    before = len(emu.writes())
    reconcile_gateway(load_stack(stack_file), "gw-1", APPLY,
                      admin_url=emu.url, out=io.StringIO())
    assert [w[:2] for w in emu.writes()[before:]] == [("PUT", "/api/channel/")]


def test_removing_a_tunnelled_service_writes_only_its_channel(stack_file, emu):
    data = yaml.safe_load(stack_file.read_text())
    data["gpu_hosts"]["gpu-2"]["services"] += [
        {"kind": "openai", "name": f"s{i}", "image": "x:1", "port": 9000 + i, "gpus": "cpu",
         "models": [f"m{i}"]} for i in range(4)]
    stack_file.write_text(yaml.safe_dump(data))
    reconcile_gateway(load_stack(stack_file), "gw-1", APPLY,
                      admin_url=emu.url, out=io.StringIO())
    ids = {c["name"]: c["id"] for c in emu.store.table("channels")}
    del data["gpu_hosts"]["gpu-2"]["services"][1]  # s0: others keep their tunnel ports
    stack_file.write_text(yaml.safe_dump(data))
    before = len(emu.writes())
    # channels are derived from the inventory: the removed service's goes without --prune
    reconcile_gateway(load_stack(stack_file), "gw-1", APPLY,
                      admin_url=emu.url, out=io.StringIO())
    assert [w[:2] for w in emu.writes()[before:]] == [
        ("DELETE", f"/api/channel/{ids['lmi/gpu-2/s0']}"),
        ("PUT", "/api/option/")]  # the registry forgets it


def channels(stack_file, emu, *args):
    return main(["channels", *args, str(stack_file), "--admin-url", emu.url])


def list_reads(emu):
    """Reads only a plan makes: the cross-checking searches and the token listing (an apply
    lists channels once to learn the ids of those it created, and re-reads the registry)."""
    return [r for r in emu.requests if r[0] == "GET" and (
        r[1].startswith("/api/token/?") or r[1].endswith("search?keyword=lmi%2F"))]


def test_saved_plan_is_applied_without_planning_again(stack_file, emu, capsys):
    assert channels(stack_file, emu, "plan", "--save", "--detailed-exitcode") == 3
    assert "create" in capsys.readouterr().out
    emu.clear_log()
    assert channels(stack_file, emu, "apply", "--saved", "--test", "none") == 0
    assert list_reads(emu) == [] and len(emu.writes()) > 5  # one plan per deploy
    assert channels(stack_file, emu, "apply", "--saved", "--test", "none") == 1
    assert "no saved plan" in capsys.readouterr().err
    assert channels(stack_file, emu, "plan", "--detailed-exitcode") == 0


def test_saved_plan_refused_after_the_inventory_changed(stack_file, emu, capsys):
    assert channels(stack_file, emu, "plan", "--save", "--detailed-exitcode") == 3
    data = yaml.safe_load(stack_file.read_text())
    data["gpu_hosts"]["gpu-1"]["services"][0]["channel"]["priority"] = 20
    stack_file.write_text(yaml.safe_dump(data))
    emu.clear_log()
    assert channels(stack_file, emu, "apply", "--saved") == 1
    assert "inventory changed" in capsys.readouterr().err and emu.writes() == []


def test_exit_codes(stack_file, emu, api, capsys):
    data = yaml.safe_load(stack_file.read_text())
    del data["gpu_hosts"]["gpu-2"]  # keep channels whose tests fail fast
    data["gpu_hosts"]["gpu-1"]["address"] = "127.0.0.1"
    for i, svc in enumerate(data["gpu_hosts"]["gpu-1"]["services"]):
        svc["bind"], svc["port"] = "127.0.0.1", 9 + 10 * i  # nothing listens there
    data["tokens"] = [t for t in data["tokens"] if not t.get("models")]
    stack_file.write_text(yaml.safe_dump(data))
    emu.set_faults("fail_write=8")  # 1 registry, 2-6 root's logins and password, 7.. creates
    assert channels(stack_file, emu, "apply") == 1  # a write failed
    emu.set_faults("")
    assert channels(stack_file, emu, "plan", "--detailed-exitcode") == 3  # pending
    assert channels(stack_file, emu, "plan") == 0  # without --detailed-exitcode
    assert channels(stack_file, emu, "apply") == 4  # written; the changed channels fail
    out = capsys.readouterr().out
    assert "lmi/gpu-1/qwen" in out and "FAIL" in out and "skipped" in out  # billed: skipped
    assert channels(stack_file, emu, "apply", "--test", "none") == 0
    assert channels(stack_file, emu, "plan", "--detailed-exitcode") == 0
    api.post("/api/channel/", json={"name": "lmi/claude", "key": "twin", "models": "x"})
    assert channels(stack_file, emu, "plan", "--detailed-exitcode") == 5  # a conflict
    assert channels(stack_file, emu, "apply") == 5
    assert "lmi/claude" in capsys.readouterr().out


def test_exit_codes_are_documented_in_the_readme():
    from llminfra.oneapi.cliargs import EXIT_CODES

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for code, meaning in EXIT_CODES.items():
        assert f"| {code} | {meaning} |" in readme


def test_embedding_services_are_marked_not_chat_testable(stack_file):
    data = yaml.safe_load(stack_file.read_text())
    data["gpu_hosts"]["gpu-1"]["services"].append(
        {"kind": "vllm", "name": "emb", "model": "BAAI/bge-m3", "task": "embed", "port": 8001,
         "gpus": "cpu", "served_names": ["bge-m3-vllm"], "bind": "10.8.0.10"})
    stack_file.write_text(yaml.safe_dump(data))
    chats = {c.name: c.chat for c in desired_state(load_stack(stack_file), "gw-1").channels}
    assert chats["gpu-1/emb"] is False and chats["gpu-1/qwen"] is True
    assert chats["openai"] is True


def test_fresh_clone_without_local_state_plans_empty_then_sees_one_changed_secret(
        stack_file, emu, capsys):
    assert channels(stack_file, emu, "apply", "--test", "none") == 0
    shutil.rmtree(stack_file.parent / ".llminfra")  # another machine: no local state at all
    capsys.readouterr()
    emu.clear_log()
    assert channels(stack_file, emu, "plan", "--detailed-exitcode") == 0
    assert [r for r in emu.requests if r[0] != "GET"] == []  # no login, no write
    assert "LMI_TOKEN_APPS" in capsys.readouterr().out  # keys captured again
    secrets = stack_file.parent / "prod.secrets.env"
    secrets.write_text(secrets.read_text().replace("anthropic-value", "anthropic-rotated"))
    assert channels(stack_file, emu, "plan", "--detailed-exitcode") == 3
    out = capsys.readouterr().out
    assert "0 create" not in out and "1 update" in out and "lmi/claude" in out
    assert "key: ****** -> ****** (changed)" in out and "anthropic-rotated" not in out


def test_deploy_step_command_lines():
    from llminfra.operations.oneapi import channels_argv

    py = sys.executable
    assert channels_argv("plan", "inv/prod.yml", "gw-1") == [
        py, "-m", "llminfra", "channels", "plan", "inv/prod.yml", "--gateway", "gw-1",
        "--detailed-exitcode", "--save"]
    assert channels_argv("apply", "inv/prod.yml", "gw-1", saved=True, prune=True,
                         reenable=True) == [
        py, "-m", "llminfra", "channels", "apply", "inv/prod.yml", "--gateway", "gw-1",
        "--test", "changed", "--saved", "--prune", "--reenable"]
    assert channels_argv("apply", "p.yml", "g", test="none", adopt=True)[-3:] == [
        "--test", "none", "--adopt"]


def test_the_plan_started_ahead_is_the_one_the_channels_op_reads(stack_file, monkeypatch):
    """The gateway's deploy code starts the plan first; the channels op, called later with the
    same options, finds that process instead of starting a second one."""
    from llminfra.deploys.channels import plan_ahead
    from llminfra.operations import oneapi

    started: list[list[str]] = []
    monkeypatch.setattr(oneapi.subprocess, "Popen",
                        lambda argv, **_: started.append(argv) or object())
    monkeypatch.setattr(oneapi, "_EARLY", {})
    stack = load_stack(stack_file)
    plan_ahead(stack, "gw-1")
    oneapi._start_plan(str(stack_file), "gw-1")  # what `objects` announces
    assert started == [oneapi.channels_argv("plan", str(stack_file), "gw-1")]
    plan_ahead(stack, "gw-1", prune=True)  # other options: another plan, never the same one
    assert len(started) == 2 and "--prune" in started[1]
