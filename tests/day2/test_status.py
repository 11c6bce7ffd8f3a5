"""status: probe scripts run for real in sh; the key never lands on a command line."""

import subprocess

from example_secrets import filled

from llminfra.status import Check, curl_probe, parse, script


def test_batched_script_reports_each_check_with_its_own_status():
    checks = [Check("a", "model", "gpu-1/a", "echo fine"),
              Check("b", "tunnel", "gw-1->gpu-2/b", "echo broken >&2; exit 7"),
              Check("c", "docker", "gpu-1", "true")]
    out = subprocess.run(["sh", "-s"], input=script(checks), capture_output=True, text=True).stdout
    assert parse(out, checks) == {"a": (0, "fine"), "b": (7, "broken"), "c": (0, "")}


def test_a_check_that_never_reported_is_unknown_not_fine():
    checks = [Check("a", "model", "x", "true"), Check("b", "model", "y", "true")]
    out = "@@begin a\n@@end a 0\n@@begin b\n"  # the connection dropped mid-way
    assert parse(out, checks) == {"a": (0, ""), "b": (None, "no answer")}


def test_curl_probe_exact_and_key_only_on_stdin():
    assert curl_probe("http://127.0.0.1:8000/health") == (
        "curl -fsS --max-time 10 http://127.0.0.1:8000/health >/dev/null")
    cmd = curl_probe("http://127.0.0.1:8000/v1/models", "sk-secret", expect='"smol"')
    assert cmd.splitlines() == [
        "curl -fsS --max-time 10 -H @- http://127.0.0.1:8000/v1/models <<'LLMINFRA_EOF' "
        "| grep -qF '\"smol\"'",
        "Authorization: Bearer sk-secret",
        "LLMINFRA_EOF"]


def test_key_reaches_curl_through_the_here_document(tmp_path):
    fake = tmp_path / "curl"
    fake.write_text("#!/bin/sh\ncat\n")  # echo what curl would read on stdin
    fake.chmod(0o755)
    cmd = curl_probe("http://x/v1/models", "sk-secret")
    seen = tmp_path / "seen"
    fake.write_text(f"#!/bin/sh\ncat > {seen}\n")
    proc = subprocess.run(["sh", "-c", cmd], env={"PATH": f"{tmp_path}:/usr/bin:/bin"})
    assert proc.returncode == 0
    assert seen.read_text() == "Authorization: Bearer sk-secret\n"


def test_model_checks_ask_health_only_of_kinds_that_have_it():
    from llminfra.model import parse_stack
    from llminfra.status import gpu_checks

    services = [
        {"kind": "vllm", "name": "v", "model": "m/v", "port": 8000, "gpus": "cpu"},
        {"kind": "sglang", "name": "s", "model": "m/s", "port": 8001, "gpus": "cpu"},
        {"kind": "ollama", "name": "o", "port": 8002, "gpus": "cpu", "models": ["o"]},
        {"kind": "openai", "name": "a", "image": "x:1", "port": 8003, "gpus": "cpu",
         "models": ["a"]},
    ]
    for svc in services:  # loopback: a keyless port on 0.0.0.0 is refused by validation
        svc["bind"] = "127.0.0.1"
    stack = parse_stack({"gpu_hosts": {"gpu-1": {"ssh": {"host": "10.0.0.1"},
                                                 "services": services}}}, environ={})
    scripts = {c.id: c.script for c in gpu_checks(stack, "gpu-1")}
    health = {key for key, s in scripts.items() if "/health" in s}
    assert health == {"gpu-1:v", "gpu-1:s"}
    assert "curl -fsS --max-time 10 http://127.0.0.1:8001/health >/dev/null && " in scripts["gpu-1:s"]


def test_litellm_gateway_checks_readiness_and_each_deployment_with_the_master_key():
    from pathlib import Path

    import yaml

    from llminfra.model import parse_stack
    from llminfra.status import channel_rows, gateway_checks

    repo = Path(__file__).resolve().parents[2]
    data = yaml.safe_load((repo / "inventory/examples/litellm.yml").read_text())
    secrets = filled(repo / "inventory/examples/litellm.secrets.env.example")
    stack = parse_stack(data, environ=secrets, secrets_file=Path("/nonexistent"))
    checks = {c.id: c for c in gateway_checks(stack, "gw-1")}
    assert checks["gw-1:litellm"].script == (
        "curl -fsS --max-time 10 http://127.0.0.1:4000/health/readiness | grep -qF '\"healthy\"'")
    smart = checks["gw-1:deployment:openai/smart"]
    assert (smart.hop, smart.target) == ("channel", "gw-1/openai/smart")
    assert smart.script.splitlines() == [
        "curl -fsS --max-time 10 -H @- 'http://127.0.0.1:4000/health?model_id=openai%2Fsmart' "
        "<<'LLMINFRA_EOF' | grep -qF '\"healthy_count\":1,\"unhealthy_count\":0'",
        f"Authorization: Bearer {secrets['LITELLM_MASTER_KEY']}",
        "LLMINFRA_EOF"]
    assert len([c for c in checks if ":deployment:" in c]) == 8
    assert channel_rows(stack, "gw-1") == []  # no OneAPI admin API to ask
