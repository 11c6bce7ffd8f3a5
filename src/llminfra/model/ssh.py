"""How the operator (and the gateway's tunnels) reach a host over SSH."""

from __future__ import annotations

from pydantic import Field

from .base import Port, SecretName, Strict
from .types import HOST_KEY_TYPES, HostAddress, HostKey, LocalPath, UnixUser

__all__ = ["HOST_KEY_TYPES", "SshSettings"]


class SshSettings(Strict):
    host: HostAddress = Field(description="Address or DNS name the operator's machine connects to.")
    port: Port = Field(22, description="SSH port.")
    user: UnixUser = Field("root", description="Login user (needs root or passwordless sudo).")
    key: LocalPath | None = Field(
        None, description="Private key file on the operator's machine; `~` is expanded. "
        "Default: the keys ssh-agent offers (as pyinfra does)."
    )
    key_password: SecretName | None = Field(
        None, description="Secret holding the passphrase of `key`, if it has one (pyinfra's "
        "`ssh_key_password`). Without it, an encrypted key is used through ssh-agent."
    )
    host_key: HostKey | None = Field(
        None,
        description="Pinned public host key, e.g. `ssh-ed25519 AAAA...`. Written to a generated "
        "known_hosts file; connections to any other key are refused. This or `known_hosts` is "
        "required: `check` and the deploy refuse a host with neither (`llminfra hostkey` shows "
        "the key a host presents).",
    )
    known_hosts: LocalPath | None = Field(
        None, description="A known_hosts file to use instead of `host_key`."
    )
    sudo: bool = Field(False, description="Run operations with sudo (when `user` is not root).")
