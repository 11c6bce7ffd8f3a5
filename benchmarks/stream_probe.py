"""N concurrent streamed chat completions; prints each stream's chunk arrival times as JSON.

Standard library only: the data-plane suite runs this same file on the operator machine and,
for loopback-only model servers, inside a lab host (`docker exec -i HOST python3 - < file`),
so every path is measured by the same client. Argument: one JSON object
{"url", "headers", "body", "streams", "sni"?}; times are seconds from each request's send.
"""

import http.client
import json
import ssl
import sys
import threading
import time
from urllib.parse import urlsplit


class _Https(http.client.HTTPSConnection):
    """HTTPS to one address presenting another name (SNI and Host), like curl --resolve."""

    def __init__(self, host, port, sni, **kwargs):
        super().__init__(host, port, **kwargs)
        self.sni = sni

    def connect(self):
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.sni)


def _tls_context():
    # latency, not trust: no verification, so no CA store to load (create_default_context
    # parses the system's hundreds of CAs, ~25 ms of CPU: 50 streams would spend more than a
    # core-second on it, competing with what is measured)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    return ctx


def one_stream(spec, start_gate, out, index, ctx=None):
    url = urlsplit(spec["url"])
    if url.scheme == "https":
        conn = _Https(url.hostname, url.port or 443, spec.get("sni") or url.hostname,
                      context=ctx or _tls_context(), timeout=600)
    else:
        conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=600)
    body = json.dumps({**spec["body"], "stream": True}).encode()
    headers = {"Content-Type": "application/json", **spec.get("headers", {})}
    if spec.get("sni"):
        headers["Host"] = spec["sni"]
    arrivals, error = [], ""
    try:
        conn.connect()  # connection set-up is not part of time to first token
        start_gate.wait()
        sent = time.perf_counter()
        conn.request("POST", url.path, body, headers)
        resp = conn.getresponse()
        if resp.status != 200:
            error = f"HTTP {resp.status}: {resp.read(200)!r}"
        else:
            for line in resp:
                if not line.startswith(b"data: ") or line.strip() == b"data: [DONE]":
                    continue
                choices = json.loads(line[6:]).get("choices") or [{}]
                if (choices[0].get("delta") or {}).get("content"):
                    arrivals.append(time.perf_counter() - sent)
    except Exception as exc:  # reported per stream, counted by the caller
        error = f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()
    out[index] = {"arrivals": arrivals, "error": error}


def main(spec):
    n = int(spec.get("streams", 1))
    gate = threading.Barrier(n)
    out = [None] * n
    ctx = _tls_context()  # one for every stream, as one client process would
    threads = [threading.Thread(target=one_stream, args=(spec, gate, out, i, ctx))
               for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
