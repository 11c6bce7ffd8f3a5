"""systemd units: running and enabled, or (the kit's own) gone once no longer wanted."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import operation

from pyinfra.facts.files import FindInFile

from llminfra.commands.systemd import KIT_HEADER, daemon_reload, unit_remove, unit_start, unit_stop
from llminfra.facts import batch
from llminfra.facts.batch import expecting
from llminfra.facts.host import observe, wanted
from llminfra.facts.systemd import KitUnits


@expecting(lambda prefix, **_: [(KitUnits, {"prefix": prefix})])
@operation()
def units_absent(prefix: str, keep: list[str]):
    """
    Stop, disable and delete the kit's ``<prefix>*.service`` units not in ``keep``.

    + prefix: unit name prefix, e.g. ``llminfra-tunnel-``
    + keep: unit names (without ``.service``) still wanted; ``[]`` removes them all

    Only unit files carrying the kit's header are candidates; one ``daemon-reload`` follows.

    **Examples:**

    .. code:: python

        systemd.units_absent(
            name="Tunnels no longer declared",
            prefix="llminfra-tunnel-",
            keep=["llminfra-tunnel-gpu-2-vllm"],
        )
    """
    found = batch.get(KitUnits, prefix=prefix)
    stale = sorted(set(found) - set(keep))
    if not stale:
        host.noop(f"no undeclared {prefix}* unit")
        return
    for unit in stale:
        yield unit_remove(unit)
    yield daemon_reload()


# is-enabled answers under which a unit starts at boot without `systemctl enable`
BOOTS = ("enabled", "static", "generated", "alias")


@expecting(lambda unit: [wanted(units=[unit])])
@operation()
def running(unit: str):
    """
    Keep ``unit`` running and enabled at boot.

    + unit: the unit, e.g. ``nginx`` or ``llminfra-tunnel-gpu-2-ollama.service``

    **Examples:**

    .. code:: python

        systemd.running(name="Nginx running and enabled", unit="nginx")
    """
    seen = observe(units=[unit])["units"][unit]
    enable, start = seen["enabled"] not in BOOTS, seen["active"] != "active"
    if not (enable or start):
        host.noop(f"{unit} is running and enabled")
        return
    yield unit_start(unit, enable=enable, start=start)


def _kit_file_fact(kit_file: str):
    return FindInFile, {"path": kit_file, "pattern": f"^{KIT_HEADER}"}


@expecting(lambda unit, kit_file: [_kit_file_fact(kit_file), wanted(units=[unit])])
@operation()
def retired(unit: str, kit_file: str):
    """
    Stop ``unit`` and keep it from starting at boot, if the kit set it up: ``kit_file`` (its
    unit or defaults file) starts with the kit's header. Anything else is left alone.

    + unit: the unit, e.g. ``prometheus``
    + kit_file: the file the kit wrote for it

    **Examples:**

    .. code:: python

        systemd.retired(name="Prometheus stopped (metrics off)", unit="prometheus",
                        kit_file="/etc/default/prometheus")
    """
    if not batch.read(_kit_file_fact(kit_file)):
        host.noop(f"{unit} was not set up by llminfra")
        return
    seen = observe(units=[unit])["units"][unit]
    if seen["active"] != "active" and seen["enabled"] not in BOOTS:
        host.noop(f"{unit} is stopped")
        return
    yield unit_stop(unit)
