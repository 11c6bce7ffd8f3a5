"""Metrics in the lab: Prometheus on gw-1 holds real vLLM metrics from the tunnel-only gpu-2 and
node exporter metrics from both GPU hosts, and none of it is reachable from outside.

Runs after test_lab_e2e.py (its requests moved vLLM's counters); reads, changes nothing.
"""

from __future__ import annotations

import json
import re
import shlex
import socket
import subprocess
import sys
import time

import httpx
import pytest

from llminfra.model import load_stack
from llminfra.model.secrets import parse_dotenv

from .conftest import NUMBERS, REPO

LAB_YML = REPO / "inventory" / "lab.yml"
PROM = "http://127.0.0.1:9090/api/v1/query"


@pytest.fixture(scope="module")
def stack(deployed):
    return load_stack(LAB_YML)


def listening(h, port: int) -> set[str]:
    out = h.check_output(f"ss -Hltn 'sport = :{port}'")
    return {line.split()[3].rsplit(":", 1)[0] for line in out.splitlines() if line.strip()}


def query(hosts, promql: str) -> list[dict]:
    out = hosts["gw-1"].check_output(
        f"curl -fsS -G --data-urlencode {shlex.quote('query=' + promql)} {PROM}")
    return json.loads(out)["data"]["result"]


def by_job(results: list[dict]) -> dict[str, float]:
    return {r["metric"].get("job", ""): float(r["value"][1]) for r in results}


SETTLE_S = 90  # six scrapes (every 15 s)


def settled(hosts, promql: str, done) -> dict[str, float]:
    """The query's answer by job once ``done(answer)``, else the last answer after SETTLE_S.
    A target restarted since its last scrape (the tunnel a redeploy just restarted carries
    gpu-2's exporter) reads down, its series gone stale, until the next scrape."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        found = by_job(query(hosts, promql))
        if done(found) or time.monotonic() > deadline:
            return found
        time.sleep(3)


def test_prometheus_and_exporters_listen_on_loopback_or_private_only(hosts, stack, lab_state):
    assert listening(hosts["gw-1"], 9090) == {"127.0.0.1"}
    [forward] = [f for t in stack.tunnels("gw-1") for f in t.forwards]
    assert listening(hosts["gw-1"], forward.local_port) == {"127.0.0.1"}
    assert listening(hosts["gpu-2"], 9100) == {"127.0.0.1"}
    assert listening(hosts["gpu-1"], 9100) == {lab_state.hosts["gpu-1"].address}


def test_nothing_listens_publicly_on_the_gateway(hosts, lab_state):
    """Every socket on a wildcard or the gateway's own address is SSH or the public Nginx."""
    public = {"0.0.0.0", "*", "[::]", lab_state.hosts["gw-1"].address}
    out = hosts["gw-1"].check_output("ss -Hltn")
    exposed = {(addr, int(port)) for addr, port in
               (line.split()[3].rsplit(":", 1) for line in out.splitlines() if line.strip())
               if addr in public}
    assert {port for _, port in exposed} <= {22, 80, 443}, exposed


def test_tunnel_permits_the_exporter_and_nothing_more(hosts):
    gpu2 = hosts["gpu-2"]
    keys = gpu2.file(f"{gpu2.user('llminfra-tunnel').home}/.ssh/authorized_keys").content_string
    permits = sorted(part.split('"')[1] for part in keys.split(",") if part.startswith("permitopen"))
    assert permits == ["127.0.0.1:11434", "127.0.0.1:8000", "127.0.0.1:8001", "127.0.0.1:9100"]


def test_every_target_is_up(hosts):
    every = {"prometheus": 1, "gpu-1/node": 1, "gpu-2/smol": 1, "gpu-2/embed": 1, "gpu-2/node": 1}
    up = settled(hosts, "up", lambda found: found == every)
    assert up == every
    series = by_job(query(hosts, 'count by (job) ({__name__=~".+"})'))
    NUMBERS["prometheus series per target"] = ", ".join(
        f"{job} {int(n)}" for job, n in sorted(series.items()))
    NUMBERS["prometheus scrape targets up"] = f"{int(sum(up.values()))} of {len(up)}"


