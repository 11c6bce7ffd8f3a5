"""Day-2 operations in the lab: status, smoke, clients, removal, teardown, re-pinning.

Each test breaks or changes one thing and puts it back, so the modules after this one find the
lab as deployed. Order matters (pytest runs a module top to bottom).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from llminfra.model import load_stack
from llminfra.operations.progress import HEARTBEAT_S

from .conftest import NUMBERS, REPO, TIMES, changed_by_host, changed_ops, run_pyinfra

LAB_YML = REPO / "inventory" / "lab.yml"
TEARDOWN = "deploys/teardown.py"


def llminfra(*args: str, timeout: float = 600, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llminfra", *args], cwd=REPO, text=True,
                          capture_output=True, timeout=timeout, **kw)


@pytest.fixture(scope="module")
def gw_ip(lab_state) -> str:
    return lab_state.hosts["gw-1"].address


@pytest.fixture(scope="module")
def stack(deployed):
    return load_stack(LAB_YML)


def status(gw_ip: str, inventory: Path = LAB_YML) -> tuple[int, list[dict], str, float]:
    """`llminfra status --json` (the lab's server_name has no DNS: --connect to the gateway)."""
    start = time.monotonic()
    proc = llminfra("status", str(inventory), "--json", "--connect", gw_ip, timeout=300)
    took = time.monotonic() - start
    rows = json.loads(proc.stdout) if proc.stdout.strip().startswith("[") else []
    return proc.returncode, rows, proc.stderr, took


def broken(rows: list[dict]) -> set[tuple[str, str]]:
    return {(r["hop"], r["target"]) for r in rows if r["state"] != "ok"}


def wait_all_green(gw_ip: str, timeout: float = 180) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        rc, rows, err, _ = status(gw_ip)
        if rc == 0:
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"status did not return to all green: {broken(rows)}\n{err}")
        time.sleep(3)


