"""The metrics deploys for real, on one systemd host container of our own (not the shared lab):
Debian's node exporter and Prometheus installed with their arguments written first, the
nvidia-smi timer under its systemd hardening feeding the textfile collector (a stand-in
nvidia-smi prints real H200 output), Prometheus holding it, a second run changing nothing,
and `enabled: false` stopping everything."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.docker

REPO = Path(__file__).parents[2]
BOX = f"llminfra-metricstest-{os.getpid()}"
FIXTURE = REPO / "tests/facts/data/nvidia-smi/h200-x1/nvidia-smi-query-header.csv"


def run(*argv: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=check, capture_output=True, text=True, **kw)


def box_sh(command: str) -> str:
    proc = run("docker", "exec", BOX, "sh", "-c", command, check=False)
    assert proc.returncode == 0, f"{command}: {proc.stdout}{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    try:
        from llminfra_lab import images
        from llminfra_lab.containers import host_run_kwargs, wait_systemd
        from llminfra_lab.engine import LabError, client

        dc = client()
    except LabError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but no Docker engine: {exc}")
        pytest.skip(str(exc))
    tag = images.build("host", dc)
    # a lab host's settings, on Docker's default network, without the lab's names and volume
    kwargs = {**host_run_kwargs("box", ""), "name": BOX, "labels": {"org.llminfra.lab": "test"},
              "volumes": {"/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"}}}
    kwargs.pop("restart_policy")
    container = dc.containers.run(tag, **kwargs)
    tmp = tmp_path_factory.mktemp("metrics-box")
    try:
        key = tmp / "id_ed25519"
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key))
        wait_systemd(container)  # the lab's wait: a boot on a busy host takes minutes
        pub = (tmp / "id_ed25519.pub").read_text().strip()
        box_sh("ssh-keygen -A >/dev/null && mkdir -p -m 700 /run/sshd /root/.ssh && "
               f"echo {shlex.quote(pub)} > /root/.ssh/authorized_keys && "
               "chmod 600 /root/.ssh/authorized_keys && systemctl reset-failed ssh && "
               "systemctl restart ssh")
        container.reload()
        ip = next(iter(container.attrs["NetworkSettings"]["Networks"].values()))["IPAddress"]
        host_key = " ".join(box_sh("cat /etc/ssh/ssh_host_ed25519_key.pub").split()[:2])
        yield tmp, ip, host_key, key
    finally:
        container.remove(force=True, v=True)


def write_stack(tmp: Path, ip: str, host_key: str, key: Path, metrics: dict) -> Path:
    ssh = {"host": ip, "user": "root", "key": str(key), "host_key": host_key}
    doc = {"name": "box", "gpu_hosts": {"gpu-a": {"ssh": ssh, "address": ip}},
           "gateways": {"gw-a": {
               "ssh": ssh, "metrics": metrics, "nginx": {"server_name": "gw-a.test"},
               "oneapi": {"session_secret": "S_SECRET", "root_access_token": "R_TOKEN",
                          "root_password": "R_PW"}}}}
    (tmp / "box.yml").write_text(json.dumps(doc))
    secrets = tmp / "box.secrets.env"
    secrets.write_text("S_SECRET=session-secret-value\nR_TOKEN=root-token-000001\n"
                       "R_PW=root-password-0001\n")
    secrets.chmod(0o600)
    (tmp / "inv.py").write_text(
        "from llminfra.inventory import pyinfra_groups\n"
        f"_g = pyinfra_groups({str(tmp / 'box.yml')!r})\n"
        "gpu_hosts = _g['gpu_hosts']\ngateways = _g['gateways']\n")
    (tmp / "deploy.py").write_text(
        "from pyinfra import host\n"
        "from llminfra.deploys.metrics import node_exporter, prometheus\n"
        "stack, name = host.data.llminfra_stack, host.data.llminfra_name\n"
        "(node_exporter if name == 'gpu-a' else prometheus)(stack, name)\n")
    return tmp


def deploy(tmp: Path) -> tuple[dict[str, int], float]:
    """Changed-op count per host: the GPU side, then the gateway (one machine plays both, so
    not at once: apt takes one lock)."""
    changed, took = {}, 0.0
    for host in ("gpu-a", "gw-a"):
        start = time.monotonic()
        proc = run(sys.executable, "-m", "pyinfra", "-y", "--json", "--limit", host,
                   str(tmp / "inv.py"), str(tmp / "deploy.py"), check=False, cwd=REPO)
        took += time.monotonic() - start
        assert proc.returncode == 0, proc.stderr[-3000:]
        ops = json.loads(proc.stdout)["results"]["operations"]
        changed[host] = sum(1 for op in ops if op["success"])
    return changed, took


def prom(query: str) -> list[dict]:
    out = box_sh("curl -fsS -G --data-urlencode " + shlex.quote(f"query={query}") +
                 " http://127.0.0.1:9090/api/v1/query")
    return json.loads(out)["data"]["result"]


def test_metrics_deploy_for_real(box):
    tmp, ip, host_key, key = box
    write_stack(tmp, ip, host_key, key, {"gpu_exporter": True, "scrape_interval": "5s"})
    # nvidia-smi as an H200 host prints it (the lab has no GPU)
    script = "#!/bin/sh\ncat <<'EOF'\n" + FIXTURE.read_text() + "EOF\n"
    box_sh(f"printf '%s' {shlex.quote(script)} > /usr/local/bin/nvidia-smi && "
           "chmod 755 /usr/local/bin/nvidia-smi")
    changed, took = deploy(tmp)
    print(f"\n[metrics] cold deploy of the exporters and Prometheus: {took:.1f} s, {changed}")
    assert changed["gpu-a"] > 0 and changed["gw-a"] > 0
    listening = set(box_sh("ss -Hltn | awk '{print $4}'").split())
    assert {"127.0.0.1:9090", f"{ip}:9100"} <= listening
    assert not {a for a in listening if a.rsplit(":", 1)[1] in ("9090", "9100")
                and a.rsplit(":", 1)[0] in ("0.0.0.0", "*", "[::]")}
    assert {r["metric"]["job"]: r["value"][1] for r in prom("up")} == {
        "prometheus": "1", "gpu-a/node": "1"}
    assert prom('count(node_cpu_seconds_total{job="gpu-a/node"})')
    # the timer's first run, then a scrape (every 5 s)
    deadline = time.monotonic() + 120
    while not (found := prom("llminfra_gpu_memory_total_bytes")):
        assert time.monotonic() < deadline, "no GPU metric in Prometheus within 120 s"
        time.sleep(2)
    [total] = found
    assert total["metric"]["name"] == "NVIDIA H200" and total["value"][1] == "150754820096"
    assert deploy(tmp)[0] == {"gpu-a": 0, "gw-a": 0}  # a second run changes nothing

    write_stack(tmp, ip, host_key, key, {"enabled": False})
    deploy(tmp)
    states = box_sh("systemctl is-active prometheus prometheus-node-exporter "
                    "llminfra-gpu-metrics.timer || true").split()
    assert states == ["inactive"] * 3
    assert deploy(tmp)[0] == {"gpu-a": 0, "gw-a": 0}
