"""Shapes of the gateway's channel and token rows as the reconciler reads them.

Rows come from JSON, so every field may be missing; readers use ``.get`` with a default.
Token rows use OneAPI's field names (the client translates New-API's).
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict, cast

from .errors import OneAPIInconsistentRead

# Channel status: 1 enabled, 2 disabled by hand (or by us), 3 disabled by the gateway itself.
ENABLED, DISABLED, AUTO_DISABLED = 1, 2, 3


class ChannelRow(TypedDict, total=False):
    id: int
    type: int
    name: str
    key: str
    status: int
    base_url: str | None
    models: str
    group: str
    model_mapping: str | None
    priority: int | None
    weight: int | None
    created_time: int
    other: str | None
    config: str
    system_prompt: str | None


class TokenRow(TypedDict, total=False):
    id: int
    name: str
    key: str
    status: int
    created_time: int
    expired_time: int
    remain_quota: int
    unlimited_quota: bool
    used_quota: int
    models: str | None
    subnet: str | None


ObjectKind = Literal["channel", "token"]
Row = ChannelRow | TokenRow


def channel_rows(raw: Any, what: str) -> list[ChannelRow]:
    return [cast(ChannelRow, r) for r in _rows(raw, what)]


def token_rows(raw: Any, what: str) -> list[TokenRow]:
    return [cast(TokenRow, r) for r in _rows(raw, what)]


def _rows(raw: Any, what: str) -> list[dict[str, Any]]:
    # A row we cannot identify could be a managed object: planning without it could create a
    # twin or miss a conflict, so an odd answer stops the run.
    if not isinstance(raw, list):
        raise OneAPIInconsistentRead(f"{what}: expected a list, got {type(raw).__name__}")
    for r in raw:
        if not (isinstance(r, dict) and isinstance(r.get("id"), int)
                and isinstance(r.get("name"), str)):
            raise OneAPIInconsistentRead(f"{what}: a row without an integer id and a name")
    return raw