def status_naming(gw_ip: str, expected: set[tuple[str, str]], ignore: tuple[str, ...] = (),
                  timeout: float = 120) -> tuple[list[dict], str]:
    """Status, while a fault is in place, until the rows not ok (hops in ``ignore`` aside) are
    exactly ``expected``: a row the fault does not touch may be red for a moment (a scrape that
    failed on a busy host reads down until the next one, 15 s later), a row the fault breaks or
    wrongly breaks stays as it is, and fails the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        rc, rows, err, _ = status(gw_ip)
        named = {b for b in broken(rows) if b[0] not in ignore}
        if rc == 1 and named == expected:
            return rows, err
        if time.monotonic() > deadline:
            raise AssertionError(f"status (exit {rc}) named {named}, not {expected}\n{err}")
        time.sleep(3)


def sh(host, command: str) -> str:
    return host.check_output(command)


# -- status -------------------------------------------------------------------------------------

def test_status_is_all_green_after_a_deploy(stack, gw_ip):
    rc, rows, err, took = status(gw_ip)
    TIMES["llminfra status (all hops)"] = took
    assert rc == 0, err
    assert all(r["state"] == "ok" for r in rows)
    hops = {r["hop"] for r in rows}
    assert {"host", "docker", "model", "tunnel", "relay", "channel", "certificate"} <= hops
    assert {r["target"] for r in rows if r["hop"] == "host"} == {"gpu-1", "gpu-2", "gw-1",
                                                                 "relay-1"}
    NUMBERS["status rows"] = str(len(rows))


def test_status_names_a_broken_tunnel(hosts, stack, gw_ip):
    tunnel = next(t for t in stack.tunnels("gw-1") if t.service == "ollama")
    target = f"gw-1->{tunnel.gpu_host}/ollama"
    sh(hosts["gw-1"], f"systemctl stop {tunnel.unit}")
    try:
        # that hop alone, named (Prometheus' view of it, a metrics row, may lag by a scrape)
        _, err = status_naming(gw_ip, {("tunnel", target)}, ignore=("metrics",))
    finally:
        sh(hosts["gw-1"], f"systemctl start {tunnel.unit}")
    assert f"status: down: tunnel {target}: unit {tunnel.unit} not active" in err
    wait_all_green(gw_ip)


def test_status_names_a_stopped_model_container(hosts, stack, gw_ip):
    [svc] = stack.gpu_hosts["gpu-1"].services
    project = f"llm-{svc.name}"
    sh(hosts["gpu-1"], f"docker compose -p {project} stop")
    try:
        rows, _ = status_naming(gw_ip, {("model", f"gpu-1/{svc.name}")})
    finally:
        sh(hosts["gpu-1"], f"docker compose -p {project} start")
    assert "container not running" in next(r["detail"] for r in rows if r["hop"] == "model"
                                           and r["target"] == f"gpu-1/{svc.name}")
    wait_all_green(gw_ip)


def test_status_names_a_broken_relay(hosts, gw_ip):
    sh(hosts["relay-1"], "systemctl stop nginx")
    try:
        # the relay's nginx and every relay path through it, nothing else
        status_naming(gw_ip, {("nginx", "relay-1"), ("relay", "gw-1->relay-1/openai"),
                              ("relay", "gw-1->relay-1/claude"),
                              ("relay", "gw-1->relay-1/gemini")})
    finally:
        sh(hosts["relay-1"], "systemctl start nginx")
    wait_all_green(gw_ip)


# -- smoke and clients --------------------------------------------------------------------------

def smoke(gw_ip: str) -> list[dict]:
    proc = llminfra("smoke", str(LAB_YML), "--url", f"https://{gw_ip}/v1", "--json")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return json.loads(proc.stdout)


def test_smoke_streams_from_every_model_and_prints_its_numbers(stack, gw_ip):
    proc = llminfra("smoke", str(LAB_YML), "--url", f"https://{gw_ip}/v1")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "ttft ms" in proc.stdout and "tok/s" in proc.stdout
    results = smoke(gw_ip)
    declared = {m for gpu in stack.gpu_hosts.values() for s in gpu.services for m in s.served()}
    assert {r["target"]["model"] for r in results} == declared
    for r in results:
        assert r["ok"], r
        what = f"smoke {r['target']['model']} via {r['target']['origin']}"
        if r["target"]["probe"] == "embeddings":
            NUMBERS[what] = f"embeddings in {r['total_s'] * 1000:.0f} ms"
            continue
        assert r["chunks"] >= 2 and not r["clumped"], r
        tps = r["tokens_per_s"]
        NUMBERS[what] = (f"TTFT {r['ttft_s'] * 1000:.0f} ms, {r['chunks']} chunks, "
                         f"{'-' if tps is None else f'{tps:.1f}'} tok/s")


def test_clients_output_pasted_into_bash_works_with_the_openai_client(gw_ip, tmp_path):
    proc = llminfra("clients", str(LAB_YML), "apps", "--url", f"https://{gw_ip}/v1")
    assert proc.returncode == 0, proc.stderr
    pasted = proc.stdout
    check = ("python3 -c 'from openai import OpenAI; r = OpenAI().chat.completions.create("
             "model=\"smollm2:135m\", max_tokens=8, messages=[{\"role\": \"user\", "
             "\"content\": \"hi\"}]); print(\"REPLY\", bool(r.choices[0].message.content))'")
    script = f"set -euo pipefail\n{pasted}\n{check}\n"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    run = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=180)
    assert run.returncode == 0, run.stderr + run.stdout
    assert '"object":"list"' in run.stdout.replace(" ", "")  # the pasted curl line
    assert "REPLY True" in run.stdout
    assert (tmp_path / "gw-1.crt").read_text().startswith("-----BEGIN CERTIFICATE-----")


# -- removal ------------------------------------------------------------------------------------

def lab_copy(tmp_path: Path, change) -> str:
    """The lab inventory changed by ``change(data)``, sharing the lab's secrets and state."""
    inv = tmp_path / "inventory"
    inv.mkdir()
    (inv / ".llminfra").symlink_to(REPO / "inventory" / ".llminfra")
    (inv / "lab.secrets.env").symlink_to(REPO / "inventory" / "lab.secrets.env")
    data = yaml.safe_load(LAB_YML.read_text())
    change(data)
    (inv / "lab.yml").write_text(yaml.safe_dump(data, sort_keys=False))
    (inv / "lab.py").write_text((REPO / "inventory" / "lab.py").read_text())
    return str(inv / "lab.py")


def containers(h) -> dict[str, str]:
    out = sh(h, "docker ps -a --no-trunc --format '{{.Names}} {{.ID}}'")
    return dict(line.split() for line in out.splitlines() if line.strip())


def channel_ids(stack) -> dict[str, int]:
    from llminfra.oneapi.session import admin_client

    with admin_client(stack, "gw-1") as client:
        return {c["name"]: c["id"] for c in client.list_channels()}


def extra_service(data: dict) -> None:
    # not 11435: the Ollama stand-in's own llama.cpp backend listens there
    data["gpu_hosts"]["gpu-2"]["services"].append(
        {"kind": "ollama", "name": "extra", "image": "ollama/ollama:lab", "port": 11500,
         "gpus": "cpu", "models": ["extra:0.5b"], "ready_timeout": 300})


