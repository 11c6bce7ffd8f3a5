"""/api/token/* handlers (docs/gateway-contract.md §4.2): always the caller's own tokens."""
import ipaddress
import secrets
import string
import time
import uuid

from .common import atoi, err, like_prefix, ok, page
from .fields import TOKEN_FIELDS, BindError, bind

EXPIRED_MSG = "令牌已过期，无法启用，请先修改令牌过期时间，或者设置为永不过期"
EXHAUSTED_MSG = "令牌可用额度已用尽，无法启用，请先修改令牌剩余额度，或者设置为无限额度"


def generate_key():
    """16 random alphanumerics + a UUID's hex with every other letter upper-cased (48 chars)."""
    head = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(16))
    tail = list(uuid.uuid4().hex)
    for i in range(0, len(tail), 2):
        tail[i] = tail[i].upper()
    return head + "".join(tail)


def _own(ctx):
    return [t for t in ctx.store.table("tokens") if t["user_id"] == ctx.user["id"]]


def _validate(fields):
    if len(fields.get("name", "").encode()) > 30:
        return "参数错误：令牌名称过长"
    for cidr in filter(None, (fields.get("subnet") or "").split(",")):
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            return f"参数错误：无效的网段 {cidr}"
    return None


def _bind(ctx):
    try:
        return bind(ctx.json(), TOKEN_FIELDS, "Token"), None
    except (BindError, ValueError) as exc:
        return None, err(str(exc))


def list_tokens(ctx):
    order = ctx.arg("order")
    with ctx.store.lock:
        rows = _own(ctx)
        if order == "remain_quota":
            rows.sort(key=lambda t: (not t["unlimited_quota"], -t["remain_quota"]))
        elif order == "used_quota":
            rows.sort(key=lambda t: -t["used_quota"])
        else:
            rows.sort(key=lambda t: -t["id"])
        return ok([dict(t) for t in page(ctx, rows)])


def search_tokens(ctx):
    pattern = like_prefix(ctx.arg("keyword"))
    with ctx.store.lock:
        return ok([dict(t) for t in _own(ctx) if pattern.fullmatch(t["name"])])


def get_token(ctx):
    tid = atoi(ctx.params["id"])
    with ctx.store.lock:
        row = next((t for t in _own(ctx) if t["id"] == tid), None)
        return ok(dict(row)) if row else err("record not found")


def add_token(ctx):
    fields, failure = _bind(ctx)
    if failure:
        return failure
    problem = _validate(fields)
    if problem:
        return err(problem)
    now = int(time.time())
    store = ctx.store
    with store.lock:
        row = {"id": store.next_id("tokens"), "user_id": ctx.user["id"], "key": generate_key(),
               "status": 1, "name": fields.get("name", ""), "created_time": now,
               "accessed_time": now, "expired_time": fields.get("expired_time", 0) or -1,
               "remain_quota": fields.get("remain_quota", 0),
               "unlimited_quota": fields.get("unlimited_quota", False), "used_quota": 0,
               "models": fields.get("models"), "subnet": fields.get("subnet", "")}
        store.table("tokens").append(row)
        store.save()
        return ok(dict(row))


def update_token(ctx):
    fields, failure = _bind(ctx)
    if failure:
        return failure
    store = ctx.store
    with store.lock:
        row = next((t for t in _own(ctx) if t["id"] == fields.get("id", 0)), None)
        if row is None:
            return err("record not found")
        if fields.get("status") == 1:
            expiry = row["expired_time"]
            if row["status"] == 3 and expiry != -1 and expiry <= time.time():
                return err(EXPIRED_MSG)
            if row["status"] == 4 and row["remain_quota"] <= 0 and not row["unlimited_quota"]:
                return err(EXHAUSTED_MSG)
        if ctx.arg("status_only"):
            row["status"] = fields.get("status", 0)
        else:
            problem = _validate(fields)
            if problem:
                return err(problem)
            # explicit column list: zero values are written too
            row.update({"name": fields.get("name", ""),
                        "expired_time": fields.get("expired_time", 0),
                        "remain_quota": fields.get("remain_quota", 0),
                        "unlimited_quota": fields.get("unlimited_quota", False),
                        "models": fields.get("models"), "subnet": fields.get("subnet")})
        store.save()
        return ok(dict(row))


def delete_token(ctx):
    tid = atoi(ctx.params["id"])
    with ctx.store.lock:
        rows = ctx.store.table("tokens")
        row = next((t for t in _own(ctx) if t["id"] == tid), None)
        if row is None:
            return err("record not found")
        rows.remove(row)
        ctx.store.save()
    return ok()
