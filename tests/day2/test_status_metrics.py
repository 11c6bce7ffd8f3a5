"""status rows from Prometheus: the query script (exact, run in sh), the digest, and one run
against a real Prometheus (Debian's package) scraping a vLLM-shaped /metrics with the
rendered configuration."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from llminfra.model import parse_stack
from llminfra.render.metrics import render_prometheus_config
from llminfra.status import parse, script
from llminfra.status_metrics import digest, metrics_checks, query_script, rate_window


def test_query_script_exact():
    assert query_script("http://127.0.0.1:9090/api/v1/query",
                        [("up", 'up{job="gpu-2/smol"}')]) == (
        "q() { v=$(curl -fsS --max-time 10 -G --data-urlencode \"query=$2\" "
        "http://127.0.0.1:9090/api/v1/query | sed -n "
        "'s/.*\"value\":\\[[^,]*,\"\\([^\"]*\\)\"\\].*/\\1/p'); echo \"$1=${v:-none}\"; }; "
        "q up 'up{job=\"gpu-2/smol\"}'")


def test_rate_window():
    assert [rate_window(i) for i in ("15s", "1m", "30s", "1m30s")] == [
        "60s", "240s", "120s", "360s"]


@pytest.mark.parametrize("output, row", [
    ("up=1 tokens_per_s=12.345 waiting=2 running=1", ("ok", "12.3 tokens/s, 2 waiting, 1 running")),
    ("up=1", ("ok", "scraped")),
    ("up=1 tokens_per_s=none waiting=0 running=0",
     ("ok", "tokens/s not known yet, 0 waiting, 0 running")),
    ("up=0 tokens_per_s=none", ("down", "Prometheus cannot scrape it")),
    ("up=none tokens_per_s=none", ("unknown", "no sample in Prometheus yet")),
    ("", ("unknown", "no sample in Prometheus yet")),
])
def test_digest(output, row):
    assert digest(output) == row


def test_script_reads_one_value_from_prometheus_json(tmp_path):
    fake = tmp_path / "curl"  # answers as Prometheus does, one sample or none
    fake.write_text('#!/bin/sh\ncase "$*" in *waiting*) echo \'{"status":"success","data":'
                    '{"resultType":"vector","result":[]}}\';; *) echo \'{"status":"success",'
                    '"data":{"resultType":"vector","result":[{"metric":{},"value":'
                    '[1764460000.123,"7.5"]}]}}\';; esac\n')
    fake.chmod(0o755)
    cmd = query_script("http://x/api/v1/query", [("up", "up"), ("waiting", "waiting")])
    out = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True,
                         env={"PATH": f"{tmp_path}:/usr/bin:/bin"}).stdout
    assert out == "up=7.5\nwaiting=none\n"


# -- against a real Prometheus ----------------------------------------------------------

class FakeVllm(BaseHTTPRequestHandler):
    """/metrics as vLLM names it (names read from the lab's real vLLM); 50 tokens a scrape."""

    key = "vllm-secret-value"
    tokens = 0

    def do_GET(self):  # noqa: N802
        if self.headers.get("Authorization") != f"Bearer {self.key}":
            self.send_response(401)
            self.end_headers()
            return
        FakeVllm.tokens += 50
        body = ("# TYPE vllm:generation_tokens_total counter\n"
                f'vllm:generation_tokens_total{{engine="0",model_name="m"}} {FakeVllm.tokens}\n'
                "# TYPE vllm:num_requests_waiting gauge\n"
                'vllm:num_requests_waiting{engine="0",model_name="m"} 3\n'
                "# TYPE vllm:num_requests_running gauge\n"
                'vllm:num_requests_running{engine="0",model_name="m"} 1\n').encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_real_prometheus_gives_tokens_per_second_and_queue_depth(tmp_path):
    binary = shutil.which("prometheus")
    if binary is None:  # .ci/run installs Debian's package
        pytest.fail("Debian's prometheus package is required (apt-get install prometheus)")
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeVllm)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    prom_port = free_port()
    stack = parse_stack({
        "gpu_hosts": {"gpu-1": {"ssh": {"host": "127.0.0.1"}, "services": [
            {"kind": "vllm", "name": "smol", "model": "m/smol", "port": server.server_port,
             "gpus": "cpu", "api_key": "VLLM_KEY", "bind": "127.0.0.1"}]}},
        "gateways": {"gw-1": {
            "ssh": {"host": "10.0.0.3"},
            "oneapi": {"session_secret": "SESSION", "root_access_token": "ROOT_TOKEN",
                       "root_password": "ROOT_PW"},
            "nginx": {"server_name": "api.test"},
            "metrics": {"scrape_interval": "1s", "port": prom_port, "node_exporter": False}}},
    }, environ={"VLLM_KEY": FakeVllm.key, "SESSION": "session-secret-value",
                "ROOT_TOKEN": "root-token-000001", "ROOT_PW": "root-password-0001"})
    config = render_prometheus_config(stack, "gw-1").content
    key_file = "/etc/prometheus/llminfra/gpu-1-smol.key"
    assert key_file in config
    (tmp_path / "key").write_text(FakeVllm.key)
    (tmp_path / "prometheus.yml").write_text(config.replace(key_file, str(tmp_path / "key")))
    proc = subprocess.Popen(
        [binary, f"--config.file={tmp_path / 'prometheus.yml'}",
         f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{prom_port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        checks = metrics_checks(stack, "gw-1")
        assert [c.target for c in checks] == ["gw-1 prometheus", "gw-1<-gpu-1/smol"]
        deadline = time.monotonic() + 60
        while True:
            out = subprocess.run(["sh", "-s"], input=script(checks), capture_output=True,
                                 text=True).stdout
            (rc_ready, _), (rc, text) = parse(out, checks).values()
            row = digest(text)
            if rc_ready == 0 and row[0] == "ok" and row[1][:1].isdigit() or \
                    time.monotonic() > deadline:
                break
            time.sleep(1)
        assert row[0] == "ok", (out, row)
        # 50 tokens a scrape; rate() divides by its whole window, so a fresh series reads low
        rate = float(row[1].split()[0])
        assert 0 < rate <= 60, row
        assert row[1].endswith("tokens/s, 3 waiting, 1 running"), row
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        server.shutdown()