def generate_on_gpu2(hosts) -> None:
    """One real completion straight to vLLM on gpu-2 (its key on curl's stdin)."""
    key = parse_dotenv((REPO / "inventory" / "lab.secrets.env").read_text())["LAB_VLLM_KEY"]
    body = json.dumps({"model": "smollm2-135m", "prompt": "Hello", "max_tokens": 8})
    hosts["gpu-2"].check_output(
        f"printf 'Authorization: Bearer %s\\n' {shlex.quote(key)} | curl -fsS -o /dev/null "
        f"-H @- -H 'Content-Type: application/json' -d {shlex.quote(body)} "
        "http://127.0.0.1:8000/v1/completions")


def test_prometheus_holds_vllm_metrics_from_the_tunnel_only_host(hosts):
    generate_on_gpu2(hosts)
    tokens = settled(hosts, "vllm:generation_tokens_total",
                     lambda found: found.get("gpu-2/smol", 0) > 0)
    assert tokens.get("gpu-2/smol", 0) > 0, tokens
    for name in ("vllm:num_requests_waiting", "vllm:num_requests_running"):
        assert "gpu-2/smol" in settled(hosts, name, lambda found: "gpu-2/smol" in found), name
    NUMBERS["vllm:generation_tokens_total (gpu-2/smol)"] = f"{tokens['gpu-2/smol']:.0f}"


def test_prometheus_holds_node_metrics_from_both_gpu_hosts(hosts):
    both = {"gpu-1/node", "gpu-2/node"}
    cpus = settled(hosts, "count by (job) (node_cpu_seconds_total)", lambda f: set(f) == both)
    assert set(cpus) == both and all(n > 0 for n in cpus.values())
    memory = settled(hosts, "node_memory_MemTotal_bytes", lambda f: set(f) == both)
    assert set(memory) == both


def test_gpu_collector_runs_and_says_there_is_no_gpu(hosts):
    """The lab has no GPU: the timer's nvidia-smi finds none, and says so."""
    none = {"gpu-1/node": 0, "gpu-2/node": 0}
    smi = settled(hosts, "llminfra_gpu_nvidia_smi_up", lambda found: found == none)
    assert smi == none
    assert hosts["gpu-1"].service("llminfra-gpu-metrics.timer").is_running


def test_public_url_reaches_no_metrics(lab_state, stack):
    gw_ip = lab_state.hosts["gw-1"].address
    name = stack.gateways["gw-1"].nginx.server_name
    with httpx.Client(verify=False, trust_env=False, timeout=10) as client:  # noqa: S501
        for path in ("/metrics", "/api/v1/query?query=up", "/-/ready", "/federate", "/graph",
                     "/api/v1/targets"):
            resp = client.get(f"https://{gw_ip}{path}", headers={"Host": name})
            assert resp.status_code == 404, (path, resp.status_code)
    for host, port in ((gw_ip, 9090), (gw_ip, 9100), (lab_state.hosts["gpu-2"].address, 9100)):
        with pytest.raises(OSError):
            socket.create_connection((host, port), timeout=5).close()


def test_status_shows_tokens_per_second_and_queue_depth(lab_state):
    """rate() needs two samples in its window: right after a deploy the row says so; within a
    minute it has the figure. Meanwhile a row may be red for a scrape (a target restarted since
    its last one reads down until the next): the metrics rows must all be ok in the end."""
    deadline = time.monotonic() + 120
    while True:
        proc = subprocess.run(
            [sys.executable, "-m", "llminfra", "status", "inventory/lab.yml", "--json",
             "--connect", lab_state.hosts["gw-1"].address],
            cwd=REPO, capture_output=True, text=True, timeout=300)
        rows = {r["target"]: r for r in json.loads(proc.stdout) if r["hop"] == "metrics"}
        smol = rows["gw-1<-gpu-2/smol"]["detail"]
        green = {r["state"] for r in rows.values()} == {"ok"}
        if (green and " tokens/s" in smol) or time.monotonic() > deadline:
            break
        if rows["gw-1<-gpu-2/smol"]["state"] == "ok":  # scraped, the figure not known yet
            assert "tokens/s not known yet" in smol, smol
        time.sleep(10)
    assert {r["state"] for r in rows.values()} == {"ok"}, rows
    assert re.fullmatch(r"[0-9.]+ tokens/s, [0-9]+ waiting, [0-9]+ running", smol), smol
    NUMBERS["status gw-1<-gpu-2/smol"] = smol
