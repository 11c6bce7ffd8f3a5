"""The reconcile plan: per-object actions with field-level changes, rendered without secrets."""
from dataclasses import dataclass, field

WRITE_OPS = ("create", "update", "delete")
MASK = "******"


@dataclass(frozen=True)
class Change:
    """One differing field. Secret fields never render their values."""

    field: str
    old: object
    new: object
    secret: bool = False
    note: str = ""

    def render(self):
        if self.secret:
            text = f"{self.field}: {MASK} -> {MASK}"
        else:
            text = f"{self.field}: {_short(self.old)} -> {_short(self.new)}"
        return f"{text} ({self.note})" if self.note else text


def _short(value, limit=60):
    text = "(none)" if value is None else repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


@dataclass(frozen=True)
class Action:
    """What happens to one object: ``op`` in create/update/delete/unchanged/orphan."""

    kind: str
    op: str
    name: str
    id: object = None
    changes: tuple = ()
    reason: str = ""
    desired: object = field(default=None, repr=False, compare=False)
    server: object = field(default=None, repr=False, compare=False)

    @property
    def writes(self):
        return self.op in WRITE_OPS


@dataclass(frozen=True)
class Plan:
    """Result of :func:`llminfra.oneapi.reconcile.plan`; feed it to ``apply``.

    ``channels``/``tokens`` are the server snapshot the plan was computed from
    (used for the pre-write backup).
    """

    actions: tuple
    channels: tuple = field(default=(), repr=False)
    tokens: tuple = field(default=(), repr=False)
    prune: bool = False
    root_password: object = field(default=None, repr=False)

    @property
    def writes(self):
        """Actions that change the gateway, in execution order."""
        return tuple(a for a in self.actions if a.writes)

    @property
    def is_empty(self):
        return not self.writes

    def summary(self):
        counts = {op: sum(1 for a in self.actions if a.op == op)
                  for op in ("create", "update", "delete", "unchanged", "orphan")}
        text = ", ".join(f"{n} {op}" for op, n in counts.items() if n)
        return text or "nothing declared or managed"

    def render_table(self):
        """Human table of every action; secrets (channel/token keys) are masked."""
        header = ("KIND", "NAME", "ID", "ACTION", "DETAILS")
        rows = []
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
        return self._scrub("\n".join(line.rstrip() for line in lines))

    def _scrub(self, text):
        # Defence in depth: no key value may survive into printable output.
        secrets = [a.desired.key for a in self.actions
                   if a.kind == "channel" and getattr(a.desired, "key", None)]
        secrets += [t.get("key") or "" for t in self.tokens]
        if self.root_password:
            secrets.append(self.root_password)
        for secret in sorted(filter(lambda s: len(s) >= 4, secrets), key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text
