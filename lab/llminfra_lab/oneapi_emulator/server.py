"""HTTP front of the emulator: routing, auth middleware, redirects, fault injection."""
import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from . import admin, relay
from .faults import Faults

NO_AUTH_MSG = "无权进行此操作，未登录且未提供 access token"
ROLE_MIN = {"user": 1, "admin": 10, "root": 100}


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


class Ctx:
    """One request as the route handlers see it."""

    def __init__(self, handler, method, path, query, body):
        self.handler, self.method, self.path = handler, method, path
        self.query, self.body = query, body
        self.headers = handler.headers
        self.client_ip = handler.client_address[0]
        self.app = handler.server.app
        self.store = self.app.store
        self.user = None
        self.params = {}
        self.set_cookie = None

    def arg(self, name, default=""):
        return self.query.get(name, [default])[0]

    def json(self):
        return json.loads(self.body.decode() or "null")


NO_USER_HEADER = "无权进行此操作，未提供 New-Api-User"
BAD_USER_HEADER = "无权进行此操作，New-Api-User 格式错误"
WRONG_USER_HEADER = "无权进行此操作，New-Api-User 与登录用户不匹配"
# rate-limit classes: (requests, window seconds); "critical" is shared by login and the
# token key routes per client IP, "search" counts per user (docs/gateway-contract.md §3.1, §10.6)
LIMITS = {"critical": (20, 20 * 60), "search": (10, 60)}


def _compile(routes):
    table = []
    for method, pattern, func, auth, *limit in routes:
        segs = pattern.strip("/").split("/")
        static = not any(s.startswith(":") for s in segs)
        table.append((method, pattern.endswith("/"), segs, static, func, auth,
                      limit[0] if limit else None))
    table.sort(key=lambda r: not r[3])  # static routes win over parameter routes, like gin
    return table


TABLES = {"oneapi": _compile(admin.ROUTES + relay.ROUTES),
          "newapi": _compile(admin.NEWAPI_ROUTES + relay.ROUTES)}


