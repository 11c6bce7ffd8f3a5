"""Plan OneAPI channels/tokens from a :class:`~.desired.DesiredState` (reads only, no login).

Public API::

    p = plan(client, desired, fingerprints, prune=False, adopt=False, reenable=False,
             root_password=None)
    print(p.render_table())
    result = apply(client, p, local, fingerprints)

Only objects whose name starts with ``lmi/`` AND that the gateway's registry lists as the
kit's own are ever written (see :mod:`.registry`); a name carried by several objects, or by an
object someone else made, is a conflict reported for that object alone. Reads that fail raise
before anything is planned, and listings are cross-checked (paged list vs. name search) so a
short read cannot turn into a delete or a duplicate create.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from .applying import ApplyError, ApplyResult, apply
from .desired import MARKER, DesiredChannel, DesiredState, DesiredToken, is_managed
from .errors import OneAPIInconsistentRead, OneAPIRequestError
from .plan import OP_ORDER, Action, Change, Plan
from .registry import OPTION_KEY, Fingerprints, Registry, pending_name
from .wire import (AUTO_DISABLED, DISABLED, ENABLED, ChannelRow, ObjectKind, TokenRow,
                   channel_rows, token_rows)

__all__ = ["plan", "apply", "Plan", "ApplyResult", "ApplyError", "desired_digest"]


class Reader(Protocol):
    def list_channels(self) -> Any: ...
    def search_channels(self, keyword: str) -> Any: ...
    def list_tokens(self) -> Any: ...
    def search_tokens(self, keyword: str) -> Any: ...
    def get_options(self) -> Any: ...


R = TypeVar("R", ChannelRow, TokenRow)


def _managed(kind: str, listing: list[R], search: list[R]) -> list[R]:
    """Managed rows, after checking two independent reads agree."""
    listed = {o["id"]: o for o in listing if is_managed(o["name"])}
    searched = {o["id"] for o in search if is_managed(o["name"])}
    if set(listed) != searched:
        missing = sorted(set(listed) ^ searched)
        raise OneAPIInconsistentRead(
            f"OneAPI returned inconsistent {kind} listings (ids {missing} seen by only one "
            "read); refusing to plan on a partial view - re-run")
    return list(listed.values())


def _by_name(rows: Sequence[R]) -> dict[str, list[R]]:
    groups: dict[str, list[R]] = {}
    for row in sorted(rows, key=lambda r: -r["id"]):
        groups.setdefault(row["name"], []).append(row)
    return groups


def _mapping(text: str | None) -> object:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, dict) else text


def channel_changes(d: DesiredChannel, row: ChannelRow, registry: Registry,
                    fps: Fingerprints, reenable: bool = False) -> tuple[Change, ...]:
    """Field changes needed to turn server ``row`` into declared channel ``d``."""
    pairs: list[tuple[str, object, object]] = [
        ("type", row.get("type"), d.type),
        ("base_url", row.get("base_url") or "", d.base_url),
        ("models", row.get("models") or "", ",".join(d.models)),
        ("group", row.get("group") or "", d.group_string),
        ("priority", row.get("priority") or 0, d.priority),
        ("weight", row.get("weight") or 0, d.weight)]
    changes = [Change(f, old, new) for f, old, new in pairs if old != new]
    status = row.get("status")
    want = ENABLED if d.enabled else DISABLED
    # The gateway disables a failing channel itself (3): that is reported, and undone only
    # when asked; a channel declared disabled is satisfied by either kind of disabled.
    if status == AUTO_DISABLED and (not d.enabled or not reenable):
        want = AUTO_DISABLED
    if status != want:
        changes.append(Change("status", status, want,
                              note="re-enabling" if status == AUTO_DISABLED else ""))
    if _mapping(row.get("model_mapping")) != dict(d.model_mapping):
        changes.append(Change("model_mapping", row.get("model_mapping"), d.mapping_json))
    known = registry.key_fp(row)
    if known != fps.channel_key(d.server_name, d.key):
        note = "changed" if known else "fingerprint unknown; re-sending"
        changes.append(Change("key", None, None, secret=True, note=note))
    return tuple(changes)


def token_changes(d: DesiredToken, row: TokenRow, now: float | None = None
                  ) -> tuple[Change, ...]:
    """Field changes for a token; ``remain_quota`` is a budget (remain + used)."""
    now = time.time() if now is None else now
    changes = []
    if row.get("expired_time") != d.expired_time:
        changes.append(Change("expired_time", row.get("expired_time"), d.expired_time))
    if bool(row.get("unlimited_quota")) != d.unlimited:
        changes.append(Change("unlimited_quota", row.get("unlimited_quota"), d.unlimited))
    budget = (row.get("remain_quota") or 0) + (row.get("used_quota") or 0)
    if not d.unlimited and budget != d.remain_quota:
        changes.append(Change("remain_quota", budget, d.remain_quota, note="budget incl. used"))
    models, subnet = ",".join(d.models), d.subnet
    if (row.get("models") or "") != models:
        changes.append(Change("models", row.get("models"), models))
    if (row.get("subnet") or "") != subnet:
        changes.append(Change("subnet", row.get("subnet"), subnet))
    want = ENABLED if d.enabled else DISABLED
    status = row.get("status")
    if status != want:
        dead = d.expired_time != -1 and d.expired_time <= now
        broke = not d.unlimited and d.remain_quota - (row.get("used_quota") or 0) <= 0
        if want == DISABLED or not (dead or broke):
            changes.append(Change("status", status, want))
    return tuple(changes)


def _creation(d: DesiredChannel | DesiredToken) -> tuple[Change, ...]:
    if isinstance(d, DesiredToken):
        return tuple(Change(k, None, v) for k, v in d.wire().items() if k != "name")
    fields: list[tuple[str, object]] = [
        ("type", d.type), ("base_url", d.base_url), ("models", ",".join(d.models)),
        ("group", d.group_string), ("model_mapping", d.mapping_json),
        ("priority", d.priority), ("weight", d.weight), ("enabled", d.enabled)]
    return tuple(Change(k, None, v) for k, v in fields) + (
        Change("key", None, None, secret=True),)


def _duplicates(rows: Sequence[ChannelRow | TokenRow], owned: Callable[[Any], bool]) -> str:
    ids = ", ".join(str(r["id"]) for r in rows)
    mine = [str(r["id"]) for r in rows if owned(r)]
    whose = f"llminfra's is id {mine[0]}" if len(mine) == 1 else \
        "none is llminfra's" if not mine else f"llminfra's are ids {', '.join(mine)}"
    return (f"{len(rows)} objects carry this name (ids {ids}; {whose}): delete or rename the "
            "extra one(s); nothing is written to them until then")


NOT_OURS = ("exists but llminfra did not create it (not in the gateway's registry): "
            "re-run with --adopt to manage it, or rename it")


Ownership = Callable[[Any], str]  # "registered", "claimed" (lost create answer) or ""


def _objects(kind: ObjectKind, declared: Sequence[DesiredChannel | DesiredToken],
             managed: Sequence[R], owner: Ownership,
             diff: Callable[[Any, Any], tuple[Change, ...]], *, prune: bool, adopt: bool
             ) -> list[Action]:
    actions: list[Action] = []
    groups = _by_name(managed)

    def owned(row: Any) -> bool:
        return bool(owner(row))

    for d in declared:
        rows = groups.pop(d.server_name, [])
        if not rows:
            actions.append(Action(kind, "create", d.server_name, desired=d,
                                  changes=_creation(d)))
        elif len(rows) > 1:
            actions.append(Action(kind, "conflict", d.server_name, desired=d,
                                  reason=_duplicates(rows, owned)))
        elif not owned(rows[0]) and not adopt:
            actions.append(Action(kind, "conflict", d.server_name, rows[0]["id"], desired=d,
                                  server=rows[0], reason=NOT_OURS))
        else:
            row = rows[0]
            changes: tuple[Change, ...] = diff(d, row)
            how = owner(row)
            if how != "registered":
                note = "its create answer was lost" if how == "claimed" else "--adopt"
                changes = (Change("owner", "unregistered", "llminfra", note=note), *changes)
            actions.append(Action(kind, "update" if changes else "unchanged", d.server_name,
                                  row["id"], changes, desired=d, server=row))
    for name, rows in sorted(groups.items()):
        for row in rows:
            if not owned(row):
                actions.append(Action(kind, "unowned", name, row["id"], server=row,
                                      reason="not created by llminfra and not declared; "
                                      "never touched"))
            elif len(rows) > 1:
                actions.append(Action(kind, "conflict", name, row["id"], server=row,
                                      reason=_duplicates(rows, owned)))
            # Channels are derived from the inventory: one no longer declared goes (after
            # every create, OP_ORDER). A token deleted breaks its clients and its key cannot
            # be captured again: only on prune.
            elif prune or kind == "channel":
                why = "" if kind == "channel" else " (prune)"
                actions.append(Action(kind, "delete", name, row["id"], server=row,
                                      reason=f"managed but no longer declared{why}"))
            else:
                actions.append(Action(kind, "orphan", name, row["id"], server=row,
                                      reason="managed but not declared; kept (prune=False)"))
    return actions


def _owner(kind: ObjectKind, registry: Registry) -> Ownership:
    def owner(row: ChannelRow | TokenRow) -> str:
        if registry.owns(kind, row):
            return "registered"
        return "claimed" if pending_name(kind, row["name"]) in registry.pending else ""
    return owner


def _root_action(registry: Registry, fps: Fingerprints, root_password: str | None
                 ) -> list[Action]:
    """Root's password, from the registry alone: plans never log in (20 logins per 20 min)."""
    if not root_password:
        return []
    if registry.root == fps.root_password(root_password):
        return [Action("root", "unchanged", "root",
                       reason="verified by an earlier apply (new password logs in, 123456 is "
                       "refused)")]
    if registry.root:
        return [Action("root", "verify", "root", changes=(
            Change("password", None, None, secret=True, note="changed in the inventory"),))]
    return [Action("root", "verify", "root",
                   reason="not verified yet: apply logs in to check that the new password works "
                   "and 123456 is refused, and sets it first if needed")]


