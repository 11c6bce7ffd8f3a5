"""Declared gateway objects. Managed objects carry :data:`MARKER` in their OneAPI name.

Built from a validated stack (`from_stack`): names, lengths, CIDRs, weights and secret values were
checked by the model (`llminfra.model.validate`), so these only normalise.
"""
import json
from dataclasses import dataclass, field

MARKER = "lmi/"


def managed_name(name):
    return MARKER + name


def is_managed(server_name):
    return server_name.startswith(MARKER)


def _clean_list(values):
    out = []
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
    ``model_mapping`` maps public model names to upstream names.
    """

    name: str
    type: int
    base_url: str
    models: tuple
    key: str = field(repr=False)
    model_mapping: tuple = ()
    priority: int = 0
    weight: int = 0
    groups: tuple = ("default",)
    enabled: bool = True

    def __post_init__(self):
        mapping = self.model_mapping
        pairs = tuple(sorted(mapping.items() if isinstance(mapping, dict) else mapping))
        object.__setattr__(self, "model_mapping", tuple((str(k), str(v)) for k, v in pairs))
        object.__setattr__(self, "models", _clean_list(self.models))
        object.__setattr__(self, "groups", _clean_list(self.groups))

    @property
    def server_name(self):
        return managed_name(self.name)

    @property
    def group_string(self):
        return ",".join(self.groups)

    @property
    def mapping_json(self):
        """The stored ``model_mapping`` string (``""`` when there is none)."""
        return json.dumps(dict(self.model_mapping), sort_keys=True) if self.model_mapping else ""


@dataclass(frozen=True)
class DesiredToken:
    """One relay token owned by the admin user. ``expired_time`` -1 = never expires."""

    name: str
    unlimited: bool = True
    remain_quota: int = 0
    expired_time: int = -1
    models: tuple = ()
    subnet: str = ""
    enabled: bool = True

    def __post_init__(self):
        object.__setattr__(self, "models", _clean_list(self.models))
        object.__setattr__(self, "subnet", ",".join(_clean_list(self.subnet)))

    @property
    def server_name(self):
        return managed_name(self.name)

    def wire(self):
        """Full token body (OneAPI overwrites every one of these fields on update)."""
        return {"name": self.server_name, "expired_time": self.expired_time,
                "remain_quota": self.remain_quota, "unlimited_quota": self.unlimited,
                "models": ",".join(self.models), "subnet": self.subnet}


@dataclass(frozen=True)
class DesiredState:
    """Everything llminfra manages on one gateway."""

    channels: tuple = ()
    tokens: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "tokens", tuple(self.tokens))
