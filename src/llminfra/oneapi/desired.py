"""Declared gateway objects. Managed objects carry :data:`MARKER` in their OneAPI name."""
import ipaddress
import json
from dataclasses import dataclass, field

MARKER = "lmi/"
TOKEN_NAME_MAX = 30 - len(MARKER.encode())  # OneAPI caps token names at 30 bytes
GROUP_MAX = 32  # abilities.group / channels.group width on MySQL/PostgreSQL


def managed_name(name):
    return MARKER + name


def is_managed(server_name):
    return server_name.startswith(MARKER)


def _clean_list(values, what):
    out = []
    for value in ([values] if isinstance(values, str) else values):
        for item in str(value).split(","):
            item = item.strip()
            if item and item not in out:
                out.append(item)
    if not out:
        raise ValueError(f"{what} must not be empty")
    return tuple(out)


def _check_name(name, limit=None):
    if not name or name != name.strip() or "\n" in name:
        raise ValueError(f"invalid managed name {name!r}")
    if limit is not None and len(name.encode()) > limit:
        raise ValueError(f"name {name!r} is longer than {limit} bytes")


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
        _check_name(self.name)
        if not self.key or "\n" in self.key or "\r" in self.key:
            raise ValueError(f"channel {self.name!r}: key must be one non-empty line")
        mapping = self.model_mapping
        pairs = tuple(sorted(mapping.items() if isinstance(mapping, dict) else mapping))
        object.__setattr__(self, "model_mapping", tuple((str(k), str(v)) for k, v in pairs))
        object.__setattr__(self, "models", _clean_list(self.models, "models"))
        object.__setattr__(self, "groups", _clean_list(self.groups, "groups"))
        if len(self.group_string) > GROUP_MAX:
            raise ValueError(f"channel {self.name!r}: groups exceed {GROUP_MAX} characters")
        if self.weight < 0:
            raise ValueError(f"channel {self.name!r}: weight must be >= 0")

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
        _check_name(self.name, TOKEN_NAME_MAX)
        models = _clean_list(self.models, "models") if self.models else ()
        object.__setattr__(self, "models", models)
        nets = [n.strip() for n in self.subnet.split(",") if n.strip()]
        for net in nets:
            ipaddress.ip_network(net, strict=False)  # ValueError on a bad CIDR
        object.__setattr__(self, "subnet", ",".join(nets))
        if self.expired_time == 0:
            raise ValueError(f"token {self.name!r}: expired_time 0 means expired; use -1")

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
        for kind, items in (("channel", self.channels), ("token", self.tokens)):
            names = [i.name for i in items]
            dups = sorted({n for n in names if names.count(n) > 1})
            if dups:
                raise ValueError(f"duplicate {kind} names: {', '.join(dups)}")
