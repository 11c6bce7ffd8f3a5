"""Exact-string tests for llminfra.commands.ssh (SSH)."""

from __future__ import annotations

from llminfra.commands import raw
from llminfra.commands import ssh as c


def test_ssh_keygen():
    assert raw(c.ssh_keygen("/etc/llminfra/tunnel/id_ed25519", "tunnel@gw")) == (
        "mkdir -p -m 700 /etc/llminfra/tunnel"
        " && ssh-keygen -q -t ed25519 -N '' -C tunnel@gw -f /etc/llminfra/tunnel/id_ed25519"
    )
    assert raw(c.ssh_public_key_from_private("/k")) == "ssh-keygen -y -f /k > /k.pub"


def test_tunnel_key_options():
    assert c.tunnel_key_options(["127.0.0.1:8000", "127.0.0.1:11434"]) == (
        'restrict,port-forwarding,permitopen="127.0.0.1:8000",permitopen="127.0.0.1:11434",'
        'command="/bin/false"'
    )


def test_keypair_state():
    assert raw(c.keypair_state("/k dir/id")) == (
        "! test -e '/k dir/id' || echo private;"
        " ! test -e '/k dir/id.pub' || sed 's/^/public /' '/k dir/id.pub'"
    )


def test_autossh_argv():
    assert c.autossh_argv(
        user="llminfra-tunnel", host="gpu-1.example.net", key_path="/etc/llminfra/tunnel/id",
        known_hosts="/etc/llminfra/tunnel/known_hosts", local_port=18001, target="[::1]:8000",
        port=2222, bind="172.17.0.1", alive_interval=30, alive_count=5,
    ) == [
        "autossh", "-M", "0", "-N", "-o", "ExitOnForwardFailure=yes",
        "-o", "ServerAliveInterval=30", "-o", "ServerAliveCountMax=5",
        "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=/etc/llminfra/tunnel/known_hosts",
        "-o", "IdentitiesOnly=yes", "-i", "/etc/llminfra/tunnel/id",
        "-L", "172.17.0.1:18001:[::1]:8000", "-p", "2222", "llminfra-tunnel@gpu-1.example.net",
    ]  # fmt: skip
