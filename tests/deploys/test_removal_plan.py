"""Removal and teardown, prepared against @fake hosts: which steps each host gets, and that
a host given nothing to remove plans no change."""

from __future__ import annotations

from functools import partial

from pyinfra.api import Config, Inventory, State
from pyinfra.api.connect import connect_all
from pyinfra.api.deploy import add_deploy
from pyinfra.context import ctx_host, ctx_state

from llminfra.deploys.teardown import gateway_teardown, gpu_teardown, teardown, wants_purge
from llminfra.deploys.tunnels import retired_tunnels, tunnel_endpoint, tunnel_keypair

from test_deploys_plan import LINUX, TRIXIE, prepare, stack  # noqa: F401 - fixture


def test_gpu_teardown_removes_services_and_tunnel_login_keeps_data(stack):  # noqa: F811
    tunnel_keypair(stack, "gw-1")  # the key was handed out by an earlier deploy
    names = prepare(gpu_teardown, stack, "gpu-2", LINUX)
    assert names[:3] == ["Teardown GPU host | Model services",
                         "Teardown GPU host | Revoke gw-1's tunnel key",
                         "Teardown GPU host | Tunnel login user llminfra-tunnel"]
    assert not [n for n in names if "Purge" in n]
    purged = prepare(partial(gpu_teardown, purge=True), stack, "gpu-2", LINUX)
    assert "Teardown GPU host | Purge /opt/llminfra" in purged


def test_gateway_teardown_order(stack):  # noqa: F811
    found = {"find /opt/llminfra/oneapi": "/opt/llminfra/oneapi/secrets.env"}
    names = prepare(gateway_teardown, stack, "gw-1", {**LINUX, "-release": TRIXIE, **found})
    order = ["Teardown gateway | Tunnel units", "Teardown gateway | autossh user",
             "Teardown gateway | OneAPI Compose project down",
             "Teardown gateway | Remove OneAPI secrets.env",
             "Teardown gateway | Remove site /etc/nginx/conf.d/llminfra-gateway.conf"]
    assert [n for n in names if n in order] == order
    assert not [n for n in names if "Purge" in n]


def test_teardown_dispatches_by_role_with_one_barrier(stack):  # noqa: F811
    relay = prepare(teardown, stack, "relay-1", LINUX)
    assert relay[0] == "Barrier: gateways torn down"
    assert "Teardown relay | Remove site /etc/nginx/conf.d/llminfra-relay.conf" in relay


def test_purge_is_asked_explicitly():
    assert [wants_purge(v) for v in (True, "true", "YES", "1", None, False, "no", "")] == [
        True, True, True, True, False, False, False, False]


def test_direct_host_revokes_a_key_it_was_given(stack):  # noqa: F811
    tunnel_keypair(stack, "gw-1")
    assert prepare(tunnel_endpoint, stack, "gpu-1", LINUX) == [
        "Tunnel endpoint | Revoke gw-1's tunnel key"]


def test_retired_tunnels_keep_the_declared_ones(stack):  # noqa: F811
    names = prepare(retired_tunnels, stack, "gw-1", LINUX)
    assert names == ["Retired tunnels | Unpin host keys no longer tunnelled",
                     "Retired tunnels | Tunnel units no longer declared"]


def test_a_removed_gpu_host_loses_its_pin_on_the_gateway(stack):  # noqa: F811
    pins = {"find /etc/llminfra/tunnel": ["/etc/llminfra/tunnel/known_hosts.gpu-2",
                                          "/etc/llminfra/tunnel/known_hosts.gpu-9"]}
    inventory = Inventory(([("@fake/gw-1", {"fake_responses": {**LINUX, **pins},
                                            "fake_delay": 0})], {}))
    state = State(inventory, Config())
    connect_all(state)
    add_deploy(state, retired_tunnels, stack, "gw-1")
    host = inventory.get_host("@fake/gw-1")
    unpin = next(h for h in state.get_op_order()
                 if "Retired tunnels | Unpin host keys no longer tunnelled"
                 in state.get_op_meta(h).names)
    with ctx_state.use(state), ctx_host.use(host):
        commands = [str(c) for c in state.get_op_data_for_host(host, unpin).command_generator()]
    assert commands == ["rm -f /etc/llminfra/tunnel/known_hosts.gpu-9"]
