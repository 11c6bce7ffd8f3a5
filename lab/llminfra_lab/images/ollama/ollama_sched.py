"""Which models the Ollama stand-in holds "loaded", for how long, and who waits: the rules of
Ollama v0.12.10's scheduler (server/sched.go, envconfig/config.go, api/types.go Duration),
re-stated here from their documented and observable behaviour.

- keep_alive: a JSON number is seconds, a string a Go duration ("5m", "1h30m"); negative
  means forever; 0 unloads the model as soon as no request uses it. A request that names
  one sets its model's keep-alive; one that does not leaves a loaded model's as it is, and
  a model it loads gets the server's OLLAMA_KEEP_ALIVE (a duration or whole seconds,
  default 5m). The countdown starts when the model goes idle.
- OLLAMA_MAX_LOADED_MODELS (0: 3 per GPU, and a CPU-only server counts as one GPU): loading
  one more model first unloads one. Not the least recently used: loaded models are ordered
  by keep-alive (shortest first, forever last), then by name, and the first idle one goes;
  when none is idle the request waits for the first in that order to finish.
- OLLAMA_NUM_PARALLEL (default 1): requests a loaded model serves at once; more wait.
- OLLAMA_MAX_QUEUE (default 512): requests waiting for a model to be loaded; beyond it,
  503 "server busy, please try again.  maximum pending requests exceeded".

All times are wall-clock seconds from `clock` (tests pass a fake one).
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass, field

FOREVER_NS = 2**63 - 1  # Go's math.MaxInt64 nanoseconds: expires about 292 years out
DEFAULT_KEEP_ALIVE_NS = 5 * 60 * 10**9
MODELS_PER_GPU = 3
BUSY = "server busy, please try again.  maximum pending requests exceeded"
_UNIT_NS = {"ns": 1, "us": 10**3, "µs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
            "h": 3600 * 10**9}
_GO_DURATION = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)")


class Busy(Exception):
    """OLLAMA_MAX_QUEUE requests already wait for a model to load."""


def go_duration_ns(text: str) -> int:
    """Go's time.ParseDuration, in nanoseconds; ValueError with Go's message otherwise."""
    body, sign = text, 1
    if body[:1] in "+-" and body:
        sign, body = (-1 if body[0] == "-" else 1), body[1:]
    if body == "0":
        return 0
    pos, total = 0, 0.0
    for match in _GO_DURATION.finditer(body):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_NS[match.group(2)]
        pos = match.end()
    if not body or pos != len(body):
        raise ValueError(f'time: invalid duration "{text}"')
    return sign * int(total)


def keep_alive_ns(value: object) -> int | None:
    """A request's keep_alive as the scheduler uses it (None: the request named none)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"Unsupported type: '{type(value).__name__}'")
    ns = go_duration_ns(value) if isinstance(value, str) else int(value * 10**9)
    return FOREVER_NS if ns < 0 else ns


def env_keep_alive_ns(environ: dict[str, str] | None = None) -> int:
    raw = (environ if environ is not None else os.environ).get("OLLAMA_KEEP_ALIVE", "")
    ns = DEFAULT_KEEP_ALIVE_NS
    if raw:
        try:
            ns = go_duration_ns(raw)
        except ValueError:
            if re.fullmatch(r"[+-]?[0-9]+", raw):
                ns = int(raw) * 10**9
    return FOREVER_NS if ns < 0 else ns


def env_uint(name: str, default: int, environ: dict[str, str] | None = None) -> int:
    raw = (environ if environ is not None else os.environ).get(name, "")
    return int(raw) if raw.isdigit() else default


@dataclass
class Runner:
    name: str
    keep_alive_ns: int
    refcount: int = 0
    idle_since: float | None = None  # set when the last request ends
    loaded_at: float = 0.0

    def expires_at(self, now: float) -> float:
        """While busy Ollama reports now + keep-alive; idle, the end of the countdown."""
        start = now if self.idle_since is None else self.idle_since
        return start + self.keep_alive_ns / 1e9


