"""The Ollama stand-in's scheduler, rule by rule (Ollama v0.12.10: server/sched.go,
envconfig/config.go, api/types.go Duration). Pure Python: no Docker."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "lab/llminfra_lab/images/ollama"))
from ollama_sched import (  # noqa: E402
    BUSY, FOREVER_NS, Busy, Scheduler, env_keep_alive_ns, go_duration_ns, keep_alive_ns,
)

S = 10**9
MIN = 60 * S


class Clock:
    def __init__(self, t: float = 1_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.mark.parametrize("value, ns", [
    (None, None),  # absent: the scheduler decides
    (300, 300 * S), (1.5, int(1.5 * S)), (0, 0),
    ("5m", 5 * MIN), ("1h30m", 90 * MIN), ("300ms", 300 * 10**6), ("0", 0),
    (-1, FOREVER_NS), ("-1m", FOREVER_NS), ("-1s", FOREVER_NS),
])
def test_keep_alive_values(value, ns):
    assert keep_alive_ns(value) == ns


@pytest.mark.parametrize("value, message", [
    ("abc", 'time: invalid duration "abc"'), ("5", 'time: invalid duration "5"'),
    ("", 'time: invalid duration ""'), (True, "Unsupported type: 'bool'"),
])
def test_bad_keep_alive_is_refused(value, message):
    with pytest.raises(ValueError) as exc:
        keep_alive_ns(value)
    assert str(exc.value) == message


@pytest.mark.parametrize("raw, ns", [
    ("", 5 * MIN), ("10m", 10 * MIN), ("120", 120 * S), ("-1", FOREVER_NS), ("0", 0),
    ("bogus", 5 * MIN),
])
def test_server_default_keep_alive(raw, ns):
    assert env_keep_alive_ns({"OLLAMA_KEEP_ALIVE": raw}) == ns


def test_go_duration_fractions_and_units():
    assert go_duration_ns("1.5h") == 90 * MIN
    assert go_duration_ns("2m30s") == 150 * S


def test_defaults_from_the_environment():
    s = Scheduler.from_env({})
    assert (s.limit, s.num_parallel, s.max_queue, s.default_keep_alive_ns) == (3, 1, 512, 5 * MIN)
    s = Scheduler.from_env({"OLLAMA_MAX_LOADED_MODELS": "2", "OLLAMA_NUM_PARALLEL": "4",
                            "OLLAMA_MAX_QUEUE": "8", "OLLAMA_KEEP_ALIVE": "-1"})
    assert (s.limit, s.num_parallel, s.max_queue, s.default_keep_alive_ns) == (
        2, 4, 8, FOREVER_NS)
    assert Scheduler(gpus=2).limit == 6  # 3 per GPU; a CPU-only server counts as one


def use(s: Scheduler, name: str, keep=None) -> None:
    s.release(s.acquire(name, keep))


def test_idle_model_expires_after_its_keep_alive():
    clock = Clock()
    s = Scheduler(clock=clock)
    use(s, "a")
    [(runner, expires)] = s.running()
    assert (runner.name, expires) == ("a", clock.t + 300)
    clock.t += 299
    assert [r.name for r, _ in s.running()] == ["a"]
    clock.t += 1
    assert s.running() == []


def test_busy_model_reports_now_plus_keep_alive_and_never_expires():
    clock = Clock()
    s = Scheduler(clock=clock)
    runner = s.acquire("a", 60 * S)
    clock.t += 3600
    assert s.running() == [(runner, clock.t + 60)]
    s.release(runner)


def test_negative_keep_alive_is_forever():
    clock = Clock()
    s = Scheduler(clock=clock)
    use(s, "a", keep_alive_ns(-1))
    [(_, expires)] = s.running()
    assert expires - clock.t == pytest.approx(FOREVER_NS / 1e9)  # about 292 years
    clock.t += 200 * 365 * 86400
    assert len(s.running()) == 1


def test_keep_alive_zero_unloads_when_the_request_ends():
    s = Scheduler(clock=Clock())
    runner = s.acquire("a", 0)
    assert [r.name for r, _ in s.running()] == ["a"]
    s.release(runner)
    assert s.running() == []


def test_unload_request_waits_for_running_requests():
    s = Scheduler(clock=Clock())
    use(s, "idle")
    s.unload("idle")
    busy = s.acquire("busy")
    s.unload("busy")
    assert [r.name for r, _ in s.running()] == ["busy"]
    s.release(busy)
    assert s.running() == []
    s.unload("never-loaded")  # no error, nothing happens


def test_a_request_without_keep_alive_keeps_the_models_own():
    s = Scheduler(clock=Clock())
    use(s, "a", FOREVER_NS)
    use(s, "a")
    assert s.loaded["a"].keep_alive_ns == FOREVER_NS
    use(s, "a", 60 * S)
    assert s.loaded["a"].keep_alive_ns == 60 * S


def test_ps_lists_longest_time_left_first():
    clock = Clock()
    s = Scheduler(clock=clock)
    use(s, "short", 60 * S)
    use(s, "long", 3600 * S)
    use(s, "mid", 600 * S)
    assert [r.name for r, _ in s.running()] == ["long", "mid", "short"]


def test_at_the_limit_the_shortest_keep_alive_goes_not_the_least_recently_used():
    s = Scheduler(max_loaded=2, clock=Clock())
    use(s, "b", 60 * S)  # used first, shortest keep-alive
    use(s, "a", 600 * S)  # used last
    use(s, "b", 60 * S)  # b is now the most recently used
    use(s, "c")
    assert set(s.loaded) == {"a", "c"}


def test_equal_keep_alives_go_by_name_and_forever_goes_last():
    s = Scheduler(max_loaded=3, clock=Clock())
    use(s, "x", FOREVER_NS)
    use(s, "n")
    use(s, "m")
    use(s, "z")
    assert set(s.loaded) == {"x", "n", "z"}  # m: 5m like n, and first by name
    use(s, "y")
    assert set(s.loaded) == {"x", "z", "y"}


def test_an_idle_model_goes_before_a_busy_one_with_a_shorter_keep_alive():
    s = Scheduler(max_loaded=2, clock=Clock())
    busy = s.acquire("busy", 10 * S)
    use(s, "idle", 600 * S)
    use(s, "new")
    assert set(s.loaded) == {"busy", "new"}
    s.release(busy)


# a thread that is not blocked ends within this even on a busy host (a passing test waits only
# as long as the thread takes)
JOIN_S = 60


def queued(s: Scheduler, n: int) -> None:
    """Until ``n`` requests wait for a load: a thread's start is not a fixed time on a busy host."""
    deadline = time.monotonic() + JOIN_S
    while s.pending != n:
        assert time.monotonic() < deadline, f"{s.pending} requests queued, not {n}"
        time.sleep(0.01)


