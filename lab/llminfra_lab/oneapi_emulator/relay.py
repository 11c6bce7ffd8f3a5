"""/v1 relay subset (docs/gateway-contract.md §7, §8): token auth, distribution, forwarding."""
import ipaddress
import json
import random
import time

from .channels import abilities, enabled_models
from .common import CATALOGUE, atoi, model_object
from .upstream import Unsupported, open_upstream, prepare_body, relay_error, upstream_error


def allowed_models(token):
    """The token's model allow-list ([] = any): OneAPI ``models``, New-API ``model_limits``."""
    if "model_limits_enabled" in token:
        text = token.get("model_limits") or "" if token["model_limits_enabled"] else ""
    else:
        text = token.get("models") or ""
    return [m for m in text.split(",") if m]


def allowed_nets(token):
    """Client networks ([] = any): OneAPI ``subnet`` (commas), New-API ``allow_ips`` (lines)."""
    text = token.get("allow_ips") if "allow_ips" in token else token.get("subnet")
    parts = (text or "").replace("\n", ",").split(",")
    return [ipaddress.ip_network(p.strip(), strict=False) for p in parts if p.strip()]


def token_auth(ctx):
    """Return (token, user, pinned_channel) or an error response tuple."""
    header = ctx.headers.get("Authorization", "")
    key = header[7:] if header.startswith("Bearer ") else header
    key = key[3:] if key.startswith("sk-") else key
    parts = key.split("-")
    store = ctx.store
    token = store.find("tokens", key=parts[0]) if parts[0] else None
    if not header or token is None:
        return relay_error(401, "无效的令牌" if header else "未提供令牌")
    now = time.time()
    if token["status"] == 1 and token["expired_time"] != -1 and token["expired_time"] < now:
        token["status"] = 3
        store.save()
    if token["status"] == 1 and not token["unlimited_quota"] and token["remain_quota"] <= 0:
        token["status"] = 4
        store.save()
    messages = {2: "该令牌状态不可用", 3: "该令牌已过期", 4: "该令牌额度已用尽"}
    if token["status"] != 1:
        return relay_error(401, messages.get(token["status"], "该令牌状态不可用"))
    nets = allowed_nets(token)
    if nets:
        ip = ipaddress.ip_address(ctx.client_ip)
        if not any(ip in n for n in nets):
            shown = ",".join(str(n) for n in nets)
            return relay_error(403, f"该令牌只能在指定网段使用：{shown}，当前 ip：{ip}")
    user = store.find("users", id=token["user_id"])
    if not user or user["status"] != 1:
        return relay_error(403, "用户已被封禁")
    pinned = None
    if len(parts) > 1:
        if user["role"] < 10:
            return relay_error(403, "普通用户不支持指定渠道")
        pinned = store.find("channels", id=atoi(parts[1]))
        if pinned is None:
            return relay_error(400, "无效的渠道 Id")
        if pinned["status"] != 1:
            return relay_error(403, "该渠道已被禁用")
    return token, user, pinned


def _validate(path, body):
    if not isinstance(body, dict) or not body.get("model"):
        return "field model is required"
    if path.endswith("chat/completions") and not body.get("messages"):
        return "field messages is required"
    if path == "/v1/completions" and "prompt" not in body:
        return "field prompt is required"
    max_tokens = body.get("max_tokens", 0)
    if not isinstance(max_tokens, int) or not 0 <= max_tokens < 2 ** 30:
        return "max_tokens is invalid"
    return None


def select_channel(store, group, model):
    """The top priority tier, then uniformly at random (OneAPI's DB mode) or weighted by
    ``weight`` (New-API; all-zero weights count as equal)."""
    candidates = abilities(store, group, model)
    if not candidates:
        return None
    top = max(c.get("priority") or 0 for c in candidates)
    tier = [c for c in candidates if (c.get("priority") or 0) == top]
    weights = [c.get("weight") or 0 for c in tier]
    if store.flavor == "newapi" and any(weights):
        return random.choices(tier, weights=weights)[0]
    return random.choice(tier)


def relay_text(ctx):
    with ctx.store.lock:
        auth = token_auth(ctx)
    if isinstance(auth[0], int):
        return auth
    token, user, pinned = auth
    try:
        body = json.loads(ctx.body or b"null")
    except ValueError:
        body = None
    problem = _validate(ctx.path, body)
    if problem:
        return relay_error(400, problem, "invalid_request_error", "invalid_request")
    model = body["model"]
    limits = allowed_models(token)
    if limits and model not in limits:
        return relay_error(403, f"该令牌无权使用模型：{model}")
    with ctx.store.lock:
        channel = pinned or select_channel(ctx.store, user["group"], model)
        channel = dict(channel) if channel else None
    if channel is None:
        return relay_error(503, f"当前分组 {user['group']} 下对于模型 {model} 无可用渠道")
    stream = bool(body.get("stream"))
    try:
        resp = open_upstream(channel, ctx.path, prepare_body(channel, ctx.body, body), stream,
                             ctx.app.flavor)
    except Unsupported as exc:
        return relay_error(500, str(exc))
    except OSError as exc:
        return relay_error(500, f"do request failed: {exc}", code="do_request_failed")
    with resp:
        if resp.status != 200:
            return upstream_error(resp.status, resp.read())
        if not stream:
            return 200, resp.read(), {"Content-Type": "application/json"}
        if "text/event-stream" not in resp.headers.get("Content-Type", ""):
            return relay_error(500, "upstream answered a stream request without a stream")
        _pump(ctx.handler, resp)
    return None


def _pump(handler, resp):
    """Re-emit each upstream ``data:`` event as soon as it arrives; end with [DONE]."""
    handler.start_chunked(200, {"Content-Type": "text/event-stream",
                                "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    try:
        for line in iter(resp.readline, b""):
            line = line.strip()
            if not line.startswith(b"data:"):
                continue
            payload = line[5:].strip()
            try:
                chunk = json.loads(payload)
            except ValueError:
                continue  # includes [DONE]; it is re-added at the end
            if isinstance(chunk, dict) and (chunk.get("choices") or chunk.get("usage")):
                handler.write_chunk(b"data: " + payload + b"\n\n")
        handler.write_chunk(b"data: [DONE]\n\n")
        handler.end_chunked()
    except OSError:
        handler.close_connection = True


def list_models(ctx):
    with ctx.store.lock:
        auth = token_auth(ctx)
        if isinstance(auth[0], int):
            return auth
        token, user, _ = auth
        names = allowed_models(token) or enabled_models(ctx.store, user["group"])
    return 200, {"object": "list", "data": [model_object(n) for n in names if n]}


def get_model(ctx):
    with ctx.store.lock:
        auth = token_auth(ctx)
    if isinstance(auth[0], int):
        return auth
    name = ctx.params["model"]
    if name in CATALOGUE:
        return 200, model_object(name)
    return 200, {"error": {"message": f"The model '{name}' does not exist",
                           "type": "invalid_request_error", "param": "model",
                           "code": "model_not_found"}}


ROUTES = [
    ("GET", "/v1/models", list_models, None),
    ("GET", "/v1/models/:model", get_model, None),
    ("POST", "/v1/chat/completions", relay_text, None),
    ("POST", "/v1/completions", relay_text, None),
    # OneAPI validates no field of an embeddings request but `model` (validation.go)
    ("POST", "/v1/embeddings", relay_text, None),
]
