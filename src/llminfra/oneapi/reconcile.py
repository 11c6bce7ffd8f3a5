"""Plan and apply OneAPI channels/tokens from a :class:`~.desired.DesiredState`.

Public API::

    p = plan(client, desired, local, prune=False, root_password=None)
    print(p.render_table())
    result = apply(client, p, local, test_channels=True)

Only objects whose OneAPI name starts with ``lmi/`` are managed; everything else
is never touched. Reads that fail raise before anything is planned, and listings
are cross-checked (paged list vs. name search) so a short read cannot turn into
a delete or a duplicate create.
"""
import json
import time

from .applying import ApplyError, ApplyResult, apply
from .desired import MARKER, is_managed
from .errors import OneAPIInconsistentRead
from .localstate import secret_var
from .plan import Action, Change, Plan

__all__ = ["plan", "apply", "Plan", "ApplyResult", "ApplyError"]

DEFAULT_ROOT_PASSWORD = "123456"


def _read(kind, listing, search):
    """Managed objects, after checking two independent reads agree."""
    listed = {o["id"]: o for o in listing if is_managed(o["name"])}
    searched = {o["id"] for o in search if is_managed(o["name"])}
    if set(listed) != searched:
        missing = sorted(set(listed) ^ searched)
        raise OneAPIInconsistentRead(
            f"OneAPI returned inconsistent {kind} listings (ids {missing} seen by only one "
            "read); refusing to plan on a partial view - re-run")
    return listing, list(listed.values())


def _by_name(rows):
    groups = {}
    for row in sorted(rows, key=lambda r: -r["id"]):
        groups.setdefault(row["name"], []).append(row)
    return groups


def _mapping(text):
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, dict) else text


def channel_changes(d, row, local):
    """Field changes needed to turn server ``row`` into declared channel ``d``."""
    pairs = [("type", row.get("type"), d.type),
             ("base_url", row.get("base_url") or "", d.base_url),
             ("models", row.get("models") or "", ",".join(d.models)),
             ("group", row.get("group") or "", d.group_string),
             ("priority", row.get("priority") or 0, d.priority),
             ("weight", row.get("weight") or 0, d.weight),
             ("status", row.get("status"), 1 if d.enabled else 2)]
    changes = [Change(f, old, new) for f, old, new in pairs if old != new]
    if _mapping(row.get("model_mapping")) != dict(d.model_mapping):
        changes.append(Change("model_mapping", row.get("model_mapping"), d.mapping_json))
    known = local.key_matches(d.server_name, row["id"], d.key)
    if known is not True:
        note = "changed" if known is False else "fingerprint unknown; re-sending"
        changes.append(Change("key", None, None, secret=True, note=note))
    return tuple(changes)


def token_changes(d, row, now=None):
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
    for name, new in (("models", ",".join(d.models)), ("subnet", d.subnet)):
        if (row.get(name) or "") != new:
            changes.append(Change(name, row.get(name), new))
    want = 1 if d.enabled else 2
    status = row.get("status")
    if status != want:
        dead = d.expired_time != -1 and d.expired_time <= now
        broke = not d.unlimited and d.remain_quota - (row.get("used_quota") or 0) <= 0
        if want == 2 or not (dead or broke):
            changes.append(Change("status", status, want))
    return tuple(changes)


def _objects(kind, declared, managed, diff, local, prune):
    actions = []
    groups = _by_name(managed)
    for d in declared:
        rows = groups.pop(d.server_name, [])
        if not rows:
            actions.append(Action(kind, "create", d.server_name, desired=d,
                                  changes=_creation(kind, d)))
            continue
        keep = rows[0]
        for dup in rows[1:]:
            actions.append(Action(kind, "delete", d.server_name, dup["id"], server=dup,
                                  reason=f"duplicate name; keeping highest id {keep['id']}"))
        changes = diff(d, keep, local) if kind == "channel" else diff(d, keep)
        actions.append(Action(kind, "update" if changes else "unchanged", d.server_name,
                              keep["id"], changes, desired=d, server=keep))
    for name, rows in sorted(groups.items()):
        for row in rows:
            if prune:
                actions.append(Action(kind, "delete", name, row["id"], server=row,
                                      reason="managed but no longer declared (prune)"))
            else:
                actions.append(Action(kind, "orphan", name, row["id"], server=row,
                                      reason="managed but not declared; kept (prune=False)"))
    return actions


def _creation(kind, d):
    if kind == "token":
        return tuple(Change(k, None, v) for k, v in d.wire().items() if k != "name")
    fields = [("type", d.type), ("base_url", d.base_url), ("models", ",".join(d.models)),
              ("group", d.group_string), ("model_mapping", d.mapping_json),
              ("priority", d.priority), ("weight", d.weight), ("enabled", d.enabled)]
    return tuple(Change(k, None, v) for k, v in fields) + (
        Change("key", None, None, secret=True),)


def _root_action(client, local, root_password):
    if not root_password or local.root_password_done:
        return []
    if not client.password_works("root", DEFAULT_ROOT_PASSWORD):
        return [Action("root", "unchanged", "root", reason="default password not in use")]
    return [Action("root", "update", "root", changes=(
        Change("password", None, None, secret=True, note="default password still active"),))]


def plan(client, desired, local, *, prune=False, root_password=None):
    """Read the gateway and compute a :class:`Plan` (no writes to the gateway).

    ``local`` is a :class:`~.localstate.LocalState`; ``prune=True`` deletes managed
    objects that are no longer declared; ``root_password`` (8..20 chars) replaces
    root's default password if it is still ``123456``.
    """
    if root_password is not None and not 8 <= len(root_password) <= 20:
        raise ValueError("root password must be 8..20 characters")
    vars_ = [secret_var(t.name) for t in desired.tokens]
    if len(set(vars_)) != len(vars_):
        raise ValueError("two token names map to the same secrets-file variable")
    channels, managed_channels = _read("channel", client.list_channels(),
                                       client.search_channels(MARKER))
    tokens, managed_tokens = _read("token", client.list_tokens(),
                                   client.search_tokens(MARKER))
    actions = _root_action(client, local, root_password)
    actions += _objects("channel", desired.channels, managed_channels, channel_changes,
                        local, prune)
    actions += _objects("token", desired.tokens, managed_tokens, token_changes, local, prune)
    order = {"delete": 0, "create": 1, "update": 2}
    actions.sort(key=lambda a: (a.kind != "root", order.get(a.op, 3)))
    return Plan(tuple(actions), tuple(channels), tuple(tokens), prune, root_password)
