"""Declared gateway objects. Managed objects carry :data:`MARKER` in their OneAPI name.

Built from a validated stack (`from_stack`): names, lengths, CIDRs, weights and secret values were
checked by the model (`llminfra.model.validate`), so these only normalise.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MARKER = "lmi/"


def managed_name(name: str) -> str:
    return MARKER + name


def is_managed(server_name: str) -> bool:
    return server_name.startswith(MARKER)


def _clean_list(values: str | Iterable[object]) -> tuple[str, ...]:
    out: list[str] = []
    for value in ([values] if isinstance(values, str) else values):
        for item in str(value).split(","):
            item = item.strip()
            if item and item not in out:
                out.append(item)
    return tuple(out)


@dataclass(frozen=True)
class DesiredChannel:
    """One OneAPI channel (one row: a single key; multi-key fan-out is not used).

    ``models`` and ``groups`` are normalised (trimmed, de-duplicated, order kept);
    ``model_mapping`` maps public model names to upstream names. ``billed``: the upstream
    charges per call (an external provider), so it is tested only when asked. ``chat``: the
    upstream answers chat requests (the gateway's channel test is one); False for embeddings.
    """

    name: str
    type: int
    base_url: str
    models: tuple[str, ...]
    key: str = field(repr=False)
    model_mapping: tuple[tuple[str, str], ...] = ()
    priority: int = 0
    weight: int = 0
    groups: tuple[str, ...] = ("default",)
    enabled: bool = True
    billed: bool = False
    chat: bool = True

    def __post_init__(self) -> None:
        mapping: Any = self.model_mapping
        pairs = tuple(sorted(mapping.items() if isinstance(mapping, Mapping) else mapping))
        object.__setattr__(self, "model_mapping", tuple((str(k), str(v)) for k, v in pairs))
        object.__setattr__(self, "models", _clean_list(self.models))
        object.__setattr__(self, "groups", _clean_list(self.groups))

    @property
    def server_name(self) -> str:
        return managed_name(self.name)

    @property
    def group_string(self) -> str:
        return ",".join(self.groups)

    @property
    def mapping_json(self) -> str:
        """The stored ``model_mapping`` string (``""`` when there is none)."""
        return json.dumps(dict(self.model_mapping), sort_keys=True) if self.model_mapping else ""


@dataclass(frozen=True)
class DesiredToken:
    """One relay token owned by the admin user. ``expired_time`` -1 = never expires."""

    name: str
    unlimited: bool = True
    remain_quota: int = 0
    expired_time: int = -1
    models: tuple[str, ...] = ()
    subnet: str = ""
    enabled: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "models", _clean_list(self.models))
        object.__setattr__(self, "subnet", ",".join(_clean_list(self.subnet)))

    @property
    def server_name(self) -> str:
        return managed_name(self.name)

    def wire(self) -> dict[str, Any]:
        """Full token body (OneAPI overwrites every one of these fields on update)."""
        return {"name": self.server_name, "expired_time": self.expired_time,
                "remain_quota": self.remain_quota, "unlimited_quota": self.unlimited,
                "models": ",".join(self.models), "subnet": self.subnet}


@dataclass(frozen=True)
class DesiredState:
    """Everything llminfra manages on one gateway."""

    channels: tuple[DesiredChannel, ...] = ()
    tokens: tuple[DesiredToken, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "tokens", tuple(self.tokens))
