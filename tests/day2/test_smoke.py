"""smoke's judgement of a stream, from arrival times alone."""

from llminfra import smoke
from llminfra.smoke import Result, Target, clumped, measure, run_chat

T = Target("m", "chat", "gpu-1/m")


def test_a_stream_arriving_in_one_burst_is_clumped():
    assert clumped([1.0, 1.0001, 1.0002, 1.0003, 1.0004])


def test_a_token_by_token_stream_is_not():
    assert not clumped([1.0, 1.02, 1.04, 1.06, 1.08])


def test_one_late_gap_is_enough_to_show_streaming():
    assert not clumped([1.0, 1.0001, 1.0002, 1.05, 1.0501])


def test_too_short_to_judge_is_not_called_clumped():
    assert not clumped([1.0, 1.0001, 1.0002])


def test_measure_ttft_gaps_and_rate():
    r = measure([0.5, 0.6, 0.7, 0.8, 0.9], start=0.0, end=0.9, result=Result(T))
    r.tokens = 5
    assert r.ttft_s == 0.5 and r.chunks == 5
    assert [round(g, 3) for g in r.gaps_s] == [0.1, 0.1, 0.1, 0.1]
    assert round(r.tokens_per_s or 0, 3) == 10.0


class _Chunk:
    def __init__(self, text: str):
        delta = type("Delta", (), {"content": text})()
        self.choices = [type("Choice", (), {"delta": delta})()]
        self.usage = None


class _Clock:
    """smoke's clock, moved only by the stream: a busy host's pauses between two chunks of a
    burst would otherwise read as pacing (the real clock runs on while this process waits)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


class _Client:
    """Streams six chunks per call: in one burst for the first `bursts` calls, then 5 ms apart."""

    def __init__(self, bursts: int, monkeypatch):
        self.bursts, self.calls = bursts, 0
        self.chat = type("Chat", (), {"completions": self})()
        self.clock = _Clock()
        monkeypatch.setattr(smoke, "time", self.clock)

    def create(self, **_: object):
        self.calls += 1
        paced = self.calls > self.bursts
        for word in "one two three four five six".split():
            if paced:
                self.clock.now += 0.005
            yield _Chunk(word)


def test_a_stream_that_bursts_once_is_tried_again_and_passes_with_a_note(monkeypatch):
    client = _Client(bursts=1, monkeypatch=monkeypatch)
    r = run_chat(client, T)
    assert client.calls == 2 and r.ok and not r.clumped and r.tries == 2
    assert "try 2" in r.note and r.error == ""


def test_a_stream_that_bursts_every_time_fails_after_three_tries(monkeypatch):
    client = _Client(bursts=99, monkeypatch=monkeypatch)
    r = run_chat(client, T)
    assert client.calls == 3 and not r.ok and r.clumped
    assert r.error == "6 chunks arrived in one burst on each of 3 tries (buffered on the way)"


def test_a_paced_stream_is_streamed_once(monkeypatch):
    client = _Client(bursts=0, monkeypatch=monkeypatch)
    r = run_chat(client, T)
    assert client.calls == 1 and r.ok and r.note == ""