def test_removing_a_service_frees_its_container_and_channel_and_nothing_else(
        hosts, stack, tmp_path):
    added = lab_copy(tmp_path, extra_service)
    run_pyinfra("--limit", "gpu-2", "--limit", "gw-1", inventory=added)
    gpu2, gw = hosts["gpu-2"], hosts["gw-1"]
    assert "llm-extra-extra-1" in containers(gpu2)
    assert "lmi/gpu-2/extra" in channel_ids(stack)
    extra_unit = next(t.unit for t in load_stack(Path(added).with_suffix(".yml")).tunnels()
                      if t.service == "extra")
    assert gw.service(extra_unit).is_running

    before = {name: containers(hosts[name]) for name in hosts}
    ids_before = channel_ids(stack)
    result, _, took = run_pyinfra()  # the inventory as committed: `extra` is gone
    TIMES["deploy that removes a service"] = took
    changed = changed_by_host(result)
    assert set(changed) == {"gpu-2", "gw-1"}, changed
    assert [n.split(" | ")[-1] for n in changed["gpu-2"]] == [
        "Model services no longer declared", "Authorize gw-1's tunnel key"]
    assert {n.split(" | ")[-1] for n in changed["gw-1"]} == {
        "Channels and tokens", "Tunnel units no longer declared"}

    after = {name: containers(hosts[name]) for name in hosts}
    assert "llm-extra-extra-1" not in after["gpu-2"]
    del before["gpu-2"]["llm-extra-extra-1"]
    assert after == before  # every other container is the very same one
    assert not gpu2.file("/opt/llminfra/llm-extra").exists
    assert gpu2.file("/opt/llminfra/ollama").is_directory  # the model cache stays
    assert not gw.file(f"/etc/systemd/system/{extra_unit}.service").exists
    assert not gw.service(extra_unit).is_running
    keys = gpu2.file("/home/llminfra-tunnel/.ssh/authorized_keys").content_string
    assert 'permitopen="127.0.0.1:11434"' in keys and "11500" not in keys
    ids_after = channel_ids(stack)
    del ids_before["lmi/gpu-2/extra"]
    assert ids_after == ids_before

    again, _, _ = run_pyinfra("--limit", "gpu-2", "--limit", "gw-1")
    assert changed_ops(again) == []


# -- teardown -----------------------------------------------------------------------------------

def kit_running(hosts) -> dict[str, list[str]]:
    """What the kit made that still runs, per host."""
    found = {}
    for name, h in hosts.items():
        ps = sh(h, "docker ps --format '{{.Label \"com.docker.compose.project\"}}' 2>/dev/null "
                   "|| true").split()
        units = sh(h, "systemctl list-units --no-legend --plain 'llminfra-*' | awk '{print $1}'")
        sites = sh(h, "ls /etc/nginx/conf.d/ 2>/dev/null | grep '^llminfra' || true").split()
        found[name] = [p for p in ps if p.startswith(("llm-", "llminfra-"))] + \
            units.split() + sites
    return found


def test_teardown_leaves_nothing_running_and_a_redeploy_finds_the_old_data(
        hosts, stack, gw_ip):
    ids_before = channel_ids(stack)
    tokens_before = (REPO / "inventory/.llminfra/lab-gw-1/oneapi-tokens.env").read_text()
    cache = "find /opt/llminfra/ollama -type f | sort | xargs md5sum"
    models_before = sh(hosts["gpu-2"], cache)
    assert models_before.strip()

    result, output, took = run_pyinfra(deploy=TEARDOWN)
    TIMES["teardown (all hosts)"] = took
    assert result["results"]["totals"]["error"] == 0
    assert kit_running(hosts) == {name: [] for name in hosts}
    gw, gpu2 = hosts["gw-1"], hosts["gpu-2"]
    assert gw.file("/opt/llminfra/oneapi/data").is_directory  # the database stays
    assert not gw.file("/opt/llminfra/oneapi/secrets.env").exists
    assert sh(gpu2, cache) == models_before  # pulled models stay
    assert not gw.user("llminfra-tunnel").exists and not gpu2.user("llminfra-tunnel").exists

    again, _, took = run_pyinfra(deploy=TEARDOWN)
    TIMES["second teardown (no change)"] = took
    assert changed_ops(again) == []

    result, output, took = run_pyinfra()
    TIMES["redeploy after teardown"] = took
    # progress lines name the host and the step (pyinfra pads the host prefix), and one comes
    # every HEARTBEAT_S while the wait lasts (real vLLM's boot here: about 25 s)
    assert re.search(r"\[gpu-2\] +waiting for smol to serve smollm2-135m .*\(up to \d+ s\)",
                     output)
    waited = re.search(r"\[gpu-2\] +waiting for smol to serve smollm2-135m .*: done after "
                       r"(\d+) s", output)
    assert waited, output[-3000:]
    if int(waited[1]) > HEARTBEAT_S + 5:  # a beat is due (5 s: a busy host runs it late)
        assert re.search(r"\[gpu-2\] +still waiting for smol to serve smollm2-135m", output)
    assert channel_ids(stack) == ids_before  # the same database: nothing re-created
    assert (REPO / "inventory/.llminfra/lab-gw-1/oneapi-tokens.env").read_text() == tokens_before
    assert all(r["ok"] for r in smoke(gw_ip))  # the old token still works
    # every hop, metrics included, converges again (Prometheus scrapes every 15 s)
    wait_all_green(gw_ip)


