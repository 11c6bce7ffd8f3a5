"""/api/status, /api/user/*, /api/option/, /api/group/ (docs/gateway-contract.md §2, §3, §4.3, §4.4)."""
import json
import random
import uuid

from .channels import enabled_models
from .common import err, ok
from .fields import OPTION_FIELDS, USER_FIELDS, BindError, bind
from .store import check_password, hash_password

USER_ZERO = {"id": 0, "username": "", "password": "", "display_name": "", "role": 0,
             "status": 0, "email": "", "github_id": "", "wechat_id": "", "lark_id": "",
             "oidc_id": "", "verification_code": "", "access_token": "", "quota": 0,
             "used_quota": 0, "request_count": 0, "group": "", "aff_code": "", "inviter_id": 0}


def status(ctx):
    store = ctx.store
    default = "v0.13.2-emulator" if ctx.app.flavor == "newapi" else "v0.6.11-emulator"
    data = {"version": ctx.app.env.get("EMULATOR_VERSION", default),
            "start_time": ctx.app.start_time, "email_verification": False,
            "github_oauth": False, "github_client_id": "", "lark_client_id": "",
            "system_name": store.option("SystemName"), "logo": "", "footer_html": "",
            "wechat_qrcode": "", "wechat_login": False,
            "server_address": store.option("ServerAddress"), "turnstile_check": False,
            "turnstile_site_key": "", "top_up_link": "", "chat_link": "",
            "quota_per_unit": 500000.0, "display_in_currency": True, "oidc": False,
            "oidc_client_id": "", "oidc_well_known": "", "oidc_authorization_endpoint": "",
            "oidc_token_endpoint": "", "oidc_userinfo_endpoint": ""}
    return ok(data)


def login(ctx):
    if ctx.app.limited("critical", ctx.client_ip):
        return 429, b""
    try:
        body = bind(ctx.json(), USER_FIELDS, "User")
    except (BindError, ValueError):
        body = {}
    if not body.get("username") or not body.get("password"):
        zh = ctx.headers.get("Accept-Language", "").startswith("zh")
        return err("无效的参数" if zh else "invalid parameter")
    store = ctx.store
    if store.option("PasswordLoginEnabled") != "true":
        return err("管理员关闭了密码登录")
    with store.lock:
        user = next((u for u in store.table("users")
                     if body["username"] in (u["username"], u["email"]) and u["username"]), None)
        if not user or not check_password(user["password"], body["password"]) \
                or user["status"] != 1:
            return err("用户名或密码错误，或用户已被封禁")
        data = dict(USER_ZERO)
        data.update({k: user[k] for k in ("id", "username", "display_name", "role", "status")})
        ctx.set_cookie = ctx.app.make_session(user)
        return ok(data)


def logout(ctx):
    ctx.set_cookie = "session=; Path=/; Max-Age=0"
    return ok()


def get_self(ctx):
    data = dict(ctx.user)
    data.update(password="", access_token="")
    return ok(data)


def update_self(ctx):
    try:
        body = bind(ctx.json(), USER_FIELDS, "User")
    except (BindError, ValueError):
        return err("无效的参数")
    if len(body.get("username", "")) > 12 or len(body.get("display_name", "")) > 20:
        return err("输入不合法 Key: 'User.Username' Error:Field validation failed")
    password = body.get("password", "")
    if password and not 8 <= len(password) <= 20:
        return err("输入不合法 Key: 'User.Password' Error:Field validation for 'Password' "
                   "failed on the 'min' tag")
    store = ctx.store
    with store.lock:
        for field in ("username", "display_name"):
            if body.get(field):
                ctx.user[field] = body[field]
        if password:
            ctx.user["password"] = hash_password(password)
        store.save()
    return ok()


def rotate_access_token(ctx):
    with ctx.store.lock:
        ctx.user["access_token"] = uuid.uuid4().hex
        ctx.store.save()
        return ok(ctx.user["access_token"])


def available_models(ctx):
    with ctx.store.lock:
        return ok(enabled_models(ctx.store, ctx.user["group"]))


def get_options(ctx):
    items = [{"key": k, "value": v} for k, v in ctx.store.options().items()
             if not k.endswith(("Token", "Secret"))]
    random.shuffle(items)
    return ok(items)


def update_option(ctx):
    try:
        raw = ctx.json()
        if ctx.app.flavor == "newapi" and isinstance(raw, dict) and \
                isinstance(raw.get("value"), (bool, int, float)):
            value = raw["value"]  # New-API takes any JSON scalar and stores it as text
            raw = dict(raw, value=str(value).lower() if isinstance(value, bool) else str(value))
        body = bind(raw, OPTION_FIELDS, "Option")
    except (BindError, ValueError):
        return err("invalid parameter", status=400)
    key, value = body.get("key", ""), body.get("value", "")
    if key == "Theme" and value not in ("default", "berry", "air"):
        return err("无效的主题")
    with ctx.store.lock:
        ctx.store.data["options"][key] = value
        ctx.store.save()
    if key in ("ModelRatio", "GroupRatio", "CompletionRatio"):
        try:
            json.loads(value)
        except ValueError as exc:
            return err(str(exc))  # persisted anyway, as OneAPI does
    return ok()


def groups(ctx):
    try:
        names = list(json.loads(ctx.store.option("GroupRatio")))
    except ValueError:
        names = []
    random.shuffle(names)
    return ok(names)