def match(method, path, flavor="oneapi"):
    segs = path.strip("/").split("/")
    slash = path.endswith("/") and path != "/"
    for m, want_slash, pat, _, func, auth, limit in TABLES[flavor]:
        if m != method or len(pat) != len(segs) or want_slash != slash:
            continue
        params = {}
        for p, s in zip(pat, segs, strict=False):
            if p.startswith(":"):
                params[p[1:]] = s
            elif p != s:
                break
        else:
            return func, auth, params, limit
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out as two writes; with Nagle on, the client's delayed ACK adds
    # ~40 ms to every answer (Go's net/http, which OneAPI uses, sets TCP_NODELAY too)
    disable_nagle_algorithm = True
    server_version = "one-api-emulator"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def _dispatch(self, method):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        ctx = Ctx(self, method, url.path, parse_qs(url.query, keep_blank_values=True), body)
        self._recorded = False
        status = 0
        try:
            status = self._route(ctx, url)
        finally:
            self._record(status)

    def _record(self, status):
        # before the answer leaves, so a client never sees a reply the log does not hold yet
        if not self._recorded:
            self._recorded = True
            self.server.app.record(self.command, self.path, status)

    def _route(self, ctx, url):
        app = ctx.app
        if ctx.path.startswith("/_emulator/"):
            return self.send(*app.control(ctx))
        found = match(ctx.method, ctx.path, app.flavor)
        if not found:
            alt = ctx.path[:-1] if ctx.path.endswith("/") else ctx.path + "/"
            if match(ctx.method, alt, app.flavor):
                loc = alt + ("?" + url.query if url.query else "")
                code = 301 if ctx.method == "GET" else 307
                return self.send(code, b"", {"Location": loc})
            if ctx.path.startswith(("/api/", "/v1/")) or ctx.path in ("/api", "/v1"):
                msg = f"Invalid URL ({ctx.method} {ctx.path})"
                err = {"message": msg, "type": "invalid_request_error", "param": "", "code": ""}
                return self.send(404, {"error": err})
            return self.send(200, b"<html><body>One API</body></html>",
                             {"Content-Type": "text/html; charset=utf-8"})
        func, auth, ctx.params, limit = found
        if limit == "critical" and app.limited(limit, ctx.client_ip):
            return self.send(429, b"")
        fault = app.faults.take(ctx.method, ctx.path)
        if fault == "drop":
            self.close_connection = True
            return 0
        if fault == "fail":
            return self.send(200, {"success": False, "message": "emulated fault"})
        if auth in ROLE_MIN:
            denied = self._auth(ctx, ROLE_MIN[auth])
            if denied:
                return self.send(*denied)
        if limit == "search" and app.limited(limit, ctx.user["id"]):
            return self.send(429, b"")
        result = func(ctx)
        if result is None:  # handler streamed its own response
            return 200
        if fault == "lose":  # the write happened, the answer is lost
            self.close_connection = True
            return 0
        status, payload = result[0], result[1]
        if fault == "short" and isinstance(payload, dict) and payload.get("data"):
            if isinstance(payload["data"], list):
                payload["data"] = payload["data"][:-1]
        headers = result[2] if len(result) > 2 else {}
        if ctx.set_cookie:
            headers["Set-Cookie"] = ctx.set_cookie
        return self.send(status, payload, headers)

    def _auth(self, ctx, min_role):
        store = ctx.store
        session = ctx.app.read_session(self.headers.get("Cookie", ""))
        with store.lock:
            if session:
                user = store.find("users", id=session["id"])
                role = session["role"]
            else:
                header = self.headers.get("Authorization", "")
                if not header:
                    return 401, {"success": False, "message": NO_AUTH_MSG}
                token = header[7:] if header.startswith("Bearer ") else header
                user = store.find("users", access_token=token) if token else None
                if not user:
                    return 200, {"success": False, "message": "无权进行此操作，access token 无效"}
                role = user["role"]
            if ctx.app.flavor == "newapi":
                refused = self._user_header(user)
                if refused:
                    return 401, {"success": False, "message": refused}
            if not user or user["status"] != 1:
                return 200, {"success": False, "message": "用户已被封禁"}
            if role < min_role:
                return 200, {"success": False, "message": "无权进行此操作，权限不足"}
            ctx.user = user
        return None

    def _user_header(self, user):
        """New-API: every authenticated admin call names its user in ``New-Api-User``."""
        raw = self.headers.get("New-Api-User", "")
        if not raw:
            return NO_USER_HEADER
        try:
            claimed = int(raw)
        except ValueError:
            return BAD_USER_HEADER
        return None if user and claimed == user["id"] else WRONG_USER_HEADER

    def send(self, status, payload, headers=None):
        self._record(status)
        headers = dict(headers or {})
        if isinstance(payload, (dict, list)):
            payload = dumps(payload)
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        return status

    def start_chunked(self, status, headers):
        self._record(status)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def write_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_chunked(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class App:
    """Process-wide emulator state shared by request threads."""

    def __init__(self, store, env):
        self.store = store
        self.env = env
        self.flavor = store.flavor
        secret = env.get("SESSION_SECRET", "")
        if not secret or secret == "random_string":
            secret = str(uuid.uuid4())
        self.secret = secret.encode()
        self.faults = Faults.parse(env.get("EMULATOR_FAULTS", ""))
        self.control_enabled = env.get("EMULATOR_CONTROL") == "1"
        self.start_time = int(time.time())
        self.requests = []
        self.hits = {}
        self._lock = threading.Lock()

    def limited(self, kind, ident):
        """Count one hit of rate-limit class ``kind`` for ``ident``; True when over."""
        limit, window = LIMITS[kind]
        now = time.time()
        with self._lock:
            hits = [t for t in self.hits.get((kind, ident), []) if now - t < window]
            hits.append(now)
            self.hits[(kind, ident)] = hits
            return len(hits) > limit

    def record(self, method, path, status):
        with self._lock:
            self.requests.append((method, path, status))

    def make_session(self, user):
        data = {k: user[k] for k in ("id", "username", "role", "status")}
        raw = base64.urlsafe_b64encode(dumps(data)).decode()
        sig = hmac.new(self.secret, raw.encode(), hashlib.sha256).hexdigest()
        return f"session={raw}.{sig}; Path=/; Max-Age=2592000"

    def read_session(self, cookie_header):
        for part in cookie_header.split(";"):
            name, _, value = part.strip().partition("=")
            if name != "session" or "." not in value:
                continue
            raw, _, sig = value.rpartition(".")
            good = hmac.new(self.secret, raw.encode(), hashlib.sha256).hexdigest()
            if hmac.compare_digest(sig, good):
                return json.loads(base64.urlsafe_b64decode(raw))
        return None

    def control(self, ctx):
        """Test hooks outside the OneAPI surface: request log and fault setting."""
        if ctx.path == "/_emulator/requests" and ctx.method == "GET":
            with self._lock:
                return 200, {"requests": [list(r) for r in self.requests]}
        if ctx.path == "/_emulator/faults" and ctx.method == "PUT" and self.control_enabled:
            self.faults = Faults.parse(ctx.json().get("faults", ""))
            return 200, {"success": True}
        return 404, {"error": {"message": "not found"}}
