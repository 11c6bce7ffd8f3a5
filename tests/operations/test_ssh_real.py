"""ssh.* ops and the autossh builder for real: ssh-keygen, a loopback sshd, autossh, curl.

The tunnel key is authorized with ``restrict,port-forwarding,permitopen=...``: the permitted
forward must work through autossh with a pinned host key, while a shell command and a forward
to another port are refused.
"""

from __future__ import annotations

import http.server
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from llminfra.commands.net import reach
from llminfra.commands.ssh import autossh_argv, tunnel_key_options
from llminfra.operations import ssh


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")


def stop(process: subprocess.Popen) -> None:
    """Stop autossh and its ssh (own session, see Popen): a slow SIGTERM must not leak ssh."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"through the tunnel")

    def log_message(self, *args):
        pass


@pytest.fixture
def upstream(serve):
    return serve(Hello).server_address[1]


@pytest.fixture
def sshd(tmp_path, need):
    binary = need("sshd")
    need("ssh-keygen")
    host_key = tmp_path / "host_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", host_key], check=True)
    port = free_port()
    authorized = tmp_path / "home" / ".ssh" / "authorized_keys"
    config = tmp_path / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nPidFile {tmp_path}/sshd.pid\n"
        f"AuthorizedKeysFile {authorized}\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nUsePAM no\n"
        "StrictModes no\n"
    )
    process = subprocess.Popen([binary, "-D", "-e", "-f", str(config)], stderr=subprocess.DEVNULL)
    wait_port(port)
    yield {"port": port, "authorized": str(authorized), "host_key": f"{host_key}.pub"}
    process.terminate()
    process.wait(5)


def test_keypair_generates_once(tmp_path, apply, need):
    need("ssh-keygen")
    path = str(tmp_path / "keys" / "id_ed25519")
    first = apply(ssh.keypair, path=path, comment="t@gw")
    assert first.did_change()
    public = open(f"{path}.pub").read()
    assert public.startswith("ssh-ed25519 ") and public.strip().endswith(" t@gw")
    assert oct(os.stat(tmp_path / "keys").st_mode & 0o777) == "0o700"
    assert not apply(ssh.keypair, path=path).did_change()
    os.remove(f"{path}.pub")
    assert apply(ssh.keypair, path=path).did_change()
    assert open(f"{path}.pub").read().split()[:2] == public.split()[:2]  # same key, not a new one


def test_restricted_tunnel_end_to_end(tmp_path, apply, need, sshd, upstream):
    need("ssh")
    autossh = need("autossh")
    key = str(tmp_path / "tunnel" / "id_ed25519")
    assert apply(ssh.keypair, path=key, comment="tunnel@gw").did_succeed()
    public = open(f"{key}.pub").read().strip()

    options = tunnel_key_options([f"127.0.0.1:{upstream}"])
    open_opts = apply(ssh.authorized_key, user="root", key=public, options="no-pty",
                      path=sshd["authorized"])  # fmt: skip
    assert open_opts.did_change()
    restricted = apply(ssh.authorized_key, user="root", key=public, options=options,
                       path=sshd["authorized"])  # fmt: skip
    assert restricted.did_change()
    lines = open(sshd["authorized"]).read().splitlines()
    assert lines == [f"{options} {public}"]  # replaced, not added
    assert oct(os.stat(sshd["authorized"]).st_mode & 0o777) == "0o600"
    again = apply(ssh.authorized_key, user="root", key=public, options=options,
                  path=sshd["authorized"])  # fmt: skip
    assert not again.did_change()

    known_hosts = str(tmp_path / "tunnel" / "known_hosts")
    host_key = open(sshd["host_key"]).read()
    pin = apply(ssh.known_host, path=known_hosts, hostname="127.0.0.1", key=host_key,
                port=sshd["port"])  # fmt: skip
    assert pin.did_change()
    assert not apply(ssh.known_host, path=known_hosts, hostname="127.0.0.1", key=host_key,
                     port=sshd["port"]).did_change()  # fmt: skip

    local_port = free_port()
    argv = autossh_argv(user="root", host="127.0.0.1", key_path=key, known_hosts=known_hosts,
                        local_port=local_port, target=f"127.0.0.1:{upstream}",
                        port=sshd["port"])  # fmt: skip
    tunnel = subprocess.Popen([autossh, *argv[1:]], env={**os.environ, "AUTOSSH_GATETIME": "0"},
                              stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
    try:
        wait_port(local_port)
        with urllib.request.urlopen(f"http://127.0.0.1:{local_port}/", timeout=10) as reply:
            assert reply.read() == b"through the tunnel"
    finally:
        stop(tunnel)

    ssh_base = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                "-o", f"UserKnownHostsFile={known_hosts}", "-o", "IdentitiesOnly=yes",
                "-i", key, "-p", str(sshd["port"]), "root@127.0.0.1"]  # fmt: skip
    # The forced command=/bin/false: no command of the client's choosing runs.
    shell = subprocess.run([*ssh_base, "echo", "SHELL-RAN"], capture_output=True, text=True,
                           timeout=20)  # fmt: skip
    assert "SHELL-RAN" not in shell.stdout
    # A forward to a port not in permitopen is refused by sshd.
    other = free_port()
    refused = subprocess.run(
        ["ssh", "-W", f"127.0.0.1:{other}", *ssh_base[1:]],
        capture_output=True, text=True, timeout=20,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "administratively prohibited" in refused.stderr


def test_wrong_pinned_host_key_is_refused(tmp_path, apply, need, sshd):
    need("ssh")
    key = str(tmp_path / "id_ed25519")
    apply(ssh.keypair, path=key)
    apply(ssh.authorized_key, user="root", key=open(f"{key}.pub").read(),
          path=sshd["authorized"])  # fmt: skip
    impostor = tmp_path / "impostor"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", impostor], check=True)
    known_hosts = str(tmp_path / "known_hosts")
    apply(ssh.known_host, path=known_hosts, hostname="127.0.0.1",
          key=open(f"{impostor}.pub").read(), port=sshd["port"])  # fmt: skip
    result = subprocess.run(
        ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
         "-o", f"UserKnownHostsFile={known_hosts}", "-i", key, "-p", str(sshd["port"]),
         "root@127.0.0.1", "true"],
        capture_output=True, text=True, timeout=20,
    )  # fmt: skip
    assert result.returncode == 255
    assert (
        "HOST IDENTIFICATION HAS CHANGED" in result.stderr or "verification failed" in result.stderr
    )


@pytest.mark.parametrize("bind", ["0.0.0.0", "::", "127.0.0.1", "::1", "127.0.0.2"])
def test_forward_to_reach_of_bind_is_permitted_and_arrives(bind, tmp_path, apply, need, sshd,
                                                            serve):
    """The permitopen entry and the -L target built from reach(bind) are accepted by a real
    sshd and reach a server bound on ``bind``."""
    need("ssh")
    autossh = need("autossh")
    port = serve(Hello, bind).server_address[1]
    target = f"{reach(bind)}:{port}"
    key = str(tmp_path / "id_ed25519")
    apply(ssh.keypair, path=key)
    apply(ssh.authorized_key, user="root", key=open(f"{key}.pub").read(),
          options=tunnel_key_options([target]), path=sshd["authorized"])  # fmt: skip
    known_hosts = str(tmp_path / "known_hosts")
    apply(ssh.known_host, path=known_hosts, hostname="127.0.0.1",
          key=open(sshd["host_key"]).read(), port=sshd["port"])  # fmt: skip
    local_port = free_port()
    argv = autossh_argv(user="root", host="127.0.0.1", key_path=key, known_hosts=known_hosts,
                        local_port=local_port, target=target, port=sshd["port"])  # fmt: skip
    tunnel = subprocess.Popen([autossh, *argv[1:]], env={**os.environ, "AUTOSSH_GATETIME": "0"},
                              stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
    try:
        wait_port(local_port)
        with urllib.request.urlopen(f"http://127.0.0.1:{local_port}/", timeout=10) as reply:
            assert reply.read() == b"through the tunnel"
    finally:
        stop(tunnel)
