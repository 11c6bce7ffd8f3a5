"""Shared pydantic base and small reusable field types for the stack model."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# A name that is safe as a file name, a Compose project name and an nginx/systemd token.
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$|^[a-z0-9]$")
SECRET_RE = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")


class Strict(BaseModel):
    """Every settings object: unknown keys are errors, assignment re-validates."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


def _check_name(value: str) -> str:
    if not NAME_RE.match(value):
        raise ValueError(
            f"{value!r} is not a valid name (lower-case letters, digits and '-', at most 40)"
        )
    return value


def _check_secret(value: str) -> str:
    if not SECRET_RE.match(value):
        raise ValueError(
            f"{value!r} is not a secret name: secrets are referenced by an UPPER_SNAKE name, "
            "never written inline"
        )
    return value


def _check_abs(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"{value!r} is not an absolute path")
    return value.rstrip("/") or "/"


Name = Annotated[str, AfterValidator(_check_name)]
SecretName = Annotated[str, AfterValidator(_check_secret)]
AbsPath = Annotated[str, AfterValidator(_check_abs)]
Port = Annotated[int, Field(ge=1, le=65535)]


def check_cidrs(values: list[str], example: str = "") -> list[str]:
    """Every entry parses as an IPv4/IPv6 network (host bits allowed, as allow-lists write them)."""
    for i, cidr in enumerate(values):
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise ValueError(f"entry {i}: {cidr!r} is not a CIDR{example}") from None
    return values


def check_bridge_subnet(value: str) -> str:
    """A gateway engine's fixed Compose subnet: its first address is where tunnels listen."""
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a CIDR network ({exc})") from None
    if net.num_addresses < 4:
        raise ValueError("should have room for a few addresses (/30 or larger)")
    return value


def bridge_address(subnet: str) -> str:
    """First host address of a subnet: the bridge's own address on the host."""
    return str(next(ipaddress.ip_network(subnet).hosts()))
