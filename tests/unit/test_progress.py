"""Watched commands: the exact command runs unchanged, with lines naming host and step before,
during (a heartbeat) and after."""

from __future__ import annotations

import logging

import gevent
from pyinfra.api import QuoteString, StringCommand

from llminfra.operations.progress import Watched, still_line, waiting_line


class FakeHost:
    print_prefix = "[gpu-1] "


def test_lines_name_host_step_and_limit():
    assert waiting_line("[gpu-1] ", "waiting for smol to serve m", 300) == (
        "[gpu-1] waiting for smol to serve m (up to 300 s)")
    assert still_line("[gpu-1] ", "pulling image x", 45.2, None) == (
        "[gpu-1] still pulling image x: 45 s")


def test_watched_runs_the_same_command_and_beats(monkeypatch, caplog):
    ran = []

    def slow(self, state, host, args):
        ran.append(self.get_raw_value())
        gevent.sleep(0.35)
        return True, []

    monkeypatch.setattr(StringCommand, "execute", slow)
    cmd = Watched(StringCommand("sleep", QuoteString("9")), "waiting for x", 60, every=0.1)
    assert cmd.get_raw_value() == "sleep 9"
    with caplog.at_level(logging.INFO, logger="pyinfra"):
        assert cmd.execute(None, FakeHost(), {}) == (True, [])
    lines = [r.getMessage() for r in caplog.records]
    assert ran == ["sleep 9"]
    assert lines[0] == "[gpu-1] waiting for x (up to 60 s)"
    assert any(line.startswith("[gpu-1] still waiting for x: ") for line in lines[1:-1])
    assert lines[-1] == "[gpu-1] waiting for x: done after 0 s"


def test_watched_says_failed(monkeypatch, caplog):
    monkeypatch.setattr(StringCommand, "execute", lambda self, s, h, a: (False, []))
    with caplog.at_level(logging.INFO, logger="pyinfra"):
        Watched(StringCommand("false"), "pulling image y").execute(None, FakeHost(), {})
    assert caplog.records[-1].getMessage() == "[gpu-1] pulling image y: failed after 0 s"
