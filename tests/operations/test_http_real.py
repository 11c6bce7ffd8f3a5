"""http ops executed for real on this machine (curl against a local server)."""

from __future__ import annotations

import http.server
import socket
import threading
import time

import pytest

from llminfra.operations.http import answers


class _Status(http.server.BaseHTTPRequestHandler):
    code = 200

    def do_GET(self):
        self.send_response(self.code)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server(serve):
    return serve(_Status)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_answers_is_a_noop_when_up(apply, need, server):
    need("curl")
    meta = apply(answers, url=f"http://127.0.0.1:{server.server_port}/", what="local")
    assert not meta.did_change() and not meta.did_error()


def test_answers_waits_for_a_late_server(apply, need):
    need("curl")
    port = _free_port()
    late = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Status, bind_and_activate=False)

    def start_later():
        time.sleep(3)
        late.server_bind()
        late.server_activate()
        late.serve_forever()

    threading.Thread(target=start_later, daemon=True).start()
    try:
        started = time.monotonic()
        meta = apply(answers, url=f"http://127.0.0.1:{port}/", what="late", timeout=30)
        assert meta.did_change() and not meta.did_error()
        assert time.monotonic() - started >= 2
    finally:
        late.shutdown()


def test_answers_fails_after_timeout_on_wrong_status(apply, need, server):
    need("curl")
    _Status.code = 503
    try:
        meta = apply(answers, url=f"http://127.0.0.1:{server.server_port}/", what="busy",
                     timeout=3)  # fmt: skip
        assert meta.did_error()
        any_status = apply(answers, url=f"http://127.0.0.1:{server.server_port}/",
                           what="busy", statuses=None)  # fmt: skip
        assert not any_status.did_change() and not any_status.did_error()
    finally:
        _Status.code = 200
