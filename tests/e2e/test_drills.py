"""Fault drills in the lab: each fault is made for real, then the platform must come back on its
own within 30 s or converge on the next deploy with nothing lost.

Every drill ends with the lab converged to the committed inventory, so the drills can run in
any order and before or after the other lab tests.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import time

import pytest
import yaml

from llminfra.deploys.gateway import ONEAPI_START_TIMEOUT
from llminfra.model import load_stack
from llminfra.model.secrets import parse_dotenv
from llminfra.paths import OperatorPaths

from .conftest import REPO, TIMES, changed_by_host, changed_ops, run_pyinfra

LAB_YML = REPO / "inventory" / "lab.yml"
TOKENS = OperatorPaths.beside(LAB_YML).oneapi_tokens("gw-1")
RECOVER_S = 30


@pytest.fixture(scope="module")
def stack(deployed):
    run_pyinfra()  # converged to the committed inventory, whatever ran before
    return load_stack(LAB_YML)


def docker(*args: str, check: bool = True) -> str:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=300,
                          check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {proc.stderr}")
    return proc.stdout.strip()


def on(lab_state, name: str, command: str, check: bool = True) -> str:
    """A shell command inside a lab host (as root)."""
    return docker("exec", lab_state.hosts[name].container, "sh", "-c", command, check=check)


def wait_for(what: str, probe, timeout: float) -> float:
    """Seconds until ``probe()`` is true; fails after ``timeout``."""
    start = time.monotonic()
    while True:
        try:
            if probe():
                return time.monotonic() - start
        except Exception:  # noqa: BLE001 - a probe failing is "not yet"
            pass
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what}: not back within {timeout:.0f} s")
        time.sleep(0.5)


def chat_through_gateway(lab_state, stack, model: str) -> bool:
    """One short completion through Nginx -> OneAPI (from the gateway host itself)."""
    token = parse_dotenv(TOKENS.read_text())["LMI_TOKEN_APPS"]
    body = json.dumps({"model": model, "max_tokens": 4,
                       "messages": [{"role": "user", "content": "ping"}]})
    name = stack.gateways["gw-1"].nginx.server_name
    out = on(lab_state, "gw-1", "curl -sk -o /dev/null -w '%{http_code}' --max-time 20 "
             f"--resolve {name}:443:127.0.0.1 https://{name}/v1/chat/completions "
             f"-H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' "
             f"-d {shlex.quote(body)}", check=False)
    return out == "200"


# -- the tunnel's ssh dies: autossh / systemd bring it back --------------------------------------

def test_tunnel_ssh_killed_is_back_within_30s(lab_state, stack):
    tunnel = next(t for t in stack.tunnels("gw-1") if t.service == "ollama")
    assert chat_through_gateway(lab_state, stack, "smollm2:135m")
    autossh = on(lab_state, "gw-1", f"systemctl show -p MainPID --value {tunnel.unit}")
    ssh = on(lab_state, "gw-1", f"pgrep -P {autossh} -x ssh")
    on(lab_state, "gw-1", f"kill -9 {ssh}")
    took = wait_for("the tunnel after its ssh was killed",
                    lambda: chat_through_gateway(lab_state, stack, "smollm2:135m"), RECOVER_S)
    TIMES["drill: tunnel ssh killed -> answering again (s)"] = took
    # the whole autossh too: systemd restarts the unit
    on(lab_state, "gw-1", f"systemctl kill -s KILL {tunnel.unit}")
    took = wait_for("the tunnel after autossh was killed",
                    lambda: chat_through_gateway(lab_state, stack, "smollm2:135m"), RECOVER_S)
    TIMES["drill: autossh killed -> answering again (s)"] = took


# -- a GPU host restarts: its services come back, the next run converges -----------------------

def test_gpu_host_restarted_converges_on_the_next_run(lab_state, stack):
    docker("restart", lab_state.hosts["gpu-1"].container)
    start = time.monotonic()
    wait_for("gpu-1's sshd", lambda: on(lab_state, "gpu-1", "systemctl is-active ssh") == "active",
             180)  # a host's boot, as `lab up` waits for it
    result, _, _ = run_pyinfra()
    assert result["results"]["totals"]["error"] == 0
    TIMES["drill: gpu-1 restarted -> converged (s)"] = time.monotonic() - start
    assert chat_through_gateway(lab_state, stack, "qwen2.5:0.5b")
    again, _, _ = run_pyinfra()
    assert changed_ops(again) == []


# -- the gateway's OneAPI container is recreated: data kept, next run converges ---------------

def test_oneapi_container_recreated_keeps_its_data(lab_state, stack):
    box = on(lab_state, "gw-1", "docker ps -aq --filter label=com.docker.compose.service=oneapi")
    assert box
    on(lab_state, "gw-1", f"docker rm -f {box}")
    result, _, _ = run_pyinfra()
    changed = changed_by_host(result)
    assert set(changed) == {"gw-1"}, changed
    assert "OneAPI Compose project" in " ".join(changed["gw-1"])
    # channels and tokens survived in the data dir: nothing to write, the old token works
    assert not [op for op in changed["gw-1"] if "Channels" in op], changed
    assert chat_through_gateway(lab_state, stack, "smollm2:135m")
    again, _, _ = run_pyinfra()
    assert changed_ops(again) == []


# -- the admin API fails in the middle of an apply --------------------------------------------

# write 2 is done but its answer lost; from write 3 on nothing gets through (retries included)
FAULTS = "lose_write=2," + ",".join(f"drop_write={n}" for n in range(3, 12))


def _compose(stack, *args: str) -> str:
    data_dir = stack.gateways["gw-1"].oneapi_settings.data_dir
    return f"cd {shlex.quote(data_dir)} && docker compose {' '.join(args)}"


def _admin(lab_state, stack, path: str) -> dict:
    oa = stack.gateways["gw-1"].oneapi_settings
    token = stack.secret(oa.root_access_token)
    out = on(lab_state, "gw-1", f"curl -fsS -H 'Authorization: Bearer {token}' "
             f"http://127.0.0.1:{oa.admin_port}{path}")
    return json.loads(out)


def _managed(lab_state, stack, kind: str) -> list[str]:
    rows = _admin(lab_state, stack, f"/api/{kind}/?p=0&page_size=100")["data"]
    return sorted(r["name"] for r in rows if r["name"].startswith("lmi/"))


def _reprioritised(tmp_path, bump: int) -> str:
    """A copy of the lab inventory whose relay channels have another priority."""
    inv = tmp_path / "inventory"
    inv.mkdir()
    (inv / "lab.secrets.env").symlink_to(REPO / "inventory" / "lab.secrets.env")
    (inv / ".llminfra").symlink_to(REPO / "inventory" / ".llminfra")
    data = yaml.safe_load(LAB_YML.read_text())
    for channel in data["channels"]:
        channel["priority"] = bump
    (inv / "lab.yml").write_text(yaml.safe_dump(data, sort_keys=False))
    (inv / "lab.py").write_text((REPO / "inventory" / "lab.py").read_text())
    return str(inv / "lab.py")


def _deploy(inventory: str) -> subprocess.CompletedProcess:
    return subprocess.run([*PYINFRA, inventory, "deploys/channels.py"], cwd=REPO,
                          capture_output=True, text=True, timeout=900, check=False)


PYINFRA = ["python3", "-m", "pyinfra", "-y"]


def test_admin_api_failing_mid_apply_converges_with_nothing_lost(lab_state, stack, tmp_path):
    channels, tokens = _managed(lab_state, stack, "channel"), _managed(lab_state, stack, "token")
    keys = TOKENS.read_text()
    override = "/tmp/llminfra-drill-faults.yaml"
    service = "oneapi"
    on(lab_state, "gw-1", f"printf 'services:\\n  {service}:\\n    environment:\\n"
                          f"      EMULATOR_FAULTS: \"{FAULTS}\"\\n' > {override}")
    moved = _reprioritised(tmp_path, 7)
    try:
        on(lab_state, "gw-1", _compose(stack, "-f compose.yaml", f"-f {override}", "up -d"))
        wait_for("OneAPI with faults", lambda: _admin(lab_state, stack, "/api/status"),
                 ONEAPI_START_TIMEOUT)  # as long as a deploy waits for it
        failed = _deploy(moved)
        assert failed.returncode != 0, "the apply should have met the injected faults"
    finally:  # the admin API recovers: the container as deployed, faults gone
        on(lab_state, "gw-1", _compose(stack, "up -d"))
        wait_for("OneAPI without faults", lambda: _admin(lab_state, stack, "/api/status"),
                 ONEAPI_START_TIMEOUT)
    ok = _deploy(moved)
    assert ok.returncode == 0, ok.stderr[-3000:]
    rows = _admin(lab_state, stack, "/api/channel/?p=0&page_size=100")["data"]
    managed = [r for r in rows if r["name"].startswith("lmi/")]
    assert sorted(r["name"] for r in managed) == channels  # none lost, none doubled
    relay = [r for r in managed if r["base_url"].startswith("https://relay-1")]
    assert relay and all(r["priority"] == 7 for r in relay)
    assert _managed(lab_state, stack, "token") == tokens
    assert TOKENS.read_text() == keys
    run_pyinfra()  # back to the committed priorities
    assert chat_through_gateway(lab_state, stack, "smollm2:135m")


# -- one host unreachable during a deploy -----------------------------------------------------

def test_unreachable_host_is_named_in_one_summary_line(lab_state):
    relay = lab_state.hosts["relay-1"].container
    docker("pause", relay)
    try:
        proc = subprocess.run([*PYINFRA, "inventory/lab.py", "deploys/all.py"], cwd=REPO,
                              capture_output=True, text=True, timeout=900, check=False)
    finally:
        docker("unpause", relay)
    lines = [line for line in proc.stderr.splitlines() if "NOT DEPLOYED" in line]
    print(f"\n[e2e] unreachable summary: {lines}")
    assert len(lines) == 1 and "relay-1" in lines[0]
    assert "gw-1" not in lines[0] and "gpu-1" not in lines[0]
    out = proc.stderr.splitlines()
    ends = [i for i, line in enumerate(out) if "Disconnecting from hosts" in line]
    assert not ends or out.index(lines[0]) > ends[-1]  # after pyinfra's own end of run
    result, _, _ = run_pyinfra()
    assert result["results"]["totals"]["error"] == 0
