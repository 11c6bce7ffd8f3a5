"""Metrics: Prometheus on gateways, the node exporter and the nvidia-smi collector on GPU hosts
(Debian's packages; see render/metrics.py for why the GPU side is a textfile collector)."""

from __future__ import annotations

import posixpath
from io import StringIO

from pyinfra.api import deploy
from pyinfra.operations import systemd
from pyinfra.operations.util import any_changed

from llminfra.commands.net import reach
from llminfra.model import Stack
from llminfra.model.metrics import (
    PROMETHEUS_BIND, duration_seconds, exporter_bind, exports_gpus, exports_node, host_metrics, metrics_of,
)
from llminfra.operations import paths, private
from llminfra.operations import systemd as kit_systemd
from llminfra.operations import prometheus as scrapes
from llminfra.operations.http import answers
from llminfra.render.files import RenderedFile
from llminfra.render.metrics import (
    GPU_UNIT, KEY_DIR, NODE_DEFAULTS, PROMETHEUS_DEFAULTS, prometheus_key_files,
    render_gpu_collector, scrape_targets, render_node_defaults, render_prometheus_config,
    render_prometheus_defaults,
)

from ._apt import install

PROMETHEUS = "prometheus"  # Debian's package, service and user
NODE_EXPORTER = "prometheus-node-exporter"
READY_TIMEOUT = 60


def _put(what: str, rendered: RenderedFile):
    return paths.file(name=what, src=StringIO(rendered.content), path=rendered.path_on_host,
                      mode=rendered.mode.lstrip("0") or "0")  # fmt: skip


def _retire(service: str, defaults: str) -> None:
    """Metrics turned off: stop what the kit set up (its defaults file says so); data stays."""
    kit_systemd.retired(name=f"{service} stopped (metrics off)", unit=service, kit_file=defaults)


def retire_prometheus() -> None:
    """Stop the Prometheus the kit set up (metrics off, teardown); its data stays."""
    _retire(PROMETHEUS, PROMETHEUS_DEFAULTS)


def retire_exporters() -> None:
    """Stop the GPU metrics timer and node exporter the kit set up; their data stays."""
    _retire(f"{GPU_UNIT}.timer", f"/etc/systemd/system/{GPU_UNIT}.timer")
    _retire(NODE_EXPORTER, NODE_DEFAULTS)


@deploy("Prometheus")
def prometheus(stack: Stack, gateway: str) -> None:
    """
    Debian's Prometheus on the gateway's loopback, scraping what the gateway reaches.

    + stack: the loaded stack
    + gateway: key of ``stack.gateways``

    Its arguments and configuration are written before the package is installed: the
    package starts Prometheus at once, and it must never listen on a public address.
    """
    m = metrics_of(stack, gateway)
    if m is None:
        retire_prometheus()
        return
    args = _put("Prometheus arguments (loopback only)", render_prometheus_defaults(stack, gateway))
    config = _put("Prometheus scrape configuration", render_prometheus_config(stack, gateway))
    installed = install("Install Prometheus", [PROMETHEUS], no_recommends=True)
    paths.directory(name="Model server keys directory", path=KEY_DIR, user=PROMETHEUS,
                    group=PROMETHEUS, mode="700")  # fmt: skip
    keys = prometheus_key_files(stack, gateway)
    changed = [args, config, installed]
    for key in keys:
        changed.append(private.file(
            name=f"Key {posixpath.basename(key.path_on_host)}", path=key.path_on_host,
            src=StringIO(key.content), user=PROMETHEUS, group=PROMETHEUS))
    paths.absent_except(name="Keys no longer scraped", directory=KEY_DIR, fname="*.key",
                        keep=[k.path_on_host for k in keys])  # fmt: skip
    systemd.service(name="Restart Prometheus (arguments changed)", service=PROMETHEUS,
                    restarted=True, _if=args.did_change)  # fmt: skip
    systemd.service(name="Reload Prometheus (targets changed)", service=PROMETHEUS, reloaded=True,
                    _if=config.did_change)  # fmt: skip
    kit_systemd.running(name="Prometheus running", unit=PROMETHEUS)
    base = f"http://{reach(PROMETHEUS_BIND)}:{m.port}"
    answers(name="Prometheus is ready", url=f"{base}/-/ready", what="Prometheus /-/ready",
            timeout=READY_TIMEOUT)  # fmt: skip
    # Proves every exporter and model server is reachable the way it was declared, whenever
    # what Prometheus scrapes changed. Not on an unchanged run: a target restarted since its
    # last scrape (a model server, the engine) reads down until the next one, and waiting
    # for that would be reported as a change.
    scrapes.scraped(name="Prometheus scrapes every target", url=base,
                    targets=len(scrape_targets(stack, gateway)) + 1,  # + Prometheus itself
                    timeout=READY_TIMEOUT + 2 * int(duration_seconds(m.scrape_interval)),
                    _if=any_changed(*changed))  # fmt: skip


@deploy("Node exporter")
def node_exporter(stack: Stack, host_name: str) -> None:
    """
    Debian's node exporter on a GPU host (loopback behind a tunnel, else the private address)
    and, where GPUs are, nvidia-smi on a timer feeding its textfile collector.

    + stack: the loaded stack
    + host_name: key of ``stack.gpu_hosts``
    """
    if not exports_node(stack, host_name):
        retire_exporters()
        return
    m = host_metrics(stack, host_name)
    assert m is not None
    # before the package: it starts the exporter at once, which must not listen on every address
    args = _put("Node exporter arguments", render_node_defaults(stack, host_name))
    install("Install the node exporter", [NODE_EXPORTER], no_recommends=True)
    systemd.service(name="Restart the node exporter (arguments changed)", service=NODE_EXPORTER,
                    restarted=True, _if=args.did_change)  # fmt: skip
    kit_systemd.running(name="Node exporter running", unit=NODE_EXPORTER)
    timer = f"{GPU_UNIT}.timer"
    if exports_gpus(stack, host_name):
        script, service, unit = render_gpu_collector(stack, host_name)
        changed = [_put("nvidia-smi to Prometheus text", script),
                   _put(f"{GPU_UNIT}.service", service), _put(timer, unit)]
        systemd.daemon_reload(name="systemd daemon-reload (GPU metrics)",
                              _if=any_changed(*changed))  # fmt: skip
        systemd.service(name="Restart the GPU metrics timer", service=timer, restarted=True,
                        _if=any_changed(*changed))  # fmt: skip
        kit_systemd.running(name="GPU metrics timer running", unit=timer)
    else:
        _retire(timer, f"/etc/systemd/system/{timer}")
    gpu = stack.gpu_hosts[host_name]
    # one collector (the textfile one, always on) proves it serves metrics at a third of
    # the CPU a full scrape costs the host on every run; Prometheus scrapes everything later
    answers(name="Node exporter answers",
            url=f"http://{reach(exporter_bind(gpu))}:{m.node_exporter_port}"
                "/metrics?collect%5B%5D=textfile",
            what="node exporter /metrics", timeout=READY_TIMEOUT)  # fmt: skip
