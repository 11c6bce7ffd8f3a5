"""Fixtures: an in-process OneAPI emulator and a real loopback OpenAI-style upstream."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from llminfra_lab.oneapi_emulator import Emulator

ACCESS = "0123456789abcdef0123456789abcdef"
RELAY_KEY = "InitialRootRelayKey0123456789"
GATE_S = 5  # below the streaming tests' read timeout (10 s)


class Upstream(BaseHTTPRequestHandler):
    """OpenAI-compatible fake model server. Records every request it receives."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.seen.append({"path": self.path, "body": body,
                                 "auth": self.headers.get("Authorization")})
        model = body.get("model", "")
        if model.startswith("fail-"):
            status = int(model[5:])
            return self._json(status, {"error": {"message": f"upstream says {status}",
                                                 "type": "upstream_test", "code": "boom"}})
        if body.get("stream"):
            return self._stream(model)
        if self.path.endswith("/embeddings"):
            return self._json(200, {"object": "list", "model": model, "data": [
                {"object": "embedding", "index": 0, "embedding": [0.25, -0.5]}]})
        if self.path.endswith("/completions") and "chat" not in self.path:
            return self._json(200, {"object": "text_completion",
                                    "choices": [{"text": f"completed by {model}"}]})
        return self._json(200, {"object": "chat.completion", "model": model, "choices": [
            {"index": 0, "message": {"role": "assistant", "content": f"hello from {model}"}}]})

    def _json(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, model):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        events = [{"choices": [{"delta": {"content": f"part{i}"}}], "model": model}
                  for i in range(3)]
        events.insert(1, {"id": "no-choices-no-usage"})  # OneAPI drops such chunks
        for n, event in enumerate(events):
            data = b"data: " + json.dumps(event).encode() + b"\n\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
            if n == 0 and self.server.gate is not None:
                # the rest only once the client holds the first event: a relay that buffers
                # never passes it on, and this wait runs out
                self.server.gate_opened = self.server.gate.wait(GATE_S)
            time.sleep(self.server.delay)
        done = b"data: [DONE]\n\n"
        self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(done), done))
        self.wfile.flush()


@pytest.fixture
def upstream():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    srv.daemon_threads = True
    srv.seen, srv.delay, srv.gate, srv.gate_opened = [], 0.4, None, None
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def emu(tmp_path):
    env = {"INITIAL_ROOT_ACCESS_TOKEN": ACCESS, "INITIAL_ROOT_TOKEN": RELAY_KEY,
           "SESSION_SECRET": "test-session-secret"}
    with Emulator(str(tmp_path / "one-api.json"), env=env) as e:
        yield e


@pytest.fixture
def api(emu):
    """Raw HTTP against the emulator, authenticated with the root access token."""
    with httpx.Client(base_url=emu.url, headers={"Authorization": ACCESS},
                      follow_redirects=False, trust_env=False) as http:
        yield http


def add_channel(api, **fields):
    body = {"name": "ch", "type": 50, "key": "upkey", "models": "m1",
            "base_url": "http://127.0.0.1:9/v1"}
    body.update(fields)
    assert api.post("/api/channel/", json=body).json() == {"success": True, "message": ""}
    return max(c["id"] for c in api.get("/api/channel/search", params={"keyword": body["name"]})
               .json()["data"] if c["name"] == body["name"])


@pytest.fixture
def newemu(tmp_path):
    """A fresh New-API-mode emulator (no root user until POST /api/setup). The OneAPI
    bootstrap variables are set on purpose: New-API must ignore them."""
    env = {"INITIAL_ROOT_ACCESS_TOKEN": ACCESS, "INITIAL_ROOT_TOKEN": RELAY_KEY,
           "SESSION_SECRET": "test-session-secret"}
    with Emulator(str(tmp_path / "new-api.json"), env=env, flavor="newapi") as e:
        yield e
