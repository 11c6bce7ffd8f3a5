"""Removal finds what the kit made by the header on the first line of its files: every
rendered service compose file and tunnel unit must carry it, or removal would miss them."""

from llminfra.commands.compose import KIT_HEADER as COMPOSE_HEADER
from llminfra.commands.systemd import KIT_HEADER as UNIT_HEADER
from llminfra.render import render_service_compose, render_tunnel_unit


def test_service_compose_files_start_with_the_kit_header(prod):
    for host, gpu in prod.gpu_hosts.items():
        for svc in gpu.services:
            first = render_service_compose(prod, host, svc).content.splitlines()[0]
            assert first.startswith(COMPOSE_HEADER)


def test_tunnel_units_start_with_the_kit_header(prod):
    tunnels = prod.tunnels()
    assert tunnels
    for tunnel in tunnels:
        assert render_tunnel_unit(prod, tunnel).content.splitlines()[0].startswith(UNIT_HEADER)