# -- host keys ----------------------------------------------------------------------------------

HOST_KEY = "/etc/ssh/ssh_host_ed25519_key"


def test_a_changed_host_key_is_refused_until_re_pinned(lab_state, hosts, gw_ip):
    box = lab_state.hosts["relay-1"].container
    pinned = LAB_YML.read_text()
    wait_all_green(gw_ip)  # a green start, so every red row below is the new key's doing

    def in_box(command: str) -> None:
        subprocess.run(["docker", "exec", box, "sh", "-c", command], check=True,
                       capture_output=True)

    in_box(f"cp -p {HOST_KEY} /root/hk.bak && cp -p {HOST_KEY}.pub /root/hk.pub.bak && "
           f"rm -f {HOST_KEY} {HOST_KEY}.pub && ssh-keygen -q -t ed25519 -N '' -f {HOST_KEY} && "
           "systemctl restart ssh")
    try:
        rc, rows, err, _ = status(gw_ip)
        assert rc == 1
        assert ("host", "relay-1") in broken(rows)
        assert "Host key verification failed" in next(
            r["detail"] for r in rows if r["hop"] == "host" and r["target"] == "relay-1")
        argv = [sys.executable, "-m", "pyinfra", "-y", "inventory/lab.py", "deploys/all.py",
                "--limit", "relay-1"]
        refused = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert refused.returncode != 0

        shown = llminfra("hostkey", str(LAB_YML), "relay-1")
        assert shown.returncode == 1
        assert "NOT the pinned one" in shown.stdout
        assert LAB_YML.read_text() == pinned  # nothing changes without --pin

        repinned = llminfra("hostkey", str(LAB_YML), "relay-1", "--pin", "--yes")
        assert repinned.returncode == 0, repinned.stderr
        assert LAB_YML.read_text() != pinned
        wait_all_green(gw_ip)  # relay-1 turns green only with the new key pinned
        result, _, _ = run_pyinfra("--limit", "relay-1")
        assert changed_ops(result) == []
    finally:
        in_box(f"cp -p /root/hk.bak {HOST_KEY} && cp -p /root/hk.pub.bak {HOST_KEY}.pub && "
               "systemctl restart ssh")
        back = llminfra("hostkey", str(LAB_YML), "relay-1", "--pin", "--yes")
        if back.returncode != 0:
            LAB_YML.write_text(pinned)
    assert LAB_YML.read_text() == pinned
    wait_all_green(gw_ip)


def test_the_deploy_says_why_a_host_cannot_be_deployed_before_changing_anything(
        lab_state, hosts, tmp_path):
    """A login that is not root, with sudo asked for but not usable: refused in one line."""
    relay = hosts["relay-1"]
    sh(relay, "id ops >/dev/null 2>&1 || useradd -m -s /bin/bash ops; "
              "install -d -m 700 -o ops -g ops /home/ops/.ssh; "
              "install -m 600 -o ops -g ops /root/.ssh/authorized_keys /home/ops/.ssh/")

    def as_ops(data: dict) -> None:
        data["relays"]["relay-1"]["ssh"].update(user="ops", sudo=True)

    before = sh(relay, "stat -c %Y /etc/nginx/conf.d/llminfra-relay.conf")
    argv = [sys.executable, "-m", "pyinfra", "-y", lab_copy(tmp_path, as_ops), "deploys/all.py"]
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=600)
    sh(relay, "userdel -r ops 2>/dev/null || true")
    assert proc.returncode != 0
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if "cannot deploy" in line]
    assert lines, proc.stdout + proc.stderr
    assert lines[0].endswith("relay-1: cannot deploy: sudo asks ops for a password (the kit "
                             "needs passwordless sudo)"), lines
    assert "Beginning operation run" not in proc.stdout + proc.stderr
    assert sh(relay, "stat -c %Y /etc/nginx/conf.d/llminfra-relay.conf") == before
    print("\n[e2e] preflight said:", shlex.quote(lines[0]))
