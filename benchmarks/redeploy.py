"""No-change redeploy of deploys/all.py against the floor: one bare pyinfra fact round trip.

Both run as `pyinfra -y` on the same lab hosts through benchmarks/counted.py, which counts the
commands pyinfra actually sends over SSH per host. Repeats interleave floor and redeploy so
load on the machine hits both alike. The first all.py run converges the lab (its time is not a
figure); a redeploy that changes anything is an error, not a measurement.
"""

from __future__ import annotations

from pathlib import Path

from .figures import Figure, Goal
from .lab import counted_pyinfra, lab_lock, lab_up

SUITE = "redeploy"
MAX_COMMANDS = 12
MAX_RATIO = 3.0


def measure(repo: Path, repeats: int, log=print) -> tuple[list[Figure], list]:
    runs, floors = [], []
    with lab_lock(log):
        lab_up(repo, log)
        converge = counted_pyinfra(repo, "deploys/all.py")
        log(f"[bench] converge run {converge.seconds:.1f} s, changed {len(converge.changed())} ops")
        for i in range(repeats):
            floors.append(counted_pyinfra(repo, "benchmarks/floor_deploy.py", json_out=False))
            run = counted_pyinfra(repo, "deploys/all.py")
            if run.changed():
                raise RuntimeError(f"no-change redeploy changed: {run.changed()}")
            runs.append(run)
            log(f"[bench] redeploy {i + 1}/{repeats}: {run.seconds:.2f} s "
                f"(floor {floors[-1].seconds:.2f} s), commands "
                + ", ".join(f"{h} {run.commands(h)}" for h in sorted(run.hosts)))
    wall = Figure(SUITE, "no-change all.py: wall time", "s", "one-fact pyinfra run",
                  goal=Goal("ratio", MAX_RATIO))
    for run, floor in zip(runs, floors, strict=True):
        wall.add(run.seconds, floor.seconds)
    cpu = Figure(SUITE, "no-change all.py: operator CPU", "s", "one-fact pyinfra run",
                 note="CPU seconds of the pyinfra process (the channels plan runs inside it)")
    for run_, floor in zip(runs, floors, strict=True):
        cpu.add(run_.cpu, floor.cpu)
    figures = [wall, cpu]
    for name in sorted(runs[0].hosts):
        f = Figure(SUITE, f"no-change all.py: commands on {name}", "commands",
                   "one-fact pyinfra run", goal=Goal("value", MAX_COMMANDS))
        for run, floor in zip(runs, floors, strict=True):
            f.add(run.commands(name), floor.commands(name))
        figures.append(f)
    return figures, runs


def run(repo: Path, repeats: int, log=print) -> list[Figure]:
    return measure(repo, repeats, log)[0]
