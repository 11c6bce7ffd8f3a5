"""apt installs from deploy code: one kit op (its packages join the host's batched state)."""

from __future__ import annotations

from llminfra.operations import packages as apt_packages


def install(name: str, packages: list[str], **kwargs):
    return apt_packages.installed(name=name, packages=packages, **kwargs)
