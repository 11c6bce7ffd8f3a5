"""The admin tunnel authenticates as pyinfra does: a key file (passphrase from a secret), or
ssh-agent when there is no key file or the key is encrypted without a passphrase."""
import os
import subprocess
import time

import pytest

from llminfra.oneapi.client import OneAPIClient
from llminfra.oneapi.tunnel import TunnelError, client_auth, open_admin_tunnel

from .conftest import ACCESS
from .test_tunnel import sshd  # noqa: F401 - the real sshd fixture

PASSPHRASE = "correct horse battery"


@pytest.fixture
def agent(tmp_path, monkeypatch):
    """A private ssh-agent for the test; HOME without keys, so only the agent can help."""
    sock = tmp_path / "agent.sock"
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30  # the agent's start on a busy host
    while not sock.exists():
        assert time.monotonic() < deadline and proc.poll() is None, "ssh-agent did not start"
        time.sleep(0.05)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
    yield sock
    proc.terminate()
    proc.wait(timeout=10)


def encrypt(key: str, passphrase: str = PASSPHRASE) -> None:
    subprocess.run(["ssh-keygen", "-q", "-p", "-P", "", "-N", passphrase, "-f", key], check=True,
                   capture_output=True)


def admin_status(sshd, emu, **auth):  # noqa: F811
    with open_admin_tunnel("127.0.0.1", ssh_port=sshd["port"], ssh_user="root",
                           known_hosts=sshd["known"], remote_port=emu.port, **auth) as url:
        with OneAPIClient(url, ACCESS) as client:
            return client.status()["quota_per_unit"]


def test_passphrase_protected_key_with_its_passphrase(sshd, emu, monkeypatch):  # noqa: F811
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    encrypt(sshd["key"])
    assert admin_status(sshd, emu, ssh_key_file=sshd["key"], ssh_key_password=PASSPHRASE) == 500000


def test_wrong_passphrase_is_one_clear_error(sshd, emu):  # noqa: F811
    encrypt(sshd["key"])
    with pytest.raises(TunnelError, match="wrong passphrase") as info:
        admin_status(sshd, emu, ssh_key_file=sshd["key"], ssh_key_password="not it")
    assert PASSPHRASE not in str(info.value) and "not it" not in str(info.value)


def test_agent_without_key_file(sshd, emu, agent):  # noqa: F811
    subprocess.run(["ssh-add", "-q", sshd["key"]], check=True, capture_output=True)
    assert admin_status(sshd, emu, ssh_key_file=None) == 500000


def test_encrypted_key_without_passphrase_uses_the_agent(sshd, emu, agent):  # noqa: F811
    subprocess.run(["ssh-add", "-q", sshd["key"]], check=True, capture_output=True)
    encrypt(sshd["key"])  # the file now needs a passphrase nobody gave; the agent holds the key
    assert client_auth(sshd["key"]) == (None, True)
    assert admin_status(sshd, emu, ssh_key_file=sshd["key"]) == 500000


def test_no_key_anywhere_is_one_clear_error(sshd, emu, agent):  # noqa: F811
    with pytest.raises(TunnelError) as info:
        admin_status(sshd, emu, ssh_key_file=None)
    assert "\n" not in str(info.value)


def test_a_file_that_is_no_key(tmp_path):
    bad = tmp_path / "id"
    bad.write_text("not a key\n")
    with pytest.raises(TunnelError, match="cannot load SSH key"):
        client_auth(str(bad))
    with pytest.raises(TunnelError, match="cannot load SSH key"):
        client_auth(str(tmp_path / "missing"))
    assert os.path.exists(bad)
