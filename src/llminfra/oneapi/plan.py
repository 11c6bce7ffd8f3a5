"""The reconcile plan: per-object actions with field-level changes, rendered without secrets.

A plan can be saved (JSON without any secret) and applied later, so a deploy reads the gateway
and decides once: the plan shown during pyinfra's planning phase is the one executed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

from .desired import DesiredChannel, DesiredState, DesiredToken
from .registry import Registry
from .wire import AUTO_DISABLED, ChannelRow, Row, TokenRow

Kind = Literal["root", "channel", "token"]
# create/update/delete write; verify: root's password is checked by logging in (and set if
# needed) at apply; conflict: a human must decide (duplicates, or an object the kit did not
# make); unowned: a managed-looking name the kit did not make and that is not declared.
Op = Literal["create", "update", "delete", "verify", "unchanged", "orphan", "conflict",
             "unowned"]
PENDING_OPS: tuple[Op, ...] = ("create", "update", "delete", "verify")
OP_ORDER: dict[str, int] = {"verify": 0, "create": 1, "update": 2, "delete": 3}
MASK = "******"
PLAN_FORMAT = 1

Desired = DesiredChannel | DesiredToken


@dataclass(frozen=True)
class Change:
    """One differing field. Secret fields never render their values."""

    field: str
    old: object
    new: object
    secret: bool = False
    note: str = ""

    def render(self) -> str:
        if self.secret:
            text = f"{self.field}: {MASK} -> {MASK}"
        else:
            text = f"{self.field}: {_short(self.old)} -> {_short(self.new)}"
        return f"{text} ({self.note})" if self.note else text


def _short(value: object, limit: int = 60) -> str:
    text = "(none)" if value is None else repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


@dataclass(frozen=True)
class Action:
    """What happens to one object (see :data:`Op`)."""

    kind: Kind
    op: Op
    name: str
    id: int | None = None
    changes: tuple[Change, ...] = ()
    reason: str = ""
    desired: Desired | None = field(default=None, repr=False, compare=False)
    server: Row | None = field(default=None, repr=False, compare=False)

    @property
    def writes(self) -> bool:
        return self.op in PENDING_OPS

    def changed(self, name: str) -> bool:
        return any(c.field == name for c in self.changes)

    @property
    def channel(self) -> DesiredChannel:
        assert isinstance(self.desired, DesiredChannel)
        return self.desired

    @property
    def token(self) -> DesiredToken:
        assert isinstance(self.desired, DesiredToken)
        return self.desired

    @property
    def auto_disabled(self) -> bool:
        """A channel the gateway disabled itself that this plan leaves disabled."""
        return (self.kind == "channel" and self.server is not None
                and self.server.get("status") == AUTO_DISABLED and not self.changed("status")
                and self.op in ("unchanged", "update"))


@dataclass(frozen=True)
class Plan:
    """Result of :func:`llminfra.oneapi.reconcile.plan`; feed it to ``apply``.

    ``channels``/``tokens`` are the server snapshot the plan was computed from (for the
    pre-write backup and to tell new objects from old after a create); ``registry`` is the
    ownership record read with it.
    """

    actions: tuple[Action, ...]
    channels: tuple[ChannelRow, ...] = field(default=(), repr=False)
    tokens: tuple[TokenRow, ...] = field(default=(), repr=False)
    prune: bool = False
    root_password: str | None = field(default=None, repr=False)
    registry: Registry = field(default_factory=Registry, repr=False)
    desired_digest: str = ""

    @property
    def writes(self) -> tuple[Action, ...]:
        """Actions that change the gateway, in execution order."""
        return tuple(a for a in self.actions if a.writes)

    @property
    def is_empty(self) -> bool:
        return not self.writes

    @property
    def conflicts(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.op == "conflict")

    def summary(self) -> str:
        ops: tuple[Op, ...] = get_args(Op)
        counts = {op: sum(1 for a in self.actions if a.op == op) for op in ops}
        text = ", ".join(f"{n} {op}" for op, n in counts.items() if n)
        disabled = sum(1 for a in self.actions if a.auto_disabled)
        if disabled:
            text += f", {disabled} disabled by the gateway"
        return text or "nothing declared or managed"

    def render_table(self) -> str:
        """Human table of every action; secrets (channel/token keys) are masked."""
        header = ("KIND", "NAME", "ID", "ACTION", "DETAILS")
        rows: list[tuple[str, str, str, str, str]] = []
        for a in self.actions:
            details = [c.render() for c in a.changes] + ([a.reason] if a.reason else [])
            details = details or [""]
            rows.append((a.kind, a.name, "" if a.id is None else str(a.id), a.op, details[0]))
            rows.extend(("", "", "", "", d) for d in details[1:])
        widths = [max(len(r[i]) for r in rows + [header]) for i in range(4)]
        lines = []
        for r in [header] + rows:
            lines.append("  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4])
        lines.append(f"Plan: {self.summary()}.")
        return self.scrub("\n".join(line.rstrip() for line in lines))

    def notices(self) -> list[str]:
        """One line per object that needs an operator's attention."""
        out = [f"{a.kind} {a.name}: {a.reason}" for a in self.conflicts]
        out += [f"channel {a.name} (id {a.id}) was disabled by the gateway (status 3), "
                "probably after failed requests; it stays disabled - --reenable turns it on"
                for a in self.actions if a.auto_disabled]
        return [self.scrub(line) for line in out]

    def scrub(self, text: str) -> str:
        # Defence in depth: no key value may survive into printable output.
        secrets = [a.desired.key for a in self.actions if isinstance(a.desired, DesiredChannel)]
        secrets += [t.get("key") or "" for t in self.tokens]
        if self.root_password:
            secrets.append(self.root_password)
        for secret in sorted(filter(lambda s: len(s) >= 4, secrets), key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text

    # -- saved plans ----------------------------------------------------------------------
    def to_json(self) -> str:
        """The plan without secrets: token keys are dropped from rows, desired objects are
        referenced by name and re-read from the inventory when the plan is loaded."""
        return json.dumps({
            "format": PLAN_FORMAT, "prune": self.prune, "digest": self.desired_digest,
            "registry": self.registry.encode(),
            "channels": [_public(r) for r in self.channels],
            "tokens": [_public(r) for r in self.tokens],
            "actions": [{"kind": a.kind, "op": a.op, "name": a.name, "id": a.id,
                         "reason": a.reason,
                         "server": None if a.server is None else _public(a.server),
                         "changes": [[c.field, None if c.secret else c.old,
                                      None if c.secret else c.new, c.secret, c.note]
                                     for c in a.changes]}
                        for a in self.actions],
        }, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, desired: DesiredState, root_password: str | None,
                  digest: str) -> Plan:
        """Load a saved plan; ``digest`` is that of the inventory now. Raises ValueError when
        the plan was made from another inventory (re-plan)."""
        doc = json.loads(text)
        if doc.get("format") != PLAN_FORMAT:
            raise ValueError("saved plan has an unknown format; re-plan")
        if doc.get("digest") != digest:
            raise ValueError("the inventory changed since the plan was saved; re-plan")
        by_name: dict[tuple[str, str], Desired] = {}
        by_name.update({("channel", c.server_name): c for c in desired.channels})
        by_name.update({("token", t.server_name): t for t in desired.tokens})
        actions = []
        for a in doc["actions"]:
            changes = tuple(Change(f, old, new, bool(secret), note)
                            for f, old, new, secret, note in a["changes"])
            actions.append(Action(a["kind"], a["op"], a["name"], a["id"], changes, a["reason"],
                                  by_name.get((a["kind"], a["name"])), a["server"]))
        return cls(tuple(actions), tuple(cast(list[ChannelRow], doc["channels"])),
                   tuple(cast(list[TokenRow], doc["tokens"])), bool(doc["prune"]),
                   root_password, Registry.decode(doc["registry"]), digest)


def _public(row: Row) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "key"}
