"""Ollama stand-in: Ollama's HTTP API on 11434, answered by a real llama.cpp server.

Any model name can be "pulled": the pull writes a manifest under OLLAMA_MODELS (so it
survives a restart) and every pulled name is answered by the bundled SmolLM2 GGUF, which
llama-cpp-python serves on a private loopback port. Names listed in LAB_OLLAMA_UNKNOWN
(comma-separated) fail to pull as a registry without them would. Which names count as
loaded, keep-alive, OLLAMA_NUM_PARALLEL / OLLAMA_MAX_LOADED_MODELS / OLLAMA_MAX_QUEUE follow
Ollama v0.12.10 (ollama_sched.py); status codes and error texts follow its server/routes.go.
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

sys.path.insert(0, str(Path(__file__).parent))
from ollama_sched import Busy, Scheduler, keep_alive_ns  # noqa: E402

VERSION = "0.12.10"
BACKEND_PORT = 11435
BACKEND_ALIAS = "smollm2"
CONTEXT_LENGTH = int(os.environ.get("OLLAMA_CONTEXT_LENGTH") or 4096)
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
    """Pulled models: manifests on disk."""

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
        """/api/tags order: most recently modified first."""
        root = models_dir() / "manifests"
        found = []
        for path in root.glob("*/*/*/*") if root.is_dir() else []:
            host, ns, model, tag = path.relative_to(root).parts
            found.append(self.get(f"{host}/{ns}/{model}:{tag}"))
        models = [m for m in found if m]
        return sorted(models, key=lambda m: -int(datetime.fromisoformat(m["modified_at"]).timestamp()))

    def delete(self, name: str) -> bool:
        path = manifest_path(name)
        if not path.is_file():
            return False
        path.unlink()
        SCHED.forget(display_name(name))
        return True

    def running(self) -> list[dict]:
        out = []
        for runner, expires in SCHED.running():
            model = self.get(runner.name)
            if model:
                out.append({"name": model["name"], "model": model["model"],
                            "size": model["size"], "digest": model["digest"],
                            "details": DETAILS, "expires_at": iso(expires), "size_vram": 0,
                            "context_length": CONTEXT_LENGTH})
        return out


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


STORE = Store()
SCHED = Scheduler.from_env()
UNKNOWN = {n.strip() for n in os.environ.get("LAB_OLLAMA_UNKNOWN", "").split(",") if n.strip()}


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
    # one small write per streamed event: with Nagle on, events wait for the reader's delayed
    # ACK and reach it in bursts (Go's net/http, which Ollama uses, sets TCP_NODELAY)
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        sys.stderr.write(f"[lab-ollama] {self.command} {self.path} {args[1] if len(args) > 1 else ''}\n")

    # -- plumbing
    def body(self) -> dict:
        """The JSON body; BadRequest with Ollama's texts for none or a malformed one."""
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if not raw.strip():
            raise BadRequest("missing request body")
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise BadRequest(f"invalid character in JSON: {exc.msg}") from None
        if not isinstance(body, dict):
            raise BadRequest("json: cannot unmarshal into Go value of type api.Request")
        return body

    def send_json(self, obj, status: int = 200) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_error_json(self, message: str, status: int, openai: bool = False) -> None:
        """Ollama's {"error": "..."}; the OpenAI routes wrap it as OpenAI's error object (its
        middleware keeps the status and calls every such error api_error)."""
        if openai:
            return self.send_json({"error": {"message": message, "type": "api_error",
                                             "param": None, "code": None}}, status)
        self.send_json({"error": message}, status)

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

    def ndjson(self, obj: dict) -> None:
        self.chunk(json.dumps(obj).encode() + b"\n")

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
        try:
            body = self.body()
        except BadRequest as exc:
            return self.send_json({"error": str(exc)}, 400)
        name = body.get("model") or body.get("name") or ""
        if STORE.delete(name):
            self.send_json({})
        else:
            self.send_json({"error": f"model '{name}' not found"}, 404)

    def do_POST(self):
        path = self.path.split("?")[0]
        routes = {"/api/pull": self.pull, "/api/chat": self.chat, "/api/generate": self.generate,
                  "/api/show": self.show, "/v1/chat/completions": self.openai_proxy,
                  "/v1/completions": self.openai_proxy}
        if path not in routes:
            return self.send_json({"error": "404 page not found"}, 404)
        openai = path.startswith("/v1/")
        try:
            routes[path](self.body())
        except BadRequest as exc:
            self.send_error_json(str(exc), 400, openai)
        except Busy as exc:
            self.send_error_json(str(exc), 503, openai)
        except (OSError, ValueError) as exc:
            self.send_error_json(str(exc), 500, openai)

    def pull(self, req: dict) -> None:
        name = req.get("model") or req.get("name") or ""
        if not NAME_RE.match(name):
            raise BadRequest("invalid model name")
        stream = req.get("stream", True) is not False
        if display_name(name) in {display_name(u) for u in UNKNOWN}:
            # the registry has no such manifest: Ollama's stream has already begun (200)
            error = "pull model manifest: file does not exist"
            if not stream:
                return self.send_json({"error": error}, 500)
            self.start_stream("application/x-ndjson")
            self.ndjson({"status": "pulling manifest"})
            self.ndjson({"error": error})
            return self.end_stream()
        size = MODEL_FILE.stat().st_size
        manifest = STORE.pull(name)
        if not stream:  # the last progress message, as Ollama's waitForStream returns it
            return self.send_json({"status": "success"})
        digest = manifest["layers"][0]["digest"]
        self.start_stream("application/x-ndjson")
        steps = [{"status": "pulling manifest"}]
        steps += [{"status": f"pulling {digest[7:19]}", "digest": digest, "total": size,
                   "completed": size * i // 4} for i in range(1, 5)]
        steps += [{"status": "verifying sha256 digest"}, {"status": "writing manifest"},
                  {"status": "success"}]
        for step in steps:
            self.ndjson(step)
        self.end_stream()

    def show(self, req: dict) -> None:
        name = req.get("model") or req.get("name") or ""
        model = STORE.get(name)
        if not model:
            return self.send_error_json(f"model '{name}' not found", 404)
        self.send_json({"modelfile": f"FROM {MODEL_FILE}\n", "parameters": "", "template": "",
                        "details": DETAILS, "model_info": {"general.architecture": "llama"},
                        "capabilities": ["completion"], "modified_at": model["modified_at"]})

    def generate(self, req: dict) -> None:
        name = req.get("model") or ""
        request_keep_alive(req)  # a bad keep_alive fails the body's decoding: first
        if not STORE.get(name):  # an invalid name is "not found" here too (routes.go)
            return self.send_error_json(f"model '{name}' not found", 404)
        messages = [{"role": "user", "content": req.get("prompt", "")}]
        if req.get("system"):
            messages.insert(0, {"role": "system", "content": req["system"]})
        self.chat({**req, "messages": messages}, key="response", empty=not req.get("prompt"))

    def chat(self, req: dict, key: str = "message", empty: bool | None = None) -> None:
        name = req.get("model") or ""
        keep = request_keep_alive(req)
        if not NAME_RE.match(name):
            raise BadRequest("model is required")
        if not STORE.get(name):
            return self.send_error_json(f"model '{name}' not found", 404)
        empty = not req.get("messages") if empty is None else empty
        model = display_name(name)

        def piece(text: str):
            return {"role": "assistant", "content": text} if key == "message" else text

        if empty and keep == 0:  # an unload request
            SCHED.unload(model)
            return self.send_json({"model": req["model"], "created_at": now_iso(),
                                   key: piece(""), "done": True, "done_reason": "unload"})
        runner = SCHED.acquire(model, keep)
        try:
            if empty:  # a load request
                return self.send_json({"model": req["model"], "created_at": now_iso(),
                                       key: piece(""), "done": True, "done_reason": "load"})
            self.complete(req, key, piece, model)
        finally:
            SCHED.release(runner)

    def complete(self, req: dict, key: str, piece, model: str) -> None:
        started = time.monotonic_ns()
        body = openai_request(req)
        resp = backend("/v1/chat/completions", body)
        if resp.status != 200:
            return self.send_error_json(resp.read().decode(), resp.status)
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
                self.ndjson({"model": model, "created_at": now_iso(), key: piece(text),
                             "done": False})
        self.ndjson({"model": model, "created_at": now_iso(), key: piece(""), "done": True,
                     "done_reason": reason, "total_duration": time.monotonic_ns() - started,
                     "eval_count": count})
        self.end_stream()

    def openai_proxy(self, req: dict) -> None:
        name = req.get("model") or ""
        if not STORE.get(name):
            return self.send_error_json(f"model '{name}' not found", 404, openai=True)
        runner = SCHED.acquire(display_name(name))
        try:
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
        finally:
            SCHED.release(runner)


class BadRequest(ValueError):
    """400 with Ollama's message."""


def request_keep_alive(req: dict) -> int | None:
    try:
        return keep_alive_ns(req.get("keep_alive"))
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def start_backend() -> subprocess.Popen:
    return subprocess.Popen([
        "/opt/llama/bin/python", "-m", "llama_cpp.server", "--model", str(MODEL_FILE),
        "--model_alias", BACKEND_ALIAS, "--host", "127.0.0.1", "--port", str(BACKEND_PORT),
        "--n_ctx", os.environ.get("OLLAMA_CONTEXT_LENGTH", "4096"), "--verbose", "false",
        # one llama.cpp slot: by default a new request aborts the running one (its stream then
        # ends empty); OLLAMA_NUM_PARALLEL requests at once must queue here instead
        "--interrupt_requests", "false"])


def serve() -> None:
    host, port = listen_address(os.environ.get("OLLAMA_HOST"))
    models_dir().mkdir(parents=True, exist_ok=True)
    proc = start_backend()
    # PID 1 in the container: stop promptly on `docker stop`
    signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
    # the real Ollama (Go) listens with the kernel's backlog; socketserver's 5 resets clients
    # when fifty streams arrive at once
    ThreadingHTTPServer.request_queue_size = 1024
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
