"""`llminfra clients`: what to hand an API client — base URL, key, and how to trust the cert.

Keys are read from where the kit keeps them for the gateway's engine (OneAPI/New-API: the
0600 tokens file captured at creation; LiteLLM: derived from the stack's secrets). Printing a
key is this command's whole purpose, so it does only when asked for, one gateway at a time, to
standard output (never to a log).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from .model import Stack
from .model.secrets import parse_dotenv
from .paths import OperatorPaths


@dataclass(frozen=True)
class ClientAccess:
    gateway: str
    token: str
    base_url: str  # ends in /v1
    key: str | None  # None: not captured yet
    self_signed: bool
    cert_path: str  # on the gateway


def token_var(token_name: str) -> str:
    from .oneapi.localstate import secret_var

    return secret_var(token_name)


def tokens_file(stack: Stack, gateway: str) -> Path:
    return OperatorPaths.of(stack).oneapi_tokens(gateway)


def captured_keys(stack: Stack, gateway: str) -> dict[str, str]:
    if stack.gateways[gateway].engine == "litellm":
        from .render.litellm_config import token_keys

        # derived from the secrets file, so known before (and without) any deploy
        return {token_var(name): key for name, key in token_keys(stack, gateway).items()}
    path = tokens_file(stack, gateway)
    try:
        return parse_dotenv(path.read_text())
    except (FileNotFoundError, NotADirectoryError):
        return {}


def base_url(stack: Stack, gateway: str) -> str:
    ngx = stack.gateways[gateway].nginx
    port = "" if ngx.https_port == 443 else f":{ngx.https_port}"
    return f"https://{ngx.server_name}{port}/v1"


def access(stack: Stack, gateway: str, token: str | None = None) -> list[ClientAccess]:
    from .render.tls import cert_paths

    gw = stack.gateways[gateway]
    names = [t.name for t in stack.tokens]
    if token is not None and token not in names:
        raise LookupError(f"tokens: no token named {token!r} (declared: {', '.join(names) or 'none'})")
    keys = captured_keys(stack, gateway)
    server = gw.nginx.server_name
    cert = cert_paths(gw.nginx.tls, server, server).cert
    return [ClientAccess(gateway, name, base_url(stack, gateway), keys.get(token_var(name)),
                         gw.nginx.tls.mode == "self_signed", cert)
            for name in names if token in (None, name)]


def snippet(a: ClientAccess, ssh_fetch: list[str]) -> str:
    """Paste-ready settings for one token: openai SDK, curl, NextChat, ChatTool."""
    key = a.key or "<not captured yet: run `llminfra channels apply` first>"
    origin = a.base_url.removesuffix("/v1")
    q = shlex.quote
    lines = [f"# {a.gateway} / token {a.token}",
             "# openai SDK (Python, Node) and most OpenAI-compatible tools:",
             f"export OPENAI_BASE_URL={q(a.base_url)}",
             f"export OPENAI_API_KEY={q(key)}"]
    cacert = ""
    if a.self_signed:
        local = f"{a.gateway}.crt"
        lines += ["# the certificate is self-signed: fetch it over the pinned SSH connection",
                  f"{shlex.join(ssh_fetch)} > {q(local)}",
                  f"export SSL_CERT_FILE=\"$PWD/{local}\"   # Python (httpx) clients",
                  f"export NODE_EXTRA_CA_CERTS=\"$PWD/{local}\"   # Node clients"]
        cacert = f" --cacert {q(local)}"
    lines += ["# curl:",
              f"curl -sS{cacert} \"$OPENAI_BASE_URL/models\" -H \"Authorization: Bearer $OPENAI_API_KEY\"",
              "# NextChat (server env, e.g. docker -e): the origin, without /v1",
              f"BASE_URL={q(origin)} OPENAI_API_KEY={q(key)}",
              "# ChatTool (pip install chattool):",
              f"export OPENAI_API_BASE={q(a.base_url)} OPENAI_API_KEY={q(key)}"]
    return "\n".join(lines)


def ssh_fetch_argv(stack: Stack, gateway: str, cert_path: str, known_hosts: str) -> list[str]:
    ssh = stack.gateways[gateway].ssh
    argv = ["ssh", "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}",
            "-p", str(ssh.port)]
    if ssh.key:
        argv += ["-i", ssh.key]
    return [*argv, f"{ssh.user}@{ssh.host}", "cat", cert_path]


def fetch_cert(stack: Stack, gateway: str, cert_path: str, known_hosts: str) -> str:
    """The gateway's certificate (PEM), read over the pinned SSH connection: a self-signed
    certificate is never trusted on first use over the network. Returns a temp file path."""
    import subprocess
    import tempfile

    argv = ssh_fetch_argv(stack, gateway, cert_path, known_hosts)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0 or "BEGIN CERTIFICATE" not in proc.stdout:
        raise OSError(f"cannot fetch {gateway}'s certificate over SSH: "
                      f"{proc.stderr.strip()[-300:] or 'no certificate in the answer'}")
    with tempfile.NamedTemporaryFile("w", suffix=".crt", delete=False) as fh:
        fh.write(proc.stdout)
    return fh.name
