"""Ollama stand-in: Ollama's HTTP API on 11434, answered by a real llama.cpp server.

Any model name can be "pulled": the pull writes a manifest under OLLAMA_MODELS (so it
survives a restart) and every pulled name is answered by the bundled SmolLM2 GGUF, which
llama-cpp-python serves on a private loopback port. Unpulled names get Ollama's 404.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

VERSION = "0.12.10"
BACKEND_PORT = 11435
BACKEND_ALIAS = "smollm2"
KEEP_ALIVE_S = 300
MODEL_FILE = Path(os.environ.get("LAB_MODEL_FILE", "/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*(:[A-Za-z0-9._-]+)?$")
DETAILS = {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
           "parameter_size": "134.52M", "quantization_level": "Q4_1"}


def listen_address(value: str | None, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """OLLAMA_HOST forms: "host", "host:port", "http://host:port", ":port"."""
    value = (value or "").strip()
    value = re.sub(r"^https?://", "", value).rstrip("/")
    host, _, port = value.rpartition(":") if ":" in value else (value, "", "")
    return (host or default_host), int(port or 11434)


def models_dir() -> Path:
    return Path(os.environ.get("OLLAMA_MODELS", str(Path.home() / ".ollama" / "models")))


def split_name(name: str) -> tuple[str, str, str, str]:
    """"llama3" -> (registry.ollama.ai, library, llama3, latest), as Ollama resolves names."""
    base, _, tag = name.partition(":")
    parts = base.split("/")
    host = parts.pop(0) if len(parts) == 3 else "registry.ollama.ai"
    ns = parts.pop(0) if len(parts) == 2 else "library"
    return host, ns, parts[0], tag or "latest"


def display_name(name: str) -> str:
    host, ns, model, tag = split_name(name)
    if host == "registry.ollama.ai" and ns == "library":
        return f"{model}:{tag}"
    if host == "registry.ollama.ai":
        return f"{ns}/{model}:{tag}"
    return f"{host}/{ns}/{model}:{tag}"


def manifest_path(name: str) -> Path:
    host, ns, model, tag = split_name(name)
    return models_dir() / "manifests" / host / ns / model / tag


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class Store:
    """Pulled models: manifests on disk; last-use times in memory (for /api/ps)."""

    def __init__(self) -> None:
        self.used: dict[str, float] = {}
        self.lock = threading.Lock()

    def pull(self, name: str) -> dict:
        blob = "sha256:" + hashlib.sha256(f"{MODEL_FILE.name}".encode()).hexdigest()
        manifest = {"schemaVersion": 2,
                    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                    "layers": [{"mediaType": "application/vnd.ollama.image.model",
                                "digest": blob, "size": MODEL_FILE.stat().st_size}],
                    "name": display_name(name)}
        path = manifest_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(manifest))
        return manifest

    def get(self, name: str) -> dict | None:
        if not NAME_RE.match(name or ""):
            return None
        path = manifest_path(name)
        if not path.is_file():
            return None
        raw = path.read_bytes()
        stat = path.stat()
        return {"name": display_name(name), "model": display_name(name),
                "modified_at": datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(),
                "size": MODEL_FILE.stat().st_size, "digest": hashlib.sha256(raw).hexdigest(),
                "details": DETAILS}

    def all(self) -> list[dict]:
        root = models_dir() / "manifests"
        found = []
        for path in sorted(root.glob("*/*/*/*")) if root.is_dir() else []:
            host, ns, model, tag = path.relative_to(root).parts
            found.append(self.get(f"{host}/{ns}/{model}:{tag}"))
        return [m for m in found if m]

    def delete(self, name: str) -> bool:
        path = manifest_path(name)
        if not path.is_file():
            return False
        path.unlink()
        self.used.pop(display_name(name), None)
        return True

    def touch(self, name: str) -> None:
        with self.lock:
            self.used[display_name(name)] = time.time()

    def running(self) -> list[dict]:
        out = []
        for name, at in sorted(self.used.items()):
            model = self.get(name)
            if model and time.time() - at < KEEP_ALIVE_S:
                expires = datetime.fromtimestamp(at + KEEP_ALIVE_S, UTC).isoformat()
                out.append({**model, "expires_at": expires, "size_vram": 0})
        return out


STORE = Store()


def backend_ready(timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", BACKEND_PORT, timeout=2)
            conn.request("GET", "/v1/models")
            if conn.getresponse().status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


def backend(path: str, body: dict) -> http.client.HTTPResponse:
    if not backend_ready(120):
        raise OSError("llama.cpp backend did not start")
    conn = http.client.HTTPConnection("127.0.0.1", BACKEND_PORT, timeout=600)
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    return conn.getresponse()


def sse_events(resp: http.client.HTTPResponse):
    """Data payloads of an OpenAI SSE stream, decoded; stops at [DONE]."""
    for raw in resp:
        line = raw.decode().strip()
        if line.startswith("data:"):
            data = line[5:].strip()
            if data == "[DONE]":
                return
            yield json.loads(data)


def openai_request(req: dict) -> dict:
    """An Ollama /api/chat body -> an OpenAI chat request for the backend."""
    opts = req.get("options") or {}
    body = {"model": BACKEND_ALIAS, "messages": req.get("messages") or [],
            "stream": req.get("stream", True)}
    for ours, theirs in (("num_predict", "max_tokens"), ("temperature", "temperature"),
                         ("top_p", "top_p"), ("stop", "stop"), ("seed", "seed")):
        if ours in opts:
            body[theirs] = opts[ours]
    if body.get("max_tokens", 0) < 0:
        body.pop("max_tokens")
    return body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ollama-lab"

    def log_message(self, fmt, *args):
        sys.stderr.write(f"[lab-ollama] {self.command} {self.path} {args[1] if len(args) > 1 else ''}\n")

    # -- plumbing
    def body(self) -> dict:
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return {}

    def send_json(self, obj, status: int = 200) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def start_stream(self, ctype: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def not_found(self, name: str, openai: bool) -> None:
        msg = f'model "{name}" not found, try pulling it first'
        if openai:
            self.send_json({"error": {"message": msg, "type": "api_error", "param": None,
                                      "code": None}}, 404)
        else:
            self.send_json({"error": msg}, 404)

    # -- routes
    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/":
            data = b"Ollama is running"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        elif path == "/api/version":
            self.send_json({"version": VERSION})
        elif path == "/api/tags":
            self.send_json({"models": STORE.all()})
        elif path == "/api/ps":
            self.send_json({"models": STORE.running()})
        elif path == "/v1/models":
            self.send_json({"object": "list", "data": [
                {"id": m["name"], "object": "model", "owned_by": "library",
                 "created": int(datetime.fromisoformat(m["modified_at"]).timestamp())}
                for m in STORE.all()]})
        else:
            self.send_json({"error": "404 page not found"}, 404)

    def do_DELETE(self):
        if self.path != "/api/delete":
            return self.send_json({"error": "404 page not found"}, 404)
        body = self.body()
        name = body.get("model") or body.get("name") or ""
        if STORE.delete(name):
            self.send_json({})
        else:
            self.send_json({"error": f"model '{name}' not found"}, 404)

    def do_POST(self):
        path = self.path.split("?")[0]
        req = self.body()
        routes = {"/api/pull": self.pull, "/api/chat": self.chat, "/api/generate": self.generate,
                  "/api/show": self.show, "/v1/chat/completions": self.openai_proxy,
                  "/v1/completions": self.openai_proxy}
        if path not in routes:
            return self.send_json({"error": "404 page not found"}, 404)
        try:
            routes[path](req)
        except (OSError, ValueError) as exc:
            self.send_json({"error": str(exc)}, 500)

    def pull(self, req: dict) -> None:
        name = req.get("model") or req.get("name") or ""
        if not NAME_RE.match(name):
            return self.send_json({"error": "invalid model name"}, 400)
        size = MODEL_FILE.stat().st_size
        manifest = STORE.pull(name)
        if req.get("stream", True) is False:
            return self.send_json({"status": "success"})
        digest = manifest["layers"][0]["digest"]
        self.start_stream("application/x-ndjson")
        steps = [{"status": "pulling manifest"}]
        steps += [{"status": f"pulling {digest[7:19]}", "digest": digest, "total": size,
                   "completed": size * i // 4} for i in range(1, 5)]
        steps += [{"status": "verifying sha256 digest"}, {"status": "writing manifest"},
                  {"status": "success"}]
        for step in steps:
            self.chunk(json.dumps(step).encode() + b"\n")
        self.end_stream()

    def show(self, req: dict) -> None:
        name = req.get("model") or req.get("name") or ""
        model = STORE.get(name)
        if not model:
            return self.not_found(name, False)
        self.send_json({"modelfile": f"FROM {MODEL_FILE}\n", "parameters": "", "template": "",
                        "details": DETAILS, "model_info": {"general.architecture": "llama"},
                        "capabilities": ["completion"], "modified_at": model["modified_at"]})

    def generate(self, req: dict) -> None:
        messages = [{"role": "user", "content": req.get("prompt", "")}]
        if req.get("system"):
            messages.insert(0, {"role": "system", "content": req["system"]})
        self.chat({**req, "messages": messages}, key="response")

    def chat(self, req: dict, key: str = "message") -> None:
        name = req.get("model", "")
        if not STORE.get(name):
            return self.not_found(name, False)
        STORE.touch(name)
        model = display_name(name)
        started = time.monotonic_ns()
        body = openai_request(req)

        def piece(text: str):
            return {"role": "assistant", "content": text} if key == "message" else text

        resp = backend("/v1/chat/completions", body)
        if resp.status != 200:
            return self.send_json({"error": resp.read().decode()}, resp.status)
        if not body["stream"]:
            out = json.loads(resp.read())
            usage = out.get("usage") or {}
            return self.send_json({
                "model": model, "created_at": now_iso(),
                key: piece(out["choices"][0]["message"]["content"] or ""), "done": True,
                "done_reason": out["choices"][0].get("finish_reason") or "stop",
                "total_duration": time.monotonic_ns() - started,
                "prompt_eval_count": usage.get("prompt_tokens", 0),
                "eval_count": usage.get("completion_tokens", 0)})
        self.start_stream("application/x-ndjson")
        count, reason = 0, "stop"
        for event in sse_events(resp):
            choice = (event.get("choices") or [{}])[0]
            text = (choice.get("delta") or {}).get("content")
            reason = choice.get("finish_reason") or reason
            if text:
                count += 1
                self.chunk(json.dumps({"model": model, "created_at": now_iso(),
                                       key: piece(text), "done": False}).encode() + b"\n")
        self.chunk(json.dumps({"model": model, "created_at": now_iso(), key: piece(""),
                               "done": True, "done_reason": reason,
                               "total_duration": time.monotonic_ns() - started,
                               "eval_count": count}).encode() + b"\n")
        self.end_stream()

    def openai_proxy(self, req: dict) -> None:
        name = req.get("model", "")
        if not STORE.get(name):
            return self.not_found(name, True)
        STORE.touch(name)
        resp = backend(self.path.split("?")[0], {**req, "model": BACKEND_ALIAS})
        if not req.get("stream"):
            out = json.loads(resp.read() or b"{}")
            if isinstance(out, dict) and "model" in out:
                out["model"] = name
            return self.send_json(out, resp.status)
        self.start_stream("text/event-stream")
        for event in sse_events(resp):
            event["model"] = name
            self.chunk(b"data: " + json.dumps(event).encode() + b"\n\n")
        self.chunk(b"data: [DONE]\n\n")
        self.end_stream()


def start_backend() -> subprocess.Popen:
    return subprocess.Popen([
        "/opt/llama/bin/python", "-m", "llama_cpp.server", "--model", str(MODEL_FILE),
        "--model_alias", BACKEND_ALIAS, "--host", "127.0.0.1", "--port", str(BACKEND_PORT),
        "--n_ctx", os.environ.get("OLLAMA_CONTEXT_LENGTH", "4096"), "--verbose", "false"])


def serve() -> None:
    host, port = listen_address(os.environ.get("OLLAMA_HOST"))
    models_dir().mkdir(parents=True, exist_ok=True)
    proc = start_backend()
    # PID 1 in the container: stop promptly on `docker stop`
    signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
    httpd = ThreadingHTTPServer((host, port), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(f"[lab-ollama] Listening on {host}:{port} (version {VERSION})", file=sys.stderr,
          flush=True)
    # the container lives as long as the real model server does
    code = proc.wait()
    httpd.shutdown()
    sys.exit(0 if code in (0, -signal.SIGTERM) else code)


if __name__ == "__main__":
    serve()
