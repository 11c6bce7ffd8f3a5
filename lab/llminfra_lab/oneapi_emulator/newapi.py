"""New-API's admin differences (docs/gateway-contract.md §10): setup, wrapped channel create,
1-based pages with totals, masked token keys and the key endpoints, exact token search."""
import ipaddress
import time

from .channels import DUP_ABILITY, groups_ok, new_row, no_key
from .common import atoi, err, like, ok, page_object
from .fields import NEWAPI_CHANNEL_FIELDS, NEWAPI_TOKEN_FIELDS, BindError, bind, zero
from .store import SETUP_ROOT_QUOTA, new_user
from .tokens import EXHAUSTED_MSG, EXPIRED_MSG, generate_key

SETUP_DONE = "系统已经初始化完成"
MAX_USER_TOKENS = 1000
SEARCH_PAGE_SIZE = 20  # channel search's default page size
KEY_BATCH_MAX = 100


# -- setup ---------------------------------------------------------------------------------

def get_setup(ctx):
    store = ctx.store
    with store.lock:
        if store.data.get("setup"):
            return ok({"status": True, "root_init": False, "database_type": ""})
        root = any(u["role"] == 100 for u in store.table("users"))
        return ok({"status": False, "root_init": root, "database_type": "sqlite"})


def post_setup(ctx):
    store = ctx.store
    with store.lock:
        if store.data.get("setup"):
            return err(SETUP_DONE)
        try:
            body = ctx.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return err("请求参数有误")
        username, password = str(body.get("username", "")), str(body.get("password", ""))
        if not any(u["role"] == 100 for u in store.table("users")):
            if len(username) > 12:
                return err("用户名长度不能超过12个字符")
            if password != body.get("confirmPassword"):
                return err("两次输入的密码不一致")
            if len(password) < 8:
                return err("密码长度至少为8个字符")
            root = new_user(store.next_id("users"), username, password, 100, None)
            root["quota"] = SETUP_ROOT_QUOTA
            store.table("users").append(root)
        store.data["setup"] = True
        store.save()
    return 200, {"success": True, "message": "系统初始化成功"}


# -- channels ------------------------------------------------------------------------------

def _type_counts(rows):
    counts = {}
    for row in rows:
        counts[str(row["type"])] = counts.get(str(row["type"]), 0) + 1
    return counts


def list_channels(ctx):
    with ctx.store.lock:
        rows = list(ctx.store.table("channels"))
    if ctx.arg("id_sort") == "true":
        rows.sort(key=lambda c: -c["id"])
    else:
        rows.sort(key=lambda c: (-(c.get("priority") or 0), -c["id"]))
    return ok(page_object(ctx, [no_key(c) for c in rows], type_counts=_type_counts(rows)))


def search_channels(ctx):
    keyword = ctx.arg("keyword")
    name_like = like(f"%{keyword}%")
    model = ctx.arg("model")
    with ctx.store.lock:
        rows = []
        for c in sorted(ctx.store.table("channels"), key=lambda c: -c["id"]):
            if keyword and not (str(c["id"]) == keyword or name_like.fullmatch(c["name"])
                                or c["key"] == keyword or keyword in (c.get("base_url") or "")):
                continue
            if model and model not in c["models"]:
                continue
            if ctx.arg("group") and ctx.arg("group") not in c["group"].split(","):
                continue
            rows.append(no_key(c))
    return ok(page_object(ctx, rows, SEARCH_PAGE_SIZE, type_counts=_type_counts(rows)))


def add_channel(ctx):
    try:
        body = ctx.json()
    except ValueError as exc:
        return err(str(exc))
    if not isinstance(body, dict):
        return err("json: cannot unmarshal into Go value of type controller.AddChannelRequest")
    try:
        fields = bind(body.get("channel") or {}, NEWAPI_CHANNEL_FIELDS, "Channel")
    except BindError as exc:
        return err(str(exc))
    mode, key = body.get("mode"), fields.get("key", "")
    if mode == "single":
        keys = [key] if key else []
    elif mode == "batch":
        keys = [k for k in key.split("\n") if k.strip()]
    else:
        return err("不支持的添加模式")
    if not keys:
        return err("channel cannot be empty")
    store, now = ctx.store, int(time.time())
    with store.lock:
        rows = [new_row(fields, k, now, NEWAPI_CHANNEL_FIELDS) for k in keys]
        if not all(groups_ok(r) for r in rows):
            return err(DUP_ABILITY)  # one transaction: nothing was inserted
        for row in rows:
            row["id"] = store.next_id("channels")
        store.table("channels").extend(rows)
        store.save()
    return ok()


def update_channel(ctx):
    try:
        fields = bind(ctx.json(), NEWAPI_CHANNEL_FIELDS, "Channel")
    except (BindError, ValueError) as exc:
        return err(str(exc))
    cid = fields.get("id", 0)
    store = ctx.store
    with store.lock:
        row = store.find("channels", id=cid)
        if row is None:
            return err("record not found")
        for name, (gotype, pointer) in NEWAPI_CHANNEL_FIELDS.items():
            if name != "id" and name in fields and (pointer or fields[name] != zero(gotype)):
                row[name] = fields[name]
        if not groups_ok(row):
            return err(DUP_ABILITY)
        store.save()
        return ok(no_key(row))


# -- tokens --------------------------------------------------------------------------------

def mask(key):
    if len(key) <= 4:
        return "*" * len(key)
    if len(key) <= 8:
        return key[:2] + "****" + key[-2:]
    return key[:4] + "**********" + key[-4:]


