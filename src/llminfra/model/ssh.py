"""How the operator (and the gateway's tunnels) reach a host over SSH."""

from __future__ import annotations

from pydantic import Field, field_validator

from .base import Port, Strict

HOST_KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                  "ecdsa-sha2-nistp521", "ssh-rsa")


class SshSettings(Strict):
    host: str = Field(description="Address or DNS name the operator's machine connects to.")
    port: Port = Field(22, description="SSH port.")
    user: str = Field("root", description="Login user (needs root or passwordless sudo).")
    key: str | None = Field(
        None, description="Private key file on the operator's machine; `~` is expanded."
    )
    host_key: str | None = Field(
        None,
        description="Pinned public host key, e.g. `ssh-ed25519 AAAA...`. Written to a generated "
        "known_hosts file; connections to any other key are refused.",
    )
    known_hosts: str | None = Field(
        None, description="A known_hosts file to use instead of `host_key`."
    )
    sudo: bool = Field(False, description="Run operations with sudo (when `user` is not root).")

    @field_validator("host_key")
    @classmethod
    def _key_shape(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = value.split()
        if len(parts) < 2 or parts[0] not in HOST_KEY_TYPES:
            raise ValueError(
                "should be a public host key line such as 'ssh-ed25519 AAAA...' "
                "(see /etc/ssh/ssh_host_ed25519_key.pub on the host)"
            )
        return " ".join(parts[:2])
