"""Exact strings of the batched host-state command and the unit/account builders."""

from __future__ import annotations

from llminfra.commands import accounts, raw, systemd
from llminfra.commands.host import host_state


def test_nothing_asked_sends_a_no_op():
    assert raw(host_state()) == "true"


def test_packages_and_users_only():
    assert raw(host_state(packages=["nginx"], users=["a b"])) == (
        "dpkg-query -W -f='pkg ${Status} ${Package} ${Version}\\n' nginx 2>/dev/null;"
        " for n in 'a b' ; do getent passwd \"$n\" | sed \"s/^/user /\"; done; true"
    )


def test_unit_start_and_accounts():
    assert raw(systemd.unit_start("nginx")) == "systemctl enable --now nginx"
    assert raw(systemd.unit_start("nginx", start=False)) == "systemctl enable nginx"
    assert raw(systemd.unit_start("nginx", enable=False)) == "systemctl start nginx"
    assert raw(accounts.user_add("t", "/usr/sbin/nologin", None)) == (
        "useradd -r -s /usr/sbin/nologin -M t")
    assert raw(accounts.user_modify("t", "/bin/false", "/home/t")) == (
        "usermod -s /bin/false -d /home/t t")
