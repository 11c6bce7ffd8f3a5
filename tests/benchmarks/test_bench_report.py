"""The benchmark command's figures, report files and the in-process reconcile suite."""

from __future__ import annotations

import json
import math

import pytest

from benchmarks import reconcile, report
from benchmarks.figures import Figure, Goal, ratio, spread
from benchmarks.run import main

META = {"date": "2026-11-30 01:00 UTC", "machine": "2 cores test", "repeats": 2}


def test_ratio_pairs_each_value_with_its_floor():
    assert ratio(6.0, 2.0) == 3.0
    assert ratio(0, 0) == 1.0
    assert math.isinf(ratio(3, 0))
    f = Figure("s", "n", "s", "floor")
    f.add(3.0, 1.0)
    f.add(8.0, 2.0)
    f.add(10.0, 5.0)
    assert f.ratios == [3.0, 4.0, 2.0]
    assert spread(f.ratios) == {"min": 2.0, "median": 3.0, "max": 4.0}


def test_goal_holds_for_the_worst_repeat():
    f = Figure("s", "n", "commands", "floor", goal=Goal("value", 12))
    f.add(12, 1)
    assert f.met is True
    f.add(13, 1)
    assert f.met is False
    g = Figure("s", "n", "s", "floor", goal=Goal("ratio", 3))
    g.add(2.9, 1.0)
    assert g.met is True


def test_report_writes_json_markdown_and_png(tmp_path):
    f = Figure("redeploy", "gw-1 commands", "commands", "one-fact run", goal=Goal("value", 12))
    f.add(10, 1)
    f.add(11, 1)
    missing = Figure("dataplane", "ttft", "ms", "direct", note="lab not up")
    paths = report.write(tmp_path, META, [f, missing])
    data = json.loads(paths["json"].read_text())
    assert data["figures"][0]["ratio"] == {"min": 10, "median": 10.5, "max": 11}
    assert data["figures"][0]["goal"]["met"] is True
    table = paths["markdown"].read_text()
    assert "| redeploy | gw-1 commands | 10.5x (10–11) | 10.5 commands (10–11) |" in table
    assert "not measured: lab not up" in table
    assert paths["chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_reconcile_suite_counts_writes_against_the_emulator():
    figures = reconcile.run(1, n=30, k=5, log=lambda _msg: None)
    by_name = {f.name: f for f in figures}
    assert by_name["30 channels in sync: writes"].values == [0]
    assert by_name["5 of 30 changed: writes"].values == [5]
    assert by_name["5 of 30 changed: writes"].met is True
    assert all(f.floors[0] > 0 for f in figures if f.unit == "s")


def test_unknown_suite_is_refused_without_traceback(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--suites", "nope"])
    assert exc.value.code == 2
    assert "unknown suite(s) nope" in capsys.readouterr().err