def masked(row):
    out = {k: v for k, v in row.items() if not k.startswith("_")}
    out["key"] = mask(row["key"])
    return out


def _own(ctx):
    return [t for t in ctx.store.table("tokens")
            if t["user_id"] == ctx.user["id"] and not t.get("deleted_at")]


def _bind(ctx):
    try:
        return bind(ctx.json(), NEWAPI_TOKEN_FIELDS, "Token"), None
    except (BindError, ValueError) as exc:
        return None, err(str(exc))


def _problem(fields):
    if len(fields.get("name", "")) > 50:
        return "令牌名称过长"
    if not fields.get("unlimited_quota") and fields.get("remain_quota", 0) < 0:
        return "额度不能为负数"
    for entry in filter(None, (fields.get("allow_ips") or "").split("\n")):
        try:
            ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            return f"无效的 IP 或 CIDR: {entry}"
    return None


def list_tokens(ctx):
    with ctx.store.lock:
        rows = sorted(_own(ctx), key=lambda t: -t["id"])
        return ok(page_object(ctx, [masked(t) for t in rows]))


def _search_pattern(term):
    """Newer New-API: no ``%`` means an exact match; ``%`` wildcards (at most 2, 2+ other
    characters) make a LIKE; ``_`` is literal. Returns (regex or None, error)."""
    if "%%" in term:
        return None, "搜索模式中不允许包含连续的 % 通配符"
    count = term.count("%")
    if count > 2:
        return None, "搜索模式中最多允许包含 2 个 % 通配符"
    if count and len(term.replace("%", "")) < 2:
        return None, "使用模糊搜索时，关键词长度至少为 2 个字符"
    return like(term, underscore=False), None


def search_tokens(ctx):
    keyword, key = ctx.arg("keyword"), ctx.arg("token")
    key = key.removeprefix("sk-")
    with ctx.store.lock:
        rows = sorted(_own(ctx), key=lambda t: -t["id"])
        fuzzy = "%" in keyword or "%" in key
        if fuzzy and len(rows) > MAX_USER_TOKENS:
            return err("令牌数量超过上限，仅允许精确搜索，请勿使用 % 通配符")
        for term, field in ((keyword, "name"), (key, "key")):
            if term:
                pattern, problem = _search_pattern(term)
                if problem:
                    return err(problem)
                rows = [t for t in rows if pattern.fullmatch(t[field])]
        return ok(page_object(ctx, [masked(t) for t in rows]))


def get_token(ctx):
    tid = atoi(ctx.params["id"])
    with ctx.store.lock:
        row = next((t for t in _own(ctx) if t["id"] == tid), None)
        return ok(masked(row)) if row else err("record not found")


def token_key(ctx):
    tid = atoi(ctx.params["id"])
    with ctx.store.lock:
        row = next((t for t in _own(ctx) if t["id"] == tid), None)
        return ok({"key": row["key"]}) if row else err("record not found")


def token_keys(ctx):
    try:
        body = ctx.json()
        ids = [int(i) for i in body.get("ids") or []]
    except (ValueError, TypeError, AttributeError):
        ids = []
    if not ids:
        return err("无效的参数")
    if len(ids) > KEY_BATCH_MAX:
        return err(f"批量操作数量不能超过 {KEY_BATCH_MAX}")
    with ctx.store.lock:
        keys = {str(t["id"]): t["key"] for t in _own(ctx) if t["id"] in ids}
    return ok({"keys": keys})


def add_token(ctx):
    fields, failure = _bind(ctx)
    if failure:
        return failure
    problem = _problem(fields)
    if problem:
        return err(problem)
    store, now = ctx.store, int(time.time())
    with store.lock:
        if len(_own(ctx)) >= MAX_USER_TOKENS:
            return err(f"已达到最大令牌数量限制 ({MAX_USER_TOKENS})")
        store.table("tokens").append({
            "id": store.next_id("tokens"), "user_id": ctx.user["id"], "key": generate_key(),
            "status": 1, "name": fields.get("name", ""), "created_time": now,
            "accessed_time": now, "expired_time": fields.get("expired_time", 0) or -1,
            "remain_quota": fields.get("remain_quota", 0),
            "unlimited_quota": fields.get("unlimited_quota", False), "used_quota": 0,
            "model_limits_enabled": fields.get("model_limits_enabled", False),
            "model_limits": fields.get("model_limits", ""),
            "allow_ips": fields.get("allow_ips", ""), "group": fields.get("group", ""),
            "cross_group_retry": False,
        })
        store.save()
    return ok()  # no data: New-API never returns the created token


def update_token(ctx):
    fields, failure = _bind(ctx)
    if failure:
        return failure
    problem = _problem(fields)
    if problem:
        return err(problem)
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
            for name in ("name", "expired_time", "remain_quota", "unlimited_quota",
                         "model_limits_enabled", "model_limits", "group"):
                row[name] = fields.get(name, zero(NEWAPI_TOKEN_FIELDS[name][0]))
            row["allow_ips"] = fields.get("allow_ips")
        store.save()
        return ok(masked(row))


def delete_token(ctx):
    tid = atoi(ctx.params["id"])
    with ctx.store.lock:
        row = next((t for t in _own(ctx) if t["id"] == tid), None)
        if row is None:
            return err("record not found")
        row["deleted_at"] = int(time.time())  # soft delete: the key stops working
        ctx.store.save()
    return ok()