def test_when_every_model_is_busy_the_request_waits_for_the_first_to_finish():
    s = Scheduler(max_loaded=1, clock=Clock())
    busy = s.acquire("a")
    got = []
    waiter = threading.Thread(target=lambda: got.append(s.acquire("b")))
    waiter.start()
    queued(s, 1)  # the waiter is inside acquire
    time.sleep(0.3)
    assert got == [] and set(s.loaded) == {"a"}
    s.release(busy)
    waiter.join(JOIN_S)
    assert [r.name for r in got] == ["b"] and set(s.loaded) == {"b"}


@pytest.mark.parametrize("parallel, waits", [(1, True), (2, False)])
def test_num_parallel_requests_per_model(parallel, waits):
    s = Scheduler(num_parallel=parallel, clock=Clock())
    first = s.acquire("a")
    got = []
    other = threading.Thread(target=lambda: got.append(s.acquire("a")))
    other.start()
    other.join(0.3 if waits else JOIN_S)  # one that need not wait ends by itself
    assert (got == []) is waits
    s.release(first)
    other.join(JOIN_S)
    assert len(got) == 1 and s.loaded["a"].refcount == 1


def test_max_queue_counts_requests_waiting_for_a_load():
    s = Scheduler(max_loaded=1, max_queue=1, clock=Clock())
    busy = s.acquire("a")
    waiter = threading.Thread(target=lambda: s.release(s.acquire("b")))
    waiter.start()
    queued(s, 1)  # else "c" would take the queue's one place (and wait for "a")
    with pytest.raises(Busy) as exc:
        s.acquire("c", wait=JOIN_S)
    assert str(exc.value) == BUSY
    s.release(busy)
    waiter.join(JOIN_S)
    use(s, "c")  # the queue drained
