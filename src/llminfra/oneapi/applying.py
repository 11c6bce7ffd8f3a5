"""Execute a :class:`~.plan.Plan` against the gateway (see :mod:`.reconcile`).

Order: root's password, creates, updates, deletes - a renamed channel exists before the old
one goes. The registry (what the kit owns, key fingerprints) is written once before the
first create (names about to be created, so a lost answer is still recognised) and once at
the end, also after a failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Iterable
from typing import Any, Protocol

import httpx

from .errors import OneAPIError, OneAPIRequestError
from .keys import KeyReport, capture_token_key, fetch_keys
from .localstate import LocalState
from .desired import DesiredChannel, DesiredToken
from .plan import Action, Plan
from .registry import OPTION_KEY, Fingerprints, Registry, pending_name
from .rootpw import RootCheck, ensure_root_password
from .wire import AUTO_DISABLED, DISABLED, ENABLED, ChannelRow, TokenRow, channel_rows

# Channel fields OneAPI lets a client send back safely (docs/gateway-contract.md §4.1.2); never
# used_quota, balance or timestamps.
SAFE_CHANNEL_FIELDS = ("type", "name", "base_url", "other", "models", "group",
                       "model_mapping", "priority", "weight", "config", "system_prompt",
                       "status")


class Writer(Protocol):
    base_url: str

    def list_channels(self) -> Any: ...
    def token_keys(self, token_ids: Iterable[int]) -> dict[int, str]: ...
    def get_channel(self, channel_id: int) -> Any: ...
    def create_channel(self, fields: dict[str, Any]) -> None: ...
    def update_channel(self, fields: dict[str, Any]) -> Any: ...
    def delete_channel(self, channel_id: int) -> None: ...
    def create_token(self, fields: dict[str, Any], *, read_key: bool = True) -> Any: ...
    def update_token(self, fields: dict[str, Any]) -> Any: ...
    def set_token_status(self, token_id: int, status: int) -> Any: ...
    def delete_token(self, token_id: int) -> None: ...
    def get_options(self) -> dict[str, str]: ...
    def set_option(self, key: str, value: str) -> None: ...
    def update_self(self, **fields: Any) -> None: ...


class ApplyError(OneAPIError):
    """Apply stopped at a failing step; ``result`` holds what was done before it."""

    def __init__(self, message: str, result: ApplyResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass
class ApplyResult:
    done: list[Action] = field(default_factory=list)
    backup: str | None = None
    keys: KeyReport = field(default_factory=KeyReport)
    # channel ids written by this apply (created or updated): what `--test changed` tests
    changed_channels: dict[str, int] = field(default_factory=dict)
    root_unknown: str = ""  # why root's password could not be verified ("" = verified or n/a)
    registry_error: str = ""


@dataclass
class _Run:
    client: Writer
    plan: Plan
    local: LocalState
    fps: Fingerprints
    registry: Registry
    result: ApplyResult
    login_transport: httpx.BaseTransport | None
    # tokens whose key the listing hides: read in one batch at the end (a rate-limited route)
    hidden_keys: list[tuple[DesiredToken, TokenRow]] = field(default_factory=list)
    created_channels: list[DesiredChannel] = field(default_factory=list)
    unidentified: set[str] = field(default_factory=set)  # pending names still unaccounted


def _channel_body(run: _Run, action: Action) -> dict[str, Any]:
    d = action.channel
    status = ENABLED if d.enabled else DISABLED
    current = (action.server or {}).get("status")
    if current == AUTO_DISABLED and not action.changed("status"):
        status = AUTO_DISABLED  # an update of other fields must not re-enable it
    return {"type": d.type, "name": d.server_name, "base_url": d.base_url,
            "models": ",".join(d.models), "group": d.group_string,
            "model_mapping": d.mapping_json, "priority": d.priority, "weight": d.weight,
            "status": status}


def _create_channel(run: _Run, action: Action) -> None:
    d = action.channel
    run.client.create_channel(dict(_channel_body(run, action), key=d.key))
    run.created_channels.append(d)  # OneAPI answers without the id: found in one listing


def _identify_created(run: _Run) -> None:
    """Ids of the channels this run created, from one listing rather than one search each.
    A channel not found stays under its pending name, which the next run claims."""
    if not run.created_channels:
        return
    known = {r["id"] for r in run.plan.channels}
    fresh: dict[str, ChannelRow] = {}
    for row in channel_rows(run.client.list_channels(), "channel list"):
        if row["id"] not in known and row["id"] > fresh.get(row["name"], {"id": 0})["id"]:
            fresh[row["name"]] = row
    for d in run.created_channels:
        found = fresh.get(d.server_name)
        if found is None:
            run.unidentified.add(pending_name("channel", d.server_name))
            continue
        run.registry.record_channel(found, run.fps.channel_key(d.server_name, d.key))
        run.result.changed_channels[d.server_name] = found["id"]


def _update_channel(run: _Run, action: Action) -> None:
    d = action.channel
    assert action.id is not None and action.server is not None
    current = run.client.get_channel(action.id)  # read-merge-write
    body = {k: current[k] for k in SAFE_CHANNEL_FIELDS if current.get(k) is not None}
    body.update(_channel_body(run, action), id=action.id)
    row: ChannelRow = action.server  # type: ignore[assignment]
    fp = run.registry.key_fp(row)
    if action.changed("key"):
        body["key"] = d.key
        fp = run.fps.channel_key(d.server_name, d.key)
    run.client.update_channel(body)
    run.registry.record_channel(row, fp)
    run.result.changed_channels[d.server_name] = action.id


def _delete_channel(run: _Run, action: Action) -> None:
    assert action.id is not None
    run.client.delete_channel(action.id)
    run.registry.forget("channel", action.id)


def _token_body(action: Action, row: TokenRow | None) -> dict[str, Any]:
    d = action.token
    body = d.wire()
    used = (row or {}).get("used_quota") or 0
    if d.unlimited:  # keep the server's number rather than zeroing it
        body["remain_quota"] = (row or {}).get("remain_quota") or 0
    else:
        body["remain_quota"] = max(d.remain_quota - used, 0)
    return body


def _capture(run: _Run, d: DesiredToken, row: TokenRow) -> None:
    if not capture_token_key(run.local, run.result.keys, d, row):
        run.hidden_keys.append((d, row))


def _create_token(run: _Run, action: Action) -> None:
    d = action.token
    created = run.client.create_token(_token_body(action, None), read_key=False)
    if not (isinstance(created, dict) and isinstance(created.get("id"), int)):
        # created (or not) but not found again: the pending name lets the next run claim it
        raise OneAPIError(f"created token {d.server_name} but cannot find it; re-run apply")
    row: TokenRow = created  # type: ignore[assignment]
    run.registry.record_token(row)
    _capture(run, d, row)  # before anything else can fail
    if not d.enabled:
        run.client.set_token_status(row["id"], DISABLED)


def _update_token(run: _Run, action: Action) -> None:
    assert action.id is not None
    row: TokenRow = action.server  # type: ignore[assignment]
    fields = {c.field for c in action.changes} - {"owner"}
    if fields - {"status"}:
        run.client.update_token(dict(_token_body(action, row), id=action.id))
    if "status" in fields:
        run.client.set_token_status(action.id, ENABLED if action.token.enabled else DISABLED)
    run.registry.record_token(row)
    _capture(run, action.token, row)


def _delete_token(run: _Run, action: Action) -> None:
    assert action.id is not None
    try:
        run.client.delete_token(action.id)
    except OneAPIRequestError as exc:
        if exc.api_message != "record not found":  # already gone: converged
            raise
    run.registry.forget("token", action.id)


def _root_password(run: _Run, action: Action) -> None:
    password = run.plan.root_password
    assert password
    try:
        check = ensure_root_password(run.client, password, transport=run.login_transport)
    except OneAPIError as exc:  # setting it failed: reported, the other objects proceed
        check = RootCheck(False, detail=str(exc))
    if check.verified:
        run.registry.root = run.fps.root_password(password)
    else:  # never remembered from an inconclusive check: the next apply tries again
        run.registry.root = ""
        run.result.root_unknown = check.detail


STEPS = {("channel", "create"): _create_channel, ("channel", "update"): _update_channel,
         ("channel", "delete"): _delete_channel, ("token", "create"): _create_token,
         ("token", "update"): _update_token, ("token", "delete"): _delete_token,
         ("root", "verify"): _root_password}


def _write_registry(run: _Run, base: Registry) -> Registry:
    """Write this run's registry changes since ``base`` onto what the gateway holds now (re-read
    just before: another apply may have finished meanwhile); returns the new base."""
    current = Registry.decode(run.client.get_options().get(OPTION_KEY))
    run.registry = run.registry.onto(base, current)
    run.client.set_option(OPTION_KEY, run.registry.encode())
    return run.registry.copy()


def _save_registry(run: _Run, base: Registry) -> None:
    if run.registry.encode() == base.encode():
        return
    try:
        _write_registry(run, base)
    except OneAPIError as exc:
        run.result.registry_error = str(exc)


def apply(client: Writer, plan: Plan, local: LocalState, fps: Fingerprints, *,
          login_transport: httpx.BaseTransport | None = None) -> ApplyResult:
    """Run the plan's writes in order; returns :class:`ApplyResult`.

    Backs up channels+tokens (0600 JSON) before the first object write, captures created
    tokens' keys, stops at the first failing step with :class:`ApplyError` (a re-plan +
    apply converges from there). Conflicts are skipped; they are the caller's to report.
    """
    result = ApplyResult()
    run = _Run(client, plan, local, fps, plan.registry.copy(), result, login_transport)
    writes = plan.writes
    if any(a.kind != "root" for a in writes):
        result.backup = local.backup(list(plan.channels), list(plan.tokens))
    saved = plan.registry.copy()
    creates = {pending_name(a.kind, a.name) for a in writes
               if a.op == "create" and a.kind != "root"}
    failed = False
    try:
        if creates:
            run.registry.pending |= creates
            try:
                saved = _write_registry(run, saved)  # before any create
            except OneAPIError as exc:
                failed = True
                raise ApplyError(f"apply stopped before its first create (recording the names "
                                 f"to create): {exc} - re-run to converge", result) from None
        for i, action in enumerate(writes, 1):
            try:
                STEPS[(action.kind, action.op)](run, action)
            except OneAPIError as exc:
                failed = True
                raise ApplyError(f"apply stopped at step {i}/{len(writes)} ({action.op} "
                                 f"{action.kind} {action.name}): {exc} - re-run to converge",
                                 result) from None
            result.done.append(action)
    finally:
        fetch_keys(local, result.keys, run.hidden_keys, client)
        try:
            _identify_created(run)
        except OneAPIError:
            run.unidentified |= {pending_name("channel", d.server_name)
                                 for d in run.created_channels}
        # names whose create went through (or that this plan settled) no longer need the
        # lost-answer guard; another operator's pending names are left alone
        settled = result.done if failed else [a for a in plan.actions
                                               if a.kind != "root" and a.op != "conflict"]
        run.registry.pending -= {pending_name(a.kind, a.name) for a in settled} - run.unidentified
        _save_registry(run, saved)
    return result
