"""tunnel.forwarded through an SSH connection that is already open, in a gevent-patched
process (as pyinfra's CLI runs the deploy's channels plan), against a real OpenSSH sshd on
loopback and the emulator."""

import json
import subprocess
import sys

from .conftest import ACCESS
from .test_tunnel import _free_port, sshd  # noqa: F401 - fixture

SCRIPT = """
import gevent.monkey
gevent.monkey.patch_all()
import json, socket, sys
sys.modules["trio"] = None  # as operations.oneapi does in a pyinfra process
from concurrent.futures import ThreadPoolExecutor
import paramiko
from llminfra.oneapi.client import OneAPIClient
from llminfra.oneapi.errors import OneAPIError
from llminfra.oneapi.tunnel import forwarded

port, key, known, emu_port, closed_port, access = sys.argv[1:]
entry = paramiko.hostkeys.HostKeyEntry.from_line(known)
ssh = paramiko.SSHClient()
ssh.set_missing_host_key_policy(paramiko.RejectPolicy())
ssh.get_host_keys().add(entry.hostnames[0], entry.key.get_name(), entry.key)
ssh.connect("127.0.0.1", port=int(port), username="root", key_filename=key,
            allow_agent=False, look_for_keys=False)
transport = ssh.get_transport()
out = {}
with forwarded(transport, ("127.0.0.1", int(emu_port))) as url:
    out["url"] = url
    with OneAPIClient(url, access) as client:
        out["quota"] = client.status()["quota_per_unit"]
    def me(_):
        with OneAPIClient(url, access) as client:
            return client.get_self()["username"]
    with ThreadPoolExecutor(4) as pool:
        out["together"] = list(pool.map(me, range(4)))
with socket.socket() as s:
    out["after"] = s.connect_ex(("127.0.0.1", int(url.rsplit(":", 1)[1])))
with forwarded(transport, ("127.0.0.1", int(closed_port))) as url:
    try:
        with OneAPIClient(url, access, retries=0, timeout=5) as client:
            client.status()
        out["closed"] = "answered"
    except OneAPIError as exc:
        out["closed"] = exc.__class__.__name__
out["transport_active"] = transport.is_active()
out["channels_left"] = len([c for c in transport._channels.values() if not c.closed])
print(json.dumps(out))
"""


def test_forward_through_an_open_ssh_connection(sshd, emu):  # noqa: F811 - fixture
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(sshd["port"]), sshd["key"],
                           sshd["known"], str(emu.port), str(_free_port()), ACCESS],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    assert out["url"].startswith("http://127.0.0.1:") and not out["url"].endswith(
        f":{emu.port}")
    assert out["quota"] == 500000
    assert out["together"] == ["root"] * 4  # four connections at once, one channel each
    assert out["after"] != 0  # the local port is closed with the context
    # nothing listens there: the client reports it, nothing hangs, the connection lives on
    assert out["closed"] in ("OneAPIUnreachable", "OneAPIConnectionLost")
    assert out["transport_active"] is True  # someone else's connection: left open
    assert out["channels_left"] == 0
