"""Declared OneAPI objects: external channels and tokens."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import SecretName, Strict, check_cidrs
from .providers import ChannelKind
from .services.base import PRIORITY_MAX, PRIORITY_MIN
from .types import ChannelName, Date, GroupName, ModelName, RelayRef, TokenName, Url

QUOTA_MAX = 2**53 - 1
TOKEN_NAME_MAX = 26  # OneAPI caps names at 30 bytes and we prefix "lmi/"


def token_key_var(name: str) -> str:
    """Dotenv variable holding a token's key on the operator's machine (`LMI_TOKEN_WEB_APP`).
    Names that differ only in case or punctuation share it: validate refuses such pairs."""
    return "LMI_TOKEN_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


class ExternalChannel(Strict):
    name: ChannelName = Field(description="Channel name (unique among declared channels).")
    type: ChannelKind = Field(
        description="Channel kind: the API the upstream speaks (with `relay`, the provider's)."
    )
    relay: RelayRef | None = Field(
        None, description="`<relay host>/<provider kind>`: send through that relay."
    )
    base_url: Url | None = Field(None, description="Explicit base URL (instead of `relay`).")
    key: SecretName = Field(description="Secret holding the provider API key.")
    models: list[ModelName] = Field(min_length=1, max_length=256, description="Public model names.")
    model_mapping: dict[ModelName, ModelName] = Field({}, max_length=1024)
    priority: int | None = Field(None, ge=PRIORITY_MIN, le=PRIORITY_MAX,
                                 description="Higher wins. Default 0.")
    weight: int = Field(0, ge=0, le=PRIORITY_MAX)
    groups: list[GroupName] = Field(["default"], min_length=1, max_length=64)
    enabled: bool = True

    @model_validator(mode="after")
    def _target(self) -> ExternalChannel:
        if bool(self.relay) == bool(self.base_url):
            raise ValueError("set exactly one of relay or base_url")
        return self


class Token(Strict):
    # Names are matched byte for byte against what the gateway returns: TokenName keeps them
    # one line of plain ASCII without surrounding spaces.
    name: TokenName = Field(
        description=f"Token name, at most {TOKEN_NAME_MAX} characters: letters, digits, spaces "
        "and `._:@+-`, starting with a letter or digit. Unique ignoring case and punctuation "
        "(`web-app` and `Web_App` would share one key variable)."
    )
    quota: int | Literal["unlimited"] = Field(
        "unlimited", description="Quota units (500000 = $1) or `unlimited`."
    )
    expires: Date | None = Field(None, description="Expiry date (UTC midnight); none = never.")
    models: list[ModelName] = Field([], max_length=256, description="Allowed models; empty = any.")
    subnets: list[str] = Field([], max_length=256, description="Client CIDRs allowed; empty = any.")
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value or len(value.encode()) > TOKEN_NAME_MAX:
            raise ValueError(f"should be 1 to {TOKEN_NAME_MAX} bytes")
        return value

    @field_validator("expires")
    @classmethod
    def _expires(cls, value: dt.date | None) -> dt.date | None:
        if value is not None and value <= dt.date(1970, 1, 1):
            raise ValueError("should be after 1970-01-01 (OneAPI reads 0 as already expired)")
        return value

    @field_validator("quota")
    @classmethod
    def _quota(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 0:
            raise ValueError("should be >= 0 or 'unlimited'")
        if isinstance(value, int) and value > QUOTA_MAX:
            raise ValueError(f"should be at most {QUOTA_MAX} (JSON numbers beyond lose "
                             "precision) or 'unlimited'")
        return value

    @field_validator("subnets")
    @classmethod
    def _subnets(cls, value: list[str]) -> list[str]:
        return check_cidrs(value)

    @property
    def expired_time(self) -> int:
        if self.expires is None:
            return -1
        return int(dt.datetime.combine(self.expires, dt.time(), dt.UTC).timestamp())
