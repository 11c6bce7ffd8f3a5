"""Upstream side of the relay: URL rules per channel type, mapping, error shapes."""
import http.client
import json
import os
import ssl
import threading
import uuid
from urllib.parse import urlsplit

# OpenAI-style adaptors: URL = base_url (or the type default) + request path.
OPENAI_STYLE = {
    1: "https://api.openai.com", 2: "https://oa.api2d.net", 4: "https://api.closeai-proxy.xyz",
    5: "https://api.openai-sb.com", 6: "https://api.openaimax.com", 7: "https://api.ohmygpt.com",
    8: "", 9: "https://api.caipacity.com", 10: "https://api.aiproxy.io",
    12: "https://api.api2gpt.com", 13: "https://api.aigc2d.com", 19: "https://ai.360.cn",
    20: "https://openrouter.ai/api", 25: "https://api.moonshot.cn", 28: "https://api.mistral.ai",
    29: "https://api.groq.com/openai", 31: "https://api.lingyiwanwu.com",
    32: "https://api.stepfun.com", 36: "https://api.deepseek.com",
    39: "https://api.together.xyz", 44: "https://api.siliconflow.cn", 45: "https://api.x.ai",
}
# Base URL carries the API version; the request path's leading /v1 is dropped.
VERSIONED = {50: "", 51: "https://generativelanguage.googleapis.com/v1beta/openai/"}
# New-API's own ids (docs/gateway-contract.md §10.5): OpenAI-style ones keep the request path after the base.
NEWAPI_OPENAI_STYLE = {
    1: "https://api.openai.com", 8: "", 20: "https://openrouter.ai/api",
    25: "https://api.moonshot.cn", 40: "https://api.siliconflow.cn",
    42: "https://api.mistral.ai", 43: "https://api.deepseek.com", 48: "https://api.x.ai",
}

CERT_DIR = "/etc/ssl/certs"


def tls_context(cert_dir=CERT_DIR):
    """System CAs plus every PEM file in ``cert_dir``, as Go's crypto/x509 (OneAPI) loads them:
    a CA mounted into /etc/ssl/certs is trusted without rebuilding the hashed directory."""
    ctx = ssl.create_default_context()
    if os.path.isdir(cert_dir):
        for name in sorted(os.listdir(cert_dir)):
            path = os.path.join(cert_dir, name)
            if name.endswith((".pem", ".crt")) and os.path.isfile(path):
                try:
                    ctx.load_verify_locations(cafile=path)
                except (ssl.SSLError, OSError):
                    pass  # not a certificate: Go skips such files too
    return ctx


_TLS = tls_context()


class _Pool:
    """Idle keep-alive connections per upstream origin. OneAPI's Go client keeps its
    connections (and speaks HTTP/2 to a TLS upstream: one connection for every stream); a
    fresh TCP + TLS handshake per request would make the emulator, not the hop it stands
    in for, what fifty concurrent streams measure."""

    def __init__(self, keep=64):
        self.keep, self._idle, self._lock = keep, {}, threading.Lock()

    def get(self, origin):
        with self._lock:
            idle = self._idle.get(origin)
            return idle.pop() if idle else None

    def put(self, origin, conn):
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self.keep:
                idle.append(conn)
                return
        conn.close()


_POOL = _Pool()


class _Response:
    """An upstream answer; closing it hands a fully read connection back to the pool."""

    def __init__(self, resp, conn, origin):
        self._resp, self._conn, self._origin = resp, conn, origin
        self.status, self.headers = resp.status, resp.headers

    def read(self, *args):
        return self._resp.read(*args)

    def readline(self, *args):
        return self._resp.readline(*args)

    def close(self):
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self._resp.isclosed() and not self._resp.will_close:
            _POOL.put(self._origin, conn)
        else:  # unread body or `Connection: close`: the connection cannot carry another
            conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Unsupported(Exception):
    pass


def request_id():
    return uuid.uuid4().hex[:20]


def relay_error(status, message, etype="one_api_error", code=None):
    err = {"message": f"{message} (request id: {request_id()})", "type": etype}
    if code is not None:
        err.update(param="", code=code)
    return status, {"error": err}


def build_url(channel, path, flavor="oneapi"):
    ctype, base = channel["type"], channel.get("base_url") or ""
    if flavor == "newapi":
        if ctype in NEWAPI_OPENAI_STYLE:
            return (base or NEWAPI_OPENAI_STYLE[ctype]).rstrip("/") + path
        raise Unsupported(f"channel type {ctype} is not emulated")
    if ctype in VERSIONED:
        base = base or VERSIONED[ctype]
        tail = path[3:] if path.startswith("/v1") else path
        return base.rstrip("/") + tail
    if ctype in OPENAI_STYLE:
        return (base or OPENAI_STYLE[ctype]) + path
    raise Unsupported(f"channel type {ctype} is not emulated")


def mapped_model(channel, model):
    try:
        mapping = json.loads(channel.get("model_mapping") or "{}")
    except ValueError:
        return model  # invalid mapping JSON is silently ignored
    target = mapping.get(model) if isinstance(mapping, dict) else None
    return target if isinstance(target, str) and target else model


def prepare_body(channel, raw, body):
    """Original bytes unless the mapping changed the model (then re-encode)."""
    target = mapped_model(channel, body["model"])
    if target == body["model"]:
        return raw
    body = dict(body, model=target)
    if body.get("stream"):
        options = dict(body.get("stream_options") or {})
        options["include_usage"] = True
        body["stream_options"] = options
    return json.dumps(body).encode()


def _connect(url, timeout):
    if url.scheme == "https":
        return http.client.HTTPSConnection(url.hostname, url.port, timeout=timeout,
                                           context=_TLS)
    if url.scheme == "http":
        return http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    raise ValueError(f"unknown url type: {url.scheme!r}")


def open_upstream(channel, path, payload, stream, flavor="oneapi"):
    """Return an HTTP response (error statuses included; close it when done) or raise
    OSError."""
    url = urlsplit(build_url(channel, path, flavor))
    target = (url.path or "/") + (f"?{url.query}" if url.query else "")
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + channel["key"],
               "Accept": "text/event-stream" if stream else "application/json"}
    timeout = int(os.environ.get("RELAY_TIMEOUT") or 0) or None
    origin = (url.scheme, url.hostname, url.port)
    kept = _POOL.get(origin)
    if kept is not None:
        try:
            kept.request("POST", target, payload, headers)
            return _Response(kept.getresponse(), kept, origin)
        except (OSError, http.client.HTTPException):
            kept.close()  # the far side closed it while idle (as Go, one more try on a new one)
    conn = _connect(url, timeout)
    try:
        conn.request("POST", target, payload, headers)
        return _Response(conn.getresponse(), conn, origin)
    except OSError:
        conn.close()
        raise
    except http.client.HTTPException as exc:
        conn.close()
        raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc


def upstream_error(status, data):
    """Pass an upstream failure through with its status and error object."""
    try:
        obj = json.loads(data)
    except ValueError:
        obj = None
    err = obj.get("error") if isinstance(obj, dict) else None
    if status == 429:
        err = {"message": "upstream saturated, please try again later",
               "type": "upstream_error"}
    elif not isinstance(err, dict):
        text = data.decode(errors="replace").strip() or f"bad response status code {status}"
        err = {"message": text, "type": "upstream_error", "param": "", "code": str(status)}
    err = dict(err)
    err["message"] = f"{err.get('message', '')} (request id: {request_id()})"
    return status, {"error": err}
