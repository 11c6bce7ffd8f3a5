"""`llminfra status`: one row per hop, each probed for real; anything inconclusive is UNKNOWN.

Every host gets one SSH connection (pinned host key, BatchMode) running one script that holds
all of that host's probes; secrets reach curl on standard input, never on a command line.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .commands.net import reach
from .model import Stack
from .status_metrics import metrics_checks

State = Literal["ok", "down", "unknown"]
COMPOSE_PREFIX = "llm-"


@dataclass(frozen=True)
class Check:
    id: str
    hop: str  # "model", "tunnel", ...
    target: str  # "gpu-1/smol"
    script: str  # POSIX sh; exit 0 = ok
    # reads the row from the output of a check that exited 0 (metrics: values, not just ok)
    digest: Callable[[str], tuple[State, str]] | None = None


@dataclass
class Row:
    hop: str
    target: str
    state: State
    detail: str = ""


def curl_probe(url: str, bearer: str | None = None, expect: str = "", insecure_ca: str = "") -> str:
    """curl that fails on HTTP errors; the key, if any, goes in a here-document (stdin)."""
    argv = ["curl", "-fsS", "--max-time", "10"]
    if insecure_ca:
        argv += ["--cacert", insecure_ca]
    tail = f" | grep -qF {shlex.quote(expect)}" if expect else " >/dev/null"
    if not bearer:
        return shlex.join([*argv, url]) + tail
    # the here-document's terminator must stand alone on its line: pipes go on the first
    return (f"{shlex.join([*argv, '-H', '@-', url])} <<'LLMINFRA_EOF'{tail}\n"
            f"Authorization: Bearer {bearer}\nLLMINFRA_EOF")


def reachable_probe(url: str, cafile: str = "") -> str:
    """Any HTTP answer counts (a relay refuses strangers with 403): only TLS/TCP must work."""
    argv = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10"]
    if cafile:
        argv += ["--cacert", cafile]
    return f"code=$({shlex.join([*argv, url])}) && echo \"HTTP $code\" && [ \"$code\" != 000 ]"


def gpu_checks(stack: Stack, host: str) -> list[Check]:
    gpu = stack.gpu_hosts[host]
    out = [Check(f"{host}:docker", "docker", host,
                 "docker info --format '{{.ServerVersion}}' && docker compose version --short")]
    for svc in gpu.services:
        addr = reach(stack.service_bind(gpu, svc))
        key_name = svc.client_key()
        key = str(stack.secret(key_name)) if key_name else None
        project = COMPOSE_PREFIX + svc.name
        running = (f"docker compose -p {shlex.quote(project)} ps --status running -q "
                   "| grep -q . || { echo 'container not running'; exit 1; }")
        served = svc.served()[0]
        listed = curl_probe(f"http://{addr}:{svc.port}/v1/models", key, expect=f'"{served}"')
        health = ""
        if svc.health_path:
            health = curl_probe(f"http://{addr}:{svc.port}{svc.health_path}") + " && "
        out.append(Check(f"{host}:{svc.name}", "model", f"{host}/{svc.name}",
                         f"{running} && {health}{listed}"))
    return out


def gateway_checks(stack: Stack, gateway: str) -> list[Check]:
    gw = stack.gateways[gateway]
    out = [Check(f"{gateway}:docker", "docker", gateway,
                 "docker info --format '{{.ServerVersion}}' && docker compose version --short")]
    out.append(Check(f"{gateway}:nginx", "nginx", gateway, "systemctl is-active nginx"))
    for t in stack.tunnels(gateway):
        svc = next(s for s in stack.gpu_hosts[t.gpu_host].services if s.name == t.service)
        key_name = svc.client_key()
        key = str(stack.secret(key_name)) if key_name else None
        probe = curl_probe(f"http://{reach(t.bind)}:{t.local_port}/v1/models", key,
                           expect=f'"{svc.served()[0]}"')
        out.append(Check(f"{gateway}:tunnel:{t.gpu_host}/{t.service}", "tunnel",
                         f"{gateway}->{t.gpu_host}/{t.service}",
                         f"systemctl is-active --quiet {t.unit} || "
                         f"{{ echo 'unit {t.unit} not active'; exit 1; }}; {probe}"))
    engine = gw.engine_settings
    cafile = f"{engine.data_dir}/trust/extra-ca.pem" if engine.trust_ca_files else ""
    if gw.engine == "litellm":
        out += litellm_checks(stack, gateway)
    out += metrics_checks(stack, gateway)
    seen: set[str] = set()
    for ch in stack.channels:
        if not ch.relay:
            continue
        url = stack.relay_url(ch.relay)
        if url is None or url in seen:
            continue
        seen.add(url)
        out.append(Check(f"{gateway}:relay:{ch.relay}", "relay", f"{gateway}->{ch.relay}",
                         reachable_probe(url + "/v1/models", cafile)))
    return out


def litellm_checks(stack: Stack, gateway: str) -> list[Check]:
    """LiteLLM has no admin API with channel state: its readiness, then each deployment probed
    live by LiteLLM itself (`/health?model_id=`, the master key on stdin)."""
    from urllib.parse import quote

    from .render.litellm_config import deployments, embedding_origins

    gw = stack.gateways[gateway]
    ll = gw.engine_settings
    base = f"http://{reach(ll.api_bind)}:{ll.api_port}"
    out = [Check(f"{gateway}:litellm", "engine", f"{gateway} litellm",
                 curl_probe(f"{base}/health/readiness", expect='"healthy"'))]
    master = str(stack.secret(gw.litellm.master_key)) if gw.litellm else None
    for d in deployments(stack.channel_specs(gateway), embedding_origins(stack)):
        out.append(Check(f"{gateway}:deployment:{d.id}", "channel", f"{gateway}/{d.id}",
                         curl_probe(f"{base}/health?model_id={quote(d.id, safe='')}", master,
                                    expect='"healthy_count":1,"unhealthy_count":0')))
    return out


def relay_checks(stack: Stack, relay: str) -> list[Check]:
    return [Check(f"{relay}:nginx", "nginx", relay, "systemctl is-active nginx")]


def script(checks: list[Check]) -> str:
    parts = []
    for c in checks:
        parts.append(f"echo '@@begin {c.id}'\nout=$( ( {c.script}\n) 2>&1 ); rc=$?\n"
                     f"printf '%s\\n' \"$out\" | tail -c 400\necho \"@@end {c.id} $rc\"")
    return "\n".join(parts) + "\n"


def parse(output: str, checks: list[Check]) -> dict[str, tuple[int | None, str]]:
    """check id -> (exit status or None when it never reported, its last output)."""
    found: dict[str, tuple[int | None, str]] = {}
    current, buf = None, []
    for raw in output.splitlines():
        if raw.startswith("@@begin "):
            current, buf = raw.removeprefix("@@begin "), []
        elif raw.startswith("@@end ") and current is not None:
            status = raw.rsplit(" ", 1)[-1]
            found[current] = (int(status) if status.isdigit() else None, " ".join(buf)[-200:])
            current = None
        elif current is not None:
            buf.append(raw.strip())
    return {c.id: found.get(c.id, (None, "no answer")) for c in checks}


def ssh_argv(stack: Stack, host: str, known_hosts: str) -> list[str]:
    ssh = stack.host(host).ssh
    argv = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", f"UserKnownHostsFile={known_hosts}", "-o", "ConnectTimeout=10",
            "-p", str(ssh.port)]
    if ssh.key:
        argv += ["-i", ssh.key, "-o", "IdentitiesOnly=yes"]
    prefix = "sudo -n " if ssh.sudo else ""
    return [*argv, f"{ssh.user}@{ssh.host}", f"{prefix}sh -s"]


def host_rows(stack: Stack, host: str, checks: list[Check], known_hosts: str) -> list[Row]:
    try:
        proc = subprocess.run(ssh_argv(stack, host, known_hosts), input=script(checks),
                              capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return [Row("host", host, "down", "no answer within 120 s")] + \
            [Row(c.hop, c.target, "unknown", "host did not answer") for c in checks]
    if proc.returncode == 255 and "@@begin" not in proc.stdout:
        why = (proc.stderr.strip().splitlines() or ["ssh failed"])[-1][:200]
        return [Row("host", host, "down", why)] + \
            [Row(c.hop, c.target, "unknown", "host unreachable") for c in checks]
    rows = [Row("host", host, "ok", f"ssh {stack.host(host).ssh.host}")]
    for c in checks:
        rc, out = parse(proc.stdout, [c])[c.id]
        state: State = "unknown" if rc is None else ("ok" if rc == 0 else "down")
        if rc == 0 and c.digest is not None:
            state, out = c.digest(out)
        rows.append(Row(c.hop, c.target, state, out))
    return rows


def checks_for(stack: Stack, host: str) -> list[Check]:
    role = stack.role(host)
    if role == "gpu":
        return gpu_checks(stack, host)
    if role == "gateway":
        return gateway_checks(stack, host)
    return relay_checks(stack, host)


CHANNEL_STATUS = {1: "enabled", 2: "disabled by hand", 3: "disabled by the gateway (failing)"}


def channel_rows(stack: Stack, gateway: str, admin_url: str | None = None) -> list[Row]:
    """Each managed channel's state and last test, as the gateway itself reports them."""
    from .oneapi.desired import MARKER
    from .oneapi.session import admin_client

    if stack.gateways[gateway].engine != "oneapi":
        return []  # LiteLLM's deployments are probed by its gateway checks
    want = {f"{MARKER}{spec.name}" for spec in stack.channel_specs(gateway)}
    try:
        with admin_client(stack, gateway, admin_url) as client:
            found = {c["name"]: c for c in client.list_channels() if c.get("name") in want}
    except Exception as exc:  # no admin answer: every channel's state is unknown, not fine
        return [Row("channels", gateway, "unknown", f"admin API: {type(exc).__name__}: "
                    f"{str(exc)[:150]}")]
    rows = []
    for name in sorted(want):
        ch = found.get(name)
        if ch is None:
            rows.append(Row("channel", f"{gateway}/{name}", "down", "missing on the gateway"))
            continue
        status = int(ch.get("status") or 0)
        tested = int(ch.get("test_time") or 0)
        last = f"last test {ch.get('response_time', 0)} ms" if tested else "never tested"
        state: State = "ok" if status == 1 else "down"
        rows.append(Row("channel", f"{gateway}/{name}", state,
                        f"{CHANNEL_STATUS.get(status, f'status {status}')}; {last}"))
    return rows


def cert_row(stack: Stack, gateway: str, connect: str | None, cafile: str | None,
             warn_days: int = 14) -> Row:
    """The public certificate as a client sees it: verified, and how long it has left."""
    import datetime as dt
    import socket
    import ssl

    ngx = stack.gateways[gateway].nginx
    target = f"{gateway} https://{ngx.server_name}:{ngx.https_port}"
    ctx = ssl.create_default_context(cafile=cafile) if cafile else ssl.create_default_context()
    try:
        with socket.create_connection((connect or ngx.server_name, ngx.https_port), 10) as sock, \
                ctx.wrap_socket(sock, server_hostname=ngx.server_name) as tls:
            cert = tls.getpeercert()
    except ssl.SSLCertVerificationError as exc:
        return Row("certificate", target, "down", f"not trusted: {exc.verify_message}")
    except OSError as exc:
        return Row("certificate", target, "unknown", f"no TLS answer: {exc}")
    expires = dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(str(cert["notAfter"])), dt.UTC)
    left = (expires - dt.datetime.now(dt.UTC)).days
    state: State = "ok" if left >= warn_days else "down"
    return Row("certificate", target, state, f"valid, expires {expires:%Y-%m-%d} ({left} days)")
