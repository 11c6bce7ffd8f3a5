"""apt installs from deploy code: announced to the host's batched state, then one op."""

from __future__ import annotations

from llminfra.facts.host import prefetch
from llminfra.operations import packages as apt_packages


def install(name: str, packages: list[str], **kwargs):
    prefetch(packages=packages)
    return apt_packages.installed(name=name, packages=packages, **kwargs)
