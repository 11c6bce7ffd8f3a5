"""Fault injection for resilience tests.

Spec string (env ``EMULATOR_FAULTS``): comma-separated ``kind_class=N`` where
class is ``write`` (non-GET /api/ call) or ``read`` (GET /api/ call), N is the
1-based ordinal of such calls since start, and kind is one of

- ``fail``: answer HTTP 200 ``success:false`` without doing anything;
- ``drop``: close the connection without doing anything;
- ``lose``: do the work, then close the connection (the answer is lost);
- ``short``: (reads) return the list with its last item missing.
"""
import threading

KINDS = ("fail", "drop", "lose", "short")


class Faults:
    def __init__(self, rules):
        self.rules = rules  # {("write", n): kind}
        self.counts = {"write": 0, "read": 0}
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, spec):
        rules = {}
        for item in filter(None, (s.strip() for s in spec.split(","))):
            name, _, n = item.partition("=")
            kind, _, klass = name.partition("_")
            if kind not in KINDS or klass not in ("write", "read"):
                raise ValueError(f"bad fault rule {item!r}")
            rules[(klass, int(n))] = kind
        return cls(rules)

    def take(self, method, path):
        if not path.startswith("/api/"):
            return None
        klass = "read" if method == "GET" else "write"
        with self._lock:
            self.counts[klass] += 1
            return self.rules.get((klass, self.counts[klass]))
