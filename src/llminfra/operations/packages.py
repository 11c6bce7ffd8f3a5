"""apt packages, decided from the host's batched state (one ``dpkg-query`` for all of them)."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import operation

from llminfra.commands.apt import apt_install
from llminfra.facts.batch import expecting
from llminfra.facts.host import observe, wanted


@expecting(lambda packages, **_: [wanted(packages=packages)])
@operation()
def installed(packages: list[str], no_recommends: bool = False):
    """
    Install the ``packages`` that are missing, refreshing the package lists first.

    + packages: Debian package names
    + no_recommends: leave out the packages they only recommend

    Nothing is refreshed while everything is installed: pyinfra's ``apt.packages(update=True,
    cache_time=...)`` would report a change whenever the cache is old, so a second run would
    not be a no-op.

    **Examples:**

    .. code:: python

        packages.installed(name="Install Nginx", packages=["nginx", "openssl"])
    """
    have = observe(packages=packages)["packages"]
    missing = [name for name in packages if name not in have]
    if not missing:
        host.noop(f"{', '.join(packages)} installed")
        return
    yield apt_install(missing, no_recommends=no_recommends)