def desired_digest(desired: DesiredState, fps: Fingerprints) -> str:
    """Keyed digest of everything declared (keys included), to pin a saved plan to it."""
    text = repr([(c, fps.channel_key(c.server_name, c.key)) for c in desired.channels])
    return fps.of("desired", "", text + repr(desired.tokens))


def plan(client: Reader, desired: DesiredState, fps: Fingerprints, *, prune: bool = False,
         adopt: bool = False, reenable: bool = False, root_password: str | None = None
         ) -> Plan:
    """Read the gateway and compute a :class:`Plan` (reads only: no write, no login).

    Managed channels no longer declared are deleted; ``prune`` also deletes managed tokens
    no longer declared; ``adopt`` takes over a single
    object with a managed name the kit did not create; ``reenable`` turns channels the
    gateway disabled itself back on; ``root_password`` (8..20 chars) is the password root
    must have (verified and set at apply).
    """
    if root_password is not None and not 8 <= len(root_password) <= 20:
        raise ValueError("root password must be 8..20 characters")
    all_channels = channel_rows(client.list_channels(), "channel list")
    managed_channels = _managed("channel", all_channels,
                                channel_rows(client.search_channels(MARKER), "channel search"))
    all_tokens = token_rows(client.list_tokens(), "token list")
    try:
        second = client.search_tokens(MARKER)
    except OneAPIRequestError as exc:
        if exc.status != 429:  # New-API limits token searches (10 a minute per user)
            raise
        second = client.list_tokens()  # still an independent second read to compare
    managed_tokens = _managed("token", all_tokens, token_rows(second, "token search"))
    options = client.get_options()
    registry = Registry.decode(options.get(OPTION_KEY) if isinstance(options, dict) else None)
    registry.keep_only("channel", {r["id"] for r in all_channels})
    registry.keep_only("token", {r["id"] for r in all_tokens})
    def channel_diff(d: DesiredChannel, row: ChannelRow) -> tuple[Change, ...]:
        return channel_changes(d, row, registry, fps, reenable)

    actions = _root_action(registry, fps, root_password)
    actions += _objects("channel", desired.channels, managed_channels,
                        _owner("channel", registry), channel_diff,
                        prune=prune, adopt=adopt)
    actions += _objects("token", desired.tokens, managed_tokens,
                        _owner("token", registry), token_changes,
                        prune=prune, adopt=adopt)
    actions.sort(key=lambda a: OP_ORDER.get(a.op, 9))
    return Plan(tuple(actions), tuple(all_channels), tuple(all_tokens), prune, root_password,
                registry, desired_digest(desired, fps))
