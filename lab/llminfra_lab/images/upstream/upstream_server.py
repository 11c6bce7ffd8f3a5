"""TLS server playing api.openai.com, generativelanguage.googleapis.com and api.anthropic.com.

Every answer records what arrived (method, path, Host header, TLS SNI, headers, body) so tests
can check what a relay forwarded; POST .../chat/completions also gets a small OpenAI-shaped
completion. The certificate (one cert, all names) is signed by the lab CA and mounted at run time.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLY = "Hello from the lab upstream."


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lab-upstream"
    # headers and the first event go out as two writes: with Nagle on, the event waits for the
    # client's delayed ACK (~40 ms on every stream); the real APIs' servers send it at once
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        sys.stderr.write(f"[lab-upstream] {self.command} {self.path} sni={self.sni()}\n")

    def sni(self) -> str | None:
        return getattr(self.connection, "lab_sni", None)

    def received(self, body: bytes) -> dict:
        headers: dict[str, str] = {}
        for key, value in self.headers.items():
            headers[key.lower()] = f"{headers[key.lower()]}, {value}" if key.lower() in headers else value
        return {"method": self.command, "path": self.path, "host": self.headers.get("Host"),
                "sni": self.sni(), "headers": headers,
                "body": body[:65536].decode("utf-8", "replace")}

    def reply(self, obj: dict, status: int = 200) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Lab-Upstream", "1")
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        seen = self.received(body)
        if self.command == "POST" and self.path.split("?")[0].endswith("/chat/completions"):
            return self.completion(seen, body)
        self.reply(seen)

    def completion(self, seen: dict, body: bytes) -> None:
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            return self.reply({"error": {"message": "invalid JSON", "type": "invalid_request_error"}}, 400)
        model, created = req.get("model", "lab-model"), int(time.time())
        if req.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for delta, finish in (({"role": "assistant", "content": REPLY}, None), ({}, "stop")):
                event = {"id": "chatcmpl-lab", "object": "chat.completion.chunk", "created": created,
                         "model": model, "choices": [{"index": 0, "delta": delta,
                                                      "finish_reason": finish}]}
                self.write_chunk(b"data: " + json.dumps(event).encode() + b"\n\n")
            self.write_chunk(b"data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        self.reply({"id": "chatcmpl-lab", "object": "chat.completion", "created": created,
                    "model": model,
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": REPLY}}],
                    "usage": {"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11},
                    "lab_received": seen})

    def write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)

    def remember_sni(sock, server_name, _ctx):
        sock.lab_sni = server_name

    ctx.sni_callback = remember_sni
    return ctx


class TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's listen backlog is 5: fifty relayed streams connecting at once would wait
    # out SYN retransmits (1 s, 3 s) here, not in the hop being measured
    request_queue_size = 1024

    def __init__(self, addr, ctx: ssl.SSLContext):
        super().__init__(addr, Handler)
        self.ctx = ctx

    def finish_request(self, request, client_address):
        # handshake in the worker thread, so one slow client cannot stall accept()
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            sys.stderr.write(f"[lab-upstream] TLS handshake from {client_address[0]} failed: {exc}\n")
            return
        self.RequestHandlerClass(tls, client_address, self)


def main() -> None:
    ctx = tls_context(os.environ.get("UPSTREAM_CERT", "/certs/tls.crt"),
                      os.environ.get("UPSTREAM_KEY", "/certs/tls.key"))
    port = int(os.environ.get("PORT", "443"))
    server = TLSServer(("0.0.0.0", port), ctx)
    sys.stderr.write(f"[lab-upstream] listening on :{port}\n")
    server.serve_forever()


if __name__ == "__main__":
    main()
