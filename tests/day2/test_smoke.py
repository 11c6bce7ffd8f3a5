"""smoke's judgement of a stream, from arrival times alone."""

from llminfra.smoke import Result, Target, clumped, measure

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
