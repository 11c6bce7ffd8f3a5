"""OneAPI / New-API emulator: the admin + relay contract of docs/gateway-contract.md over HTTP.

Standard library only, so the package can be copied alone into a bare python3
container. Configure through the same environment as OneAPI (``PORT``,
``INITIAL_ROOT_ACCESS_TOKEN``, ``INITIAL_ROOT_TOKEN``, ``SESSION_SECRET``) plus
``EMULATOR_FLAVOR`` (``oneapi``, the default, or ``newapi``: New-API's setup, auth header,
pages, wrapped create, masked keys and exact token search, docs/gateway-contract.md §10),
``EMULATOR_STATE`` (state file, default ``/data/one-api.json``),
``EMULATOR_FAULTS`` (see :mod:`.faults`) and ``EMULATOR_CONTROL=1`` (allow
``PUT /_emulator/faults``). ``GET /_emulator/requests`` lists every request seen.
"""
import threading
from http.server import ThreadingHTTPServer

from .faults import Faults
from .server import App, Handler
from .store import Store

__all__ = ["Emulator"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default listen backlog is 5: fifty clients at once then wait out SYN
    # retransmits (1 s, 3 s); OneAPI's Go server listens with the kernel's somaxconn
    request_queue_size = 1024


class Emulator:
    """In-process emulator on a background thread; usable as a context manager."""

    def __init__(self, state_path=None, *, host="127.0.0.1", port=0, env=None, flavor=None):
        self.env = dict(env or {})
        if flavor:
            self.env["EMULATOR_FLAVOR"] = flavor
        self.store = Store(state_path, self.env)
        self.app = App(self.store, self.env)
        self.httpd = _Server((host, port), Handler)
        self.httpd.app = self.app
        self._thread = None

    @property
    def url(self):
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self):
        return self.httpd.server_address[1]

    def start(self):
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        self.httpd.serve_forever()

    def stop(self):
        if self._thread:
            self.httpd.shutdown()
            self._thread.join()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def requests(self):
        """(method, path, status) of every request handled so far."""
        return list(self.app.requests)

    def writes(self):
        """Requests that can change gateway state: every non-GET call under /api/."""
        return [r for r in self.requests if r[0] != "GET" and r[1].startswith("/api/")]

    @property
    def flavor(self):
        return self.app.flavor

    def clear_log(self):
        self.app.requests.clear()

    def set_faults(self, spec):
        """Replace the fault rules; ordinals count from this call (see :mod:`.faults`)."""
        self.app.faults = Faults.parse(spec)