@dataclass
class Scheduler:
    max_loaded: int = 0  # 0: MODELS_PER_GPU x max(GPUs, 1)
    num_parallel: int = 1
    max_queue: int = 512
    gpus: int = 0
    default_keep_alive_ns: int = DEFAULT_KEEP_ALIVE_NS
    clock: object = time.time
    loaded: dict[str, Runner] = field(default_factory=dict)
    pending: int = 0
    cond: threading.Condition = field(default_factory=threading.Condition)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Scheduler:
        return cls(max_loaded=env_uint("OLLAMA_MAX_LOADED_MODELS", 0, environ),
                   num_parallel=max(env_uint("OLLAMA_NUM_PARALLEL", 1, environ), 1),
                   max_queue=env_uint("OLLAMA_MAX_QUEUE", 512, environ),
                   default_keep_alive_ns=env_keep_alive_ns(environ))

    @property
    def limit(self) -> int:
        return self.max_loaded or MODELS_PER_GPU * max(self.gpus, 1)

    def now(self) -> float:
        return self.clock()  # type: ignore[operator]

    def _expire(self) -> None:
        now = self.now()
        for name, r in list(self.loaded.items()):
            if r.refcount == 0 and r.idle_since is not None and r.expires_at(now) <= now:
                del self.loaded[name]

    def victim(self) -> Runner:
        """The runner to unload for another model: shortest keep-alive, then name; idle first."""
        order = sorted(self.loaded.values(), key=lambda r: (r.keep_alive_ns, r.name))
        return next((r for r in order if r.refcount == 0), order[0])

    def acquire(self, name: str, keep_alive: int | None = None, wait: float = 600) -> Runner:
        """A slot on `name`'s runner, loading it (and unloading another) as Ollama would.
        `keep_alive` None (the request named none): a new runner gets the server's default,
        a loaded one keeps the keep-alive it has."""
        deadline = time.monotonic() + wait
        with self.cond:
            self._expire()
            if name not in self.loaded and self.pending >= self.max_queue:
                raise Busy(BUSY)
            queued = name not in self.loaded
            self.pending += queued
            try:
                while True:
                    self._expire()
                    runner = self.loaded.get(name)
                    if runner is None and len(self.loaded) < self.limit:
                        first = self.default_keep_alive_ns if keep_alive is None else keep_alive
                        runner = self.loaded[name] = Runner(name, first, loaded_at=self.now())
                    elif runner is None:
                        victim = self.victim()
                        if victim.refcount == 0:
                            del self.loaded[victim.name]
                            continue
                    if runner is not None and runner.refcount < self.num_parallel:
                        runner.refcount += 1
                        if keep_alive is not None:
                            runner.keep_alive_ns = keep_alive
                        runner.idle_since = None
                        return runner
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError(f"timed out waiting for {name}")
                    self.cond.wait(min(left, 1.0))
            finally:
                self.pending -= queued

    def release(self, runner: Runner) -> None:
        with self.cond:
            runner.refcount -= 1
            if runner.refcount <= 0:
                runner.refcount = 0
                runner.idle_since = self.now()
                if runner.keep_alive_ns == 0 and self.loaded.get(runner.name) is runner:
                    del self.loaded[runner.name]
            self.cond.notify_all()

    def unload(self, name: str) -> None:
        """keep_alive 0 without a prompt: unloaded now if idle, else when its requests end."""
        with self.cond:
            runner = self.loaded.get(name)
            if runner is None:
                return
            runner.keep_alive_ns = 0
            if runner.refcount == 0:
                del self.loaded[name]
            self.cond.notify_all()

    def forget(self, name: str) -> None:
        """The model was deleted."""
        with self.cond:
            self.loaded.pop(name, None)
            self.cond.notify_all()

    def running(self) -> list[tuple[Runner, float]]:
        """(runner, expires_at) for /api/ps, longest time left first."""
        with self.cond:
            self._expire()
            now = self.now()
            rows = [(r, r.expires_at(now)) for r in self.loaded.values()]
        return sorted(rows, key=lambda row: -row[1])
