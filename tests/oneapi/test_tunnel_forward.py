"""The tunnel's own forwarding over one paramiko Transport: one SSH connection per tunnel, an
immediate stop, concurrent requests, refused channels, keys and host key types, the default
key files."""
import contextlib
import http.client
import shutil
import socket
import subprocess
import threading
import time
from urllib.parse import urlsplit

import pytest

from llminfra.oneapi.client import OneAPIClient
from llminfra.oneapi.tunnel import TunnelError, open_admin_tunnel

from .conftest import ACCESS
from .test_tunnel import _free_port, sshd  # noqa: F401 - the real sshd fixture


class CountingProxy:
    """A loopback TCP relay in front of sshd that counts the connections made to it."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.accepted = 0
        self.sockets = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.sockets += [conn, upstream]
            for src, dst in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=self._copy, args=(src, dst), daemon=True).start()

    @staticmethod
    def _copy(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):  # wakes the copier of the other direction
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def close(self):
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        for s in [self.listener, *self.sockets]:
            s.close()


@pytest.fixture
def proxy(sshd):  # noqa: F811
    p = CountingProxy(sshd["port"])
    yield p
    p.close()


def tunnel(sshd, emu, **kwargs):  # noqa: F811
    kwargs.setdefault("ssh_port", sshd["port"])
    kwargs.setdefault("known_hosts", sshd["known"])
    kwargs.setdefault("ssh_key_file", sshd["key"])
    kwargs.setdefault("remote_port", emu.port)
    return open_admin_tunnel("127.0.0.1", ssh_user="root", **kwargs)


def local_port(url):
    return urlsplit(url).port


def test_one_ssh_connection_per_tunnel(sshd, emu, proxy):  # noqa: F811
    known = sshd["known"].replace(f"[127.0.0.1]:{sshd['port']}", f"[127.0.0.1]:{proxy.port}")
    with tunnel(sshd, emu, ssh_port=proxy.port, known_hosts=known) as url:
        with OneAPIClient(url, ACCESS) as client:
            assert client.status()["quota_per_unit"] == 500000
            assert client.list_channels() == []
    assert proxy.accepted == 1


def test_leaving_the_tunnel_is_immediate_and_ends_open_connections(sshd, emu):  # noqa: F811
    with tunnel(sshd, emu) as url:
        live = http.client.HTTPConnection("127.0.0.1", local_port(url), timeout=5)
        live.request("GET", "/api/status", headers={"Authorization": ACCESS})
        assert live.getresponse().read()  # HTTP/1.1: the forwarded connection stays open
        start = time.perf_counter()
    elapsed = time.perf_counter() - start
    print(f"tunnel stop took {elapsed * 1000:.2f} ms")
    assert elapsed < 0.5
    with contextlib.closing(live):
        assert live.sock.recv(1) == b""  # closed by the tunnel's stop, not left hanging


def test_two_concurrent_requests_through_one_tunnel(sshd, emu):  # noqa: F811
    with tunnel(sshd, emu) as url:
        conns = [http.client.HTTPConnection("127.0.0.1", local_port(url), timeout=10)
                 for _ in range(2)]
        for conn in conns:  # both requests are in flight before either answer is read
            conn.request("GET", "/api/status", headers={"Authorization": ACCESS})
        for conn in conns:
            with contextlib.closing(conn):
                response = conn.getresponse()
                assert response.status == 200 and b"quota_per_unit" in response.read()


def test_the_local_port_refuses_connections_after_the_tunnel(sshd, emu):  # noqa: F811
    with tunnel(sshd, emu) as url:
        port = local_port(url)
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)


def test_a_refused_channel_closes_that_connection_only(sshd, emu):  # noqa: F811
    with tunnel(sshd, emu, remote_port=_free_port()) as url:  # nothing listens there
        for _ in range(2):  # the tunnel outlives a refused channel
            with socket.create_connection(("127.0.0.1", local_port(url)), timeout=10) as s:
                s.sendall(b"GET /api/status HTTP/1.1\r\nHost: x\r\n\r\n")
                with contextlib.suppress(ConnectionResetError):
                    assert s.recv(1) == b""


def test_a_key_the_server_refuses_is_one_clear_error(sshd, emu):  # noqa: F811
    with pytest.raises(TunnelError, match="refused every key offered") as info:
        with tunnel(sshd, emu, ssh_key_file=str(sshd["dir"] / "host_other")):
            pytest.fail("tunnel opened with an unauthorized key")
    assert "\n" not in str(info.value)


def test_the_default_key_file_is_offered_without_an_agent(sshd, emu, tmp_path,  # noqa: F811
                                                          monkeypatch):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    shutil.copy(sshd["key"], home / ".ssh" / "id_ed25519")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    with tunnel(sshd, emu, ssh_key_file=None) as url:
        with OneAPIClient(url, ACCESS) as client:
            assert client.status()["quota_per_unit"] == 500000


def test_a_pinned_key_type_the_server_lacks_is_a_mismatch(sshd, emu, tmp_path):  # noqa: F811
    subprocess.run(["ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", str(tmp_path / "ec")],
                   check=True)
    kind, blob = (tmp_path / "ec.pub").read_text().split()[:2]
    with pytest.raises(TunnelError, match="host key mismatch.*server offers no ecdsa") as info:
        with tunnel(sshd, emu, known_hosts=f"[127.0.0.1]:{sshd['port']} {kind} {blob}"):
            pytest.fail("tunnel opened without the pinned key type")
    assert "\n" not in str(info.value)
