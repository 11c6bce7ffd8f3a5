"""The benchmark command: `python3 benchmarks/run.py [--quick] [--suites a,b] [--out DIR]`.

Writes results.json, results.md (the table, also printed) and results.png (the chart) into
--out (default out/bench/). Suites: reconcile (in-process, no lab), redeploy, fanout, dataplane
(lab: each takes /tmp/llminfra-lab.lock itself for as long as it uses the lab; do not wrap
this command in flock).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(REPO))
    __package__ = "benchmarks"

from benchmarks import report  # noqa: E402
from benchmarks.figures import Figure  # noqa: E402
from benchmarks.machine import describe  # noqa: E402

SUITES = ("reconcile", "redeploy", "dataplane", "fanout")
QUICK_SKIPS = ("fanout",)  # six GPU hosts on two cores: run it deliberately
LAB_SUITES = ("redeploy", "fanout", "dataplane")


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _lab_down() -> None:
    from benchmarks.lab import lab_lock
    from llminfra_lab import down

    with lab_lock(_log):
        _log("[bench] lab down (this run brought it up)")
        down(REPO)


def run_suite(name: str, repeats: int, quick: bool) -> list:
    if name == "reconcile":
        from benchmarks import reconcile

        return reconcile.run(repeats, log=_log)
    if name == "redeploy":
        from benchmarks import redeploy

        return redeploy.run(REPO, repeats, log=_log)
    if name == "fanout":
        from benchmarks import fanout

        return fanout.run(REPO, repeats, log=_log)
    from benchmarks import dataplane

    return dataplane.run(REPO, repeats, quick=quick, log=_log)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="3 repeats and no fan-out (unless named in --suites)")
    parser.add_argument("--suites", default="",
                        help=f"comma-separated subset of {','.join(SUITES)} (default: all)")
    parser.add_argument("--repeats", type=int, default=0, help="repeats per figure (default 5)")
    parser.add_argument("--out", type=Path, default=REPO / "out" / "bench")
    parser.add_argument("--keep-lab", action="store_true",
                        help="leave a lab this run brought up running (default: down at the end)")
    args = parser.parse_args(argv)
    wanted = [s for s in args.suites.split(",") if s] or [
        s for s in SUITES if not (args.quick and s in QUICK_SKIPS)]
    unknown = sorted(set(wanted) - set(SUITES))
    if unknown:
        parser.error(f"unknown suite(s) {', '.join(unknown)}; choose from {', '.join(SUITES)}")
    repeats = args.repeats or (3 if args.quick else 5)
    lab_was_up = (REPO / ".lab" / "lab.json").exists()
    figures = []
    try:
        for name in wanted:
            _log(f"[bench] suite {name} ({repeats} repeats)")
            try:
                figures += run_suite(name, repeats, args.quick)
            except Exception as exc:  # one broken suite still leaves the others' numbers
                reason = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:300]}" \
                    if str(exc).strip() else type(exc).__name__
                _log(f"[bench] suite {name} failed: {reason}")
                figures.append(Figure(name, "(suite)", "", "", note=f"failed: {reason}"))
    finally:
        if set(wanted) & set(LAB_SUITES) and not lab_was_up and not args.keep_lab:
            _lab_down()
    meta = {**describe(REPO), "repeats": repeats, "suites": wanted}
    paths = report.write(args.out, meta, figures)
    print(paths["markdown"].read_text())
    print("\n".join(f"{kind}: {path}" for kind, path in paths.items()))
    missed = [f for f in figures if f.met is False or not f.values]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
