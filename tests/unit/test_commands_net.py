"""llminfra.commands.net: the address forms both ends of a connection must agree on."""

from __future__ import annotations

import pytest

from llminfra.commands.net import known_hosts_name, reach


@pytest.mark.parametrize(("bind", "address"), [
    ("0.0.0.0", "127.0.0.1"), ("", "127.0.0.1"), ("::", "[::1]"), ("127.0.0.1", "127.0.0.1"),
    ("::1", "[::1]"), ("[::1]", "[::1]"), ("10.20.0.7", "10.20.0.7"), ("fd00::7", "[fd00::7]"),
    ("gpu-1.internal", "gpu-1.internal"),
])  # fmt: skip
def test_reach(bind, address):
    assert reach(bind) == address


def test_known_hosts_name():
    assert known_hosts_name("gpu-1.example.net") == "gpu-1.example.net"
    assert known_hosts_name("192.0.2.5", 22) == "192.0.2.5"
    assert known_hosts_name("192.0.2.5", 2222) == "[192.0.2.5]:2222"
