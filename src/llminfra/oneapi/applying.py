"""Execute a :class:`~.plan.Plan` against the gateway (see :mod:`.reconcile`)."""
from dataclasses import dataclass, field

from .errors import OneAPIError, OneAPIRequestError
from .localstate import secret_var
from .desired import MARKER

# Channel fields OneAPI lets a client send back safely (contract 4.1.2); never
# used_quota, balance or timestamps.
SAFE_CHANNEL_FIELDS = ("type", "name", "base_url", "other", "models", "group",
                       "model_mapping", "priority", "weight", "config", "system_prompt",
                       "status")


class ApplyError(OneAPIError):
    """Apply stopped at a failing step; ``result`` holds what was done before it."""

    def __init__(self, message, result):
        super().__init__(message)
        self.result = result


@dataclass
class ChannelTest:
    name: str
    id: int
    success: bool
    seconds: float
    message: str


@dataclass
class ApplyResult:
    done: list = field(default_factory=list)
    backup: str = None
    secrets_captured: list = field(default_factory=list)
    tests: list = field(default_factory=list)

    def render_tests(self):
        """Table of channel test results (messages truncated to one short line)."""
        rows = [("CHANNEL", "ID", "RESULT", "TIME", "MESSAGE")]
        for t in self.tests:
            msg = " ".join(t.message.split())[:60]
            rows.append((t.name, str(t.id), "ok" if t.success else "FAIL",
                         f"{t.seconds:.2f}s", msg))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        return "\n".join("  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4]
                         for r in rows)


def _channel_body(d):
    return {"type": d.type, "name": d.server_name, "base_url": d.base_url,
            "models": ",".join(d.models), "group": d.group_string,
            "model_mapping": d.mapping_json, "priority": d.priority, "weight": d.weight,
            "status": 1 if d.enabled else 2}


def _find_channel_id(client, server_name):
    ids = [c["id"] for c in client.search_channels(server_name) if c["name"] == server_name]
    if not ids:
        raise OneAPIError(f"created channel {server_name} but cannot find it; re-run apply")
    return max(ids)


def _create_channel(client, action, local, result, plan):
    d = action.desired
    client.create_channel(dict(_channel_body(d), key=d.key))
    local.record_key(d.server_name, _find_channel_id(client, d.server_name), d.key)


def _update_channel(client, action, local, result, plan):
    d = action.desired
    current = client.get_channel(action.id)  # read-merge-write
    body = {k: current[k] for k in SAFE_CHANNEL_FIELDS if current.get(k) is not None}
    body.update(_channel_body(d), id=action.id)
    if any(c.field == "key" for c in action.changes):
        body["key"] = d.key
    stored = client.update_channel(body)
    # The PUT answer carries the stored key in full: fingerprint what is really there.
    local.record_key(d.server_name, action.id, (stored or {}).get("key") or d.key)


def _delete_channel(client, action, local, result, plan):
    client.delete_channel(action.id)


def _token_body(d, row):
    body = d.wire()
    used = (row or {}).get("used_quota") or 0
    if d.unlimited:  # keep the server's number rather than zeroing it
        body["remain_quota"] = (row or {}).get("remain_quota") or 0
    else:
        body["remain_quota"] = max(d.remain_quota - used, 0)
    return body


def _capture(local, result, d, key):
    if key and "*" not in key and local.store_secret(secret_var(d.name), "sk-" + key):
        result.secrets_captured.append(secret_var(d.name))


def _create_token(client, action, local, result, plan):
    d = action.desired
    created = client.create_token(_token_body(d, None))
    if created:
        _capture(local, result, d, created.get("key"))  # before anything else can fail
        if not d.enabled:
            client.set_token_status(created["id"], 2)


def _update_token(client, action, local, result, plan):
    fields = {c.field for c in action.changes}
    if fields - {"status"}:
        client.update_token(dict(_token_body(action.desired, action.server), id=action.id))
    if "status" in fields:
        client.set_token_status(action.id, 1 if action.desired.enabled else 2)


def _delete_token(client, action, local, result, plan):
    try:
        client.delete_token(action.id)
    except OneAPIRequestError as exc:
        if exc.api_message != "record not found":  # already gone: converged
            raise


def _root_password(client, action, local, result, plan):
    client.update_self(password=plan.root_password)
    local.mark_root_password_done()


STEPS = {("channel", "create"): _create_channel, ("channel", "update"): _update_channel,
         ("channel", "delete"): _delete_channel, ("token", "create"): _create_token,
         ("token", "update"): _update_token, ("token", "delete"): _delete_token,
         ("root", "update"): _root_password}


def _test_channels(client, plan):
    declared = {a.name: a.desired for a in plan.actions
                if a.kind == "channel" and a.desired is not None and a.desired.enabled}
    live = {}
    for row in client.search_channels(MARKER):
        if row["name"] in declared and row["id"] > live.get(row["name"], 0):
            live[row["name"]] = row["id"]
    tests = []
    for name, cid in sorted(live.items()):
        answer = client.test_channel(cid, model=declared[name].models[0])
        tests.append(ChannelTest(name, cid, answer.get("success") is True,
                                 float(answer.get("time") or 0), str(answer.get("message"))))
    return tests


def apply(client, plan, local, *, test_channels=False):
    """Run the plan's writes in order; returns :class:`ApplyResult`.

    Backs up channels+tokens (0600 JSON) before the first write, captures token
    keys into the secrets file, stops at the first failing step with
    :class:`ApplyError` (a re-plan + apply converges from there).
    """
    result = ApplyResult()
    for action in plan.actions:  # keys of tokens that already exist: local capture only
        if action.kind == "token" and action.op in ("update", "unchanged") and action.server:
            _capture(local, result, action.desired, action.server.get("key"))
    writes = plan.writes
    if writes:
        result.backup = local.backup(list(plan.channels), list(plan.tokens))
    for i, action in enumerate(writes, 1):
        try:
            STEPS[(action.kind, action.op)](client, action, local, result, plan)
        except OneAPIError as exc:
            raise ApplyError(f"apply stopped at step {i}/{len(writes)} ({action.op} "
                             f"{action.kind} {action.name}): {exc} - re-run to converge",
                             result) from None
        result.done.append(action)
    if any(a.kind == "root" and a.op == "unchanged" for a in plan.actions):
        local.mark_root_password_done()
    if test_channels:
        result.tests = _test_channels(client, plan)
    return result
