"""Loopback pieces for the live relay test: a CA, a DNS answerer, a recording TLS upstream."""

from __future__ import annotations

import http.server
import socket
import socketserver
import ssl
import struct
import threading
import time
from pathlib import Path

from render_helpers import openssl


def make_ca(dir: Path) -> tuple[Path, Path]:
    cert, key = dir / "ca.crt", dir / "ca.key"
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-days", "2", "-subj", "/CN=llminfra test CA", "-keyout", str(key), "-out", str(cert),
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=dir)
    return cert, key


def issue(dir: Path, ca: tuple[Path, Path], name: str) -> tuple[Path, Path]:
    cert, key, csr, ext = (dir / f"{name}.crt", dir / f"{name}.key", dir / f"{name}.csr",
                           dir / f"{name}.ext")
    ext.write_text(f"subjectAltName=DNS:{name}\nbasicConstraints=CA:FALSE\n"
                   "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(csr), cwd=dir)
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
            "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(cert), cwd=dir)
    return cert, key


GATE_S = 5  # below the clients' read timeout (10 s)


class Dns(socketserver.ThreadingUDPServer):
    """Answers A queries for the given names with 127.0.0.1; anything else is NXDOMAIN."""

    def __init__(self, names: set[str]):
        self.names = names
        self.queries: list[str] = []
        super().__init__(("127.0.0.1", 0), _DnsHandler)


class _DnsHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        labels, i = [], 12
        while data[i]:
            labels.append(data[i + 1:i + 1 + data[i]].decode())
            i += data[i] + 1
        question = data[12:i + 5]
        qtype = struct.unpack("!H", data[i + 1:i + 3])[0]
        name = ".".join(labels).lower()
        self.server.queries.append(name)
        known = name in self.server.names and qtype == 1
        header = data[:2] + struct.pack("!HHHHH", 0x8180 if known else 0x8183, 1, int(known), 0, 0)
        answer = struct.pack("!HHHIH", 0xC00C, 1, 1, 30, 4) + bytes([127, 0, 0, 1]) if known else b""
        sock.sendto(header + question + answer, self.client_address)


class Upstream(http.server.ThreadingHTTPServer):
    """A TLS upstream that records each request (path, headers, SNI) and can stream SSE."""

    def __init__(self, cert: Path, key: Path):
        super().__init__(("127.0.0.1", 0), _UpstreamHandler)
        self.requests: list[dict] = []
        self.sni: list[str | None] = []
        self.gate = threading.Event()  # set by the client once it has a stream's first event
        self.gate_opened: bool | None = None
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        ctx.sni_callback = lambda sslobj, name, _ctx: self.sni.append(name)
        self.socket = ctx.wrap_socket(self.socket, server_side=True)


class _UpstreamHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.server.requests.append({"path": self.path, "headers": dict(self.headers)})
        if self.path.startswith("/stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for n in (1, 2):
                chunk = f"data: {n}\n\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
                if n == 1:
                    # event 2 only once the client holds event 1: a relay that buffers never
                    # passes it on, and this wait runs out (cause and effect, no stopwatch)
                    self.server.gate_opened = self.server.gate.wait(GATE_S)
            self.wfile.write(b"0\r\n\r\n")
            return
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(server) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")
