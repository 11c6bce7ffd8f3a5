"""What differs between OneAPI and New-API on the wire, in one place (docs/gateway-contract.md §10).

The client speaks OneAPI's field names to its callers; this module translates the request
bodies, response objects and paging rules of the selected flavour.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

ONEAPI: Final = "oneapi"
NEWAPI: Final = "newapi"
FLAVORS: Final = (ONEAPI, NEWAPI)

# Vendor kind -> channel type id per flavour (§6 and §10.5): the ids diverge after 33.
CHANNEL_TYPES: Final[dict[str, dict[str, int]]] = {
    ONEAPI: {"openai": 1, "azure": 3, "custom": 8, "anthropic": 14, "gemini": 24,
             "ollama": 30, "deepseek": 36, "openai-compatible": 50},
    NEWAPI: {"openai": 1, "azure": 3, "custom": 8, "anthropic": 14, "gemini": 24,
             "ollama": 4, "deepseek": 43, "openai-compatible": 1},
}

# OneAPI pages are fixed at 10 items; New-API takes page_size and caps it at 100 (§10.3).
PAGE_SIZE: Final[dict[str, int]] = {ONEAPI: 10, NEWAPI: 100}
FIRST_PAGE: Final[dict[str, int]] = {ONEAPI: 0, NEWAPI: 1}
MASK: Final = "*"  # New-API shows token keys as "abcd**********wxyz" (§10.6)
KEY_PREFIX: Final = "sk-"

JsonObj = dict[str, Any]


def check_flavor(flavor: str) -> str:
    if flavor not in FLAVORS:
        raise ValueError(f"unknown gateway flavor {flavor!r}; expected one of {FLAVORS}")
    return flavor


def from_model(flavor: str) -> str:
    """The inventory spells the fork `new-api`; the client says `newapi`."""
    return NEWAPI if flavor in ("new-api", NEWAPI) else check_flavor(flavor)


def channel_type(kind: str, flavor: str = ONEAPI) -> int:
    """Numeric channel type for a vendor kind such as ``"openai-compatible"``."""
    try:
        return CHANNEL_TYPES[check_flavor(flavor)][kind]
    except KeyError:
        raise ValueError(f"no {flavor} channel type for {kind!r}") from None


def compatible_base_url(url: str, flavor: str = ONEAPI) -> str:
    """Base URL for an OpenAI-compatible server given as ``http://host:port[/v1]``.

    OneAPI's type 50 wants the version in the base URL; New-API's type 1 appends ``/v1``
    itself, so it must be absent there.
    """
    root = url.rstrip("/")
    root = root.removesuffix("/v1")
    return root + "/v1" if flavor == ONEAPI else root


def page_query(flavor: str, page: int, params: Mapping[str, Any] | None = None) -> JsonObj:
    query = dict(params or {}, p=page)
    if flavor == NEWAPI:
        query["page_size"] = PAGE_SIZE[NEWAPI]
    return query


def page_items(data: Any) -> tuple[list[JsonObj], int | None, bool]:
    """(items, total or None, paged) of a listing answer.

    OneAPI answers a bare array; New-API an object with ``items`` and ``total``; some
    New-API searches still answer a bare array of every match (then ``paged`` is False).
    """
    if isinstance(data, dict):
        items = data.get("items") or []
        total = data.get("total")
        return list(items), total if isinstance(total, int) else None, True
    return list(data or []), None, False


def prefix_keyword(keyword: str, flavor: str) -> str:
    """Search keyword that matches every name starting with ``keyword`` in the flavour.

    OneAPI searches ``LIKE kw%``; newer New-API builds match a keyword without ``%`` exactly
    and older ones as a substring, so an explicit trailing ``%`` is a prefix (or wider)
    search in both. Callers filter the answer by the exact names they want.
    """
    if flavor == NEWAPI and keyword and not keyword.endswith("%"):
        return keyword + "%"
    return keyword


def is_masked(key: str | None) -> bool:
    return bool(key) and MASK in str(key)


def bare_key(key: str) -> str:
    """Token keys are stored without ``sk-``; some New-API builds add it when they reveal one."""
    key = key.strip()
    return key.removeprefix(KEY_PREFIX)


def token_to_wire(fields: Mapping[str, Any], flavor: str) -> JsonObj:
    """OneAPI token fields (``models``, ``subnet``) -> the flavour's request body."""
    if flavor == ONEAPI:
        return dict(fields)
    body = {k: v for k, v in fields.items() if k not in ("models", "subnet")}
    models = fields.get("models") or ""
    body.update(model_limits_enabled=bool(models), model_limits=models,
                allow_ips="\n".join(filter(None, (fields.get("subnet") or "").split(","))))
    return body


def token_from_wire(token: Mapping[str, Any], flavor: str) -> JsonObj:
    """The flavour's token object -> OneAPI field names. A masked key stays masked (its ends
    can confirm a locally kept key; :func:`is_masked` tells it apart from a real one)."""
    out = dict(token)
    if flavor == NEWAPI:
        out["models"] = token.get("model_limits") or "" if token.get("model_limits_enabled") \
            else ""
        out["subnet"] = ",".join(filter(None, (token.get("allow_ips") or "").split("\n")))
        key = str(token.get("key") or "")
        out["key"] = key if is_masked(key) else bare_key(key)
    return out


def channel_create_body(fields: Mapping[str, Any], flavor: str) -> JsonObj:
    """New-API wraps a create in ``{"mode": "single", "channel": {...}}`` (§10.4)."""
    if flavor == ONEAPI:
        return dict(fields)
    return {"mode": "single", "channel": dict(fields)}
