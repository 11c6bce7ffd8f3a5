"""/api/channel/* handlers (docs/gateway-contract.md §4.1)."""
import time

from .common import atoi, err, like_prefix, ok, page, public, model_object, CATALOGUE
from .fields import CHANNEL_FIELDS, BindError, bind, zero

DUP_ABILITY = "UNIQUE constraint failed: abilities.group, abilities.model, abilities.channel_id"


def no_key(row):
    out = public(row)
    out["key"] = ""
    return out


def groups_ok(row):
    groups = row["group"].split(",")
    return len(groups) == len(set(groups))


def list_channels(ctx):
    with ctx.store.lock:
        rows = sorted(ctx.store.table("channels"), key=lambda c: -c["id"])
        return ok([no_key(c) for c in page(ctx, rows)])


def search_channels(ctx):
    keyword = ctx.arg("keyword")
    pattern, wanted = like_prefix(keyword), atoi(keyword)
    with ctx.store.lock:
        rows = [c for c in ctx.store.table("channels")
                if c["id"] == wanted or pattern.fullmatch(c["name"])]
        return ok([no_key(c) for c in rows])


def get_channel(ctx):
    with ctx.store.lock:
        row = ctx.store.find("channels", id=atoi(ctx.params["id"]))
        return ok(no_key(row)) if row else err("record not found")


def new_row(fields, key, now, table=CHANNEL_FIELDS):
    row = {name: zero(t) for name, (t, _) in table.items()}
    row.update({"other": None, "weight": 0, "priority": 0, "base_url": "", "model_mapping": ""})
    if "system_prompt" in table:
        row["system_prompt"] = None
    else:  # New-API's defaults for its own columns
        row.update({"auto_ban": 1, "tag": None, "setting": None, "test_model": None,
                    "status_code_mapping": "", "other_info": "", "remark": None})
    row.update(fields)
    row.update({"key": key, "created_time": now})
    row["status"] = row["status"] or 1
    row["group"] = row["group"] or "default"
    return row


def add_channel(ctx):
    try:
        fields = bind(ctx.json(), CHANNEL_FIELDS, "Channel")
    except (BindError, ValueError) as exc:
        return err(str(exc))
    keys = [k for k in fields.get("key", "").split("\n") if k]
    if not keys:
        return err("empty slice found")
    store, now = ctx.store, int(time.time())
    with store.lock:
        rows = []
        for key in keys:
            row = new_row(fields, key, now)
            if row["id"] and not store.find("channels", id=row["id"]):
                store.data["seq"]["channels"] = max(store.data["seq"]["channels"], row["id"])
            else:
                row["id"] = store.next_id("channels")
            rows.append(row)
        store.table("channels").extend(rows)
        broken = [r for r in rows if not groups_ok(r)]
        for row in broken:
            row["_abilities"] = False
        store.save()
    return err(DUP_ABILITY) if broken else ok()


def update_channel(ctx):
    try:
        fields = bind(ctx.json(), CHANNEL_FIELDS, "Channel")
    except (BindError, ValueError) as exc:
        return err(str(exc))
    cid = fields.get("id", 0)
    if not cid:
        return err("WHERE conditions required")
    store = ctx.store
    with store.lock:
        row = store.find("channels", id=cid)
        if row is None:  # GORM updates nothing and OneAPI reports success anyway
            return ok(new_row(fields, fields.get("key", ""), 0))
        for name, (gotype, pointer) in CHANNEL_FIELDS.items():
            if name != "id" and name in fields and (pointer or fields[name] != zero(gotype)):
                row[name] = fields[name]
        row.pop("_abilities", None)
        if not groups_ok(row):
            row["_abilities"] = False  # abilities were deleted before the failing insert
            store.save()
            return err(DUP_ABILITY)
        store.save()
        return ok(public(row))


def delete_channel(ctx):
    cid = atoi(ctx.params["id"])
    with ctx.store.lock:
        rows = ctx.store.table("channels")
        rows[:] = [c for c in rows if c["id"] != cid]
        ctx.store.save()
    return ok()


def delete_disabled(ctx):
    with ctx.store.lock:
        rows = ctx.store.table("channels")
        gone = [c for c in rows if c["status"] in (2, 3)]
        rows[:] = [c for c in rows if c["status"] not in (2, 3)]
        ctx.store.save()
    return ok(len(gone))


def all_models(ctx):
    return 200, {"object": "list", "data": [model_object(m) for m in CATALOGUE]}


def abilities(store, group, model):
    """Enabled (channel, priority) pairs serving ``model`` for ``group``."""
    out = []
    for ch in store.table("channels"):
        if ch["status"] != 1 or ch.get("_abilities") is False:
            continue
        if group in ch["group"].split(",") and model in ch["models"].split(","):
            out.append(ch)
    return out


def enabled_models(store, group):
    """Sorted model names that have an enabled ability for ``group``."""
    names = set()
    for ch in store.table("channels"):
        if ch["status"] == 1 and ch.get("_abilities") is not False \
                and group in ch["group"].split(","):
            names.update(m for m in ch["models"].split(",") if m)
    return sorted(names)
