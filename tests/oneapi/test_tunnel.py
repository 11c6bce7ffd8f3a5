"""open_admin_tunnel against a real OpenSSH sshd on loopback, forwarding to the emulator."""
import os
import socket
import subprocess
import time

import pytest

from llminfra.oneapi.client import OneAPIClient
from llminfra.oneapi.tunnel import TunnelError, open_admin_tunnel

from .conftest import ACCESS

SSHD = "/usr/sbin/sshd"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sshd(tmp_path):
    if not os.path.exists(SSHD):
        if os.environ.get("CI"):
            pytest.fail("openssh-server is required under CI")
        pytest.skip("openssh-server not installed")
    d = tmp_path / "ssh"
    d.mkdir()
    for name in ("host", "host_other", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)],
                       check=True)
    (d / "authorized_keys").write_text((d / "client.pub").read_text())
    port = _free_port()
    config = d / "sshd_config"
    config.write_text("\n".join([
        "ListenAddress 127.0.0.1", f"HostKey {d / 'host'}", f"PidFile {d / 'sshd.pid'}",
        f"AuthorizedKeysFile {d / 'authorized_keys'}", "PermitRootLogin prohibit-password",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no",
        "StrictModes no", "AllowTcpForwarding local", "PermitOpen 127.0.0.1:*", ""]))
    os.makedirs("/run/sshd", exist_ok=True)
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config), "-p", str(port)],
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30  # sshd's start on a busy host
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise AssertionError(f"sshd does not listen: {proc.communicate()[1].decode()}")
        time.sleep(0.05)
    host_pub = (d / "host.pub").read_text().split()
    other_pub = (d / "host_other.pub").read_text().split()
    yield {"port": port, "key": str(d / "client"), "dir": d,
           "known": f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}",
           "wrong": f"[127.0.0.1]:{port} {other_pub[0]} {other_pub[1]}"}
    proc.terminate()
    proc.wait(timeout=10)


def test_tunnel_reaches_loopback_admin_port_with_pinned_key(sshd, emu):
    with open_admin_tunnel("127.0.0.1", ssh_port=sshd["port"], ssh_user="root",
                           ssh_key_file=sshd["key"], known_hosts=sshd["known"],
                           remote_port=emu.port) as url:
        assert url.startswith("http://127.0.0.1:") and not url.endswith(f":{emu.port}")
        with OneAPIClient(url, ACCESS) as client:
            assert client.status()["quota_per_unit"] == 500000
            assert client.get_self()["username"] == "root"


def test_tunnel_accepts_a_known_hosts_file(sshd, emu):
    known = sshd["dir"] / "known_hosts"
    known.write_text(sshd["wrong"].replace("[127.0.0.1]", "[elsewhere]") + "\n"
                     + sshd["known"] + "\n")
    with open_admin_tunnel("127.0.0.1", ssh_port=sshd["port"], ssh_user="root",
                           ssh_key_file=sshd["key"], known_hosts=str(known),
                           remote_port=emu.port) as url:
        with OneAPIClient(url, ACCESS) as client:
            assert client.list_channels() == []


def test_tunnel_refuses_a_wrong_pinned_host_key(sshd, emu):
    with pytest.raises(TunnelError) as info:
        with open_admin_tunnel("127.0.0.1", ssh_port=sshd["port"], ssh_user="root",
                               ssh_key_file=sshd["key"], known_hosts=sshd["wrong"],
                               remote_port=emu.port):
            pytest.fail("tunnel opened despite a wrong host key")
    assert "host key mismatch" in str(info.value) and "\n" not in str(info.value)


def test_tunnel_refuses_unknown_host(sshd, emu):
    with pytest.raises(TunnelError, match="no pinned host key"):
        with open_admin_tunnel("127.0.0.1", ssh_port=sshd["port"], ssh_user="root",
                               ssh_key_file=sshd["key"],
                               known_hosts=sshd["known"].replace("127.0.0.1", "10.1.1.1"),
                               remote_port=emu.port):
            pass
    with pytest.raises(TunnelError, match="no pinned host key"):
        with open_admin_tunnel("127.0.0.1", ssh_port=sshd["port"], ssh_user="root",
                               ssh_key_file=sshd["key"], known_hosts="",
                               remote_port=emu.port):
            pass
