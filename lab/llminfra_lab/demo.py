"""`llminfra lab up --deploy`: deploy the whole stack into the lab and show how to use it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from llminfra.clients import captured_keys, token_var, tokens_file
from llminfra.model import load_stack
from llminfra.render import cert_paths

# What the printed instructions export. None may be a declared lab secret: exporting it would
# conflict with the secrets file (check refuses differing values; tests/lab/test_units.py).
PRINTED_EXPORTS = ("OPENAI_BASE_URL", "OPENAI_API_KEY", "SSL_CERT_FILE")


def deploy_and_show(repo: Path) -> int:
    argv = [sys.executable, "-m", "pyinfra", "-y", "inventory/lab.py", "deploys/all.py"]
    print("$", " ".join(argv[2:]), flush=True)
    if subprocess.run(argv, cwd=repo).returncode != 0:
        print("error: the lab deploy failed (see above)", file=sys.stderr)
        return 1
    stack = load_stack(repo / "inventory" / "lab.yml")
    gw_name, gw = next(iter(stack.gateways.items()))
    token = captured_keys(stack, gw_name).get(token_var("apps"), "")
    if gw.engine == "litellm":
        where = "derived from the lab secrets (llminfra clients inventory/lab.yml apps)"
        get_key = "$(llminfra clients inventory/lab.yml apps | grep -m1 OPENAI_API_KEY= | cut -d= -f2)"
    else:
        tokens = tokens_file(stack, gw_name)
        where = f"stored in {tokens} (LMI_TOKEN_APPS, mode 0600)"
        get_key = f"$(grep ^LMI_TOKEN_APPS= {tokens} | cut -d= -f2)"
    cert = cert_paths(gw.nginx.tls, gw.nginx.server_name, gw.nginx.server_name).cert
    local_cert = repo / ".lab" / "gateway.crt"
    key = gw.ssh.key or ""
    fetch = ["ssh", "-i", key, "-o", "StrictHostKeyChecking=yes",
             "-o", f"UserKnownHostsFile={repo / '.lab' / 'known_hosts'}",
             f"{gw.ssh.user}@{gw.ssh.host}", "cat", cert]
    local_cert.write_text(subprocess.run(fetch, capture_output=True, text=True, check=True).stdout)
    print(f"""
Gateway: https://{gw.ssh.host}/v1   (engine {gw.engine}; certificate: {local_cert})
Token:   {where}

  export OPENAI_BASE_URL=https://{gw.ssh.host}/v1 SSL_CERT_FILE={local_cert}
  export OPENAI_API_KEY={get_key}
  python3 -c 'from openai import OpenAI; print(OpenAI().chat.completions.create(
      model="smollm2:135m", messages=[{{"role": "user", "content": "hi"}}]).choices[0].message.content)'

Web UI (not served on the public URL): llminfra admin inventory/lab.yml
(The lab's provider keys are LAB_*_KEY secrets, so the exports above never shadow them.)
""")
    return 0 if token else 1
