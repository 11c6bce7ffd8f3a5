"""apt installs that refresh the package lists only when something is missing.

``apt.packages(update=True, cache_time=...)`` would report a change whenever the cache is
older than ``cache_time``, breaking "a second run changes nothing".
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.facts.deb import DebPackages
from pyinfra.operations import apt


def install(name: str, packages: list[str], **kwargs):
    installed = host.get_fact(DebPackages) or {}
    missing = [package for package in packages if package not in installed]
    return apt.packages(name=name, packages=packages, update=bool(missing), **kwargs)
