"""Fan-out: the GPU-host deploy (deploys/gpu.py) on six GPU hosts against the same deploy on one.

The lab comes up with seven GPU hosts (`gpu_hosts=7`: gpu-3..gpu-7 are like gpu-1), everything
is deployed once, then no-change runs of deploys/gpu.py limited to gpu-1 (the floor) and to six
alike (gpu-1, gpu-3..gpu-7) alternate. gpu-2 is left out of the six: it runs real vLLM and two
more services, so with it the figure would compare unlike hosts. pyinfra works on hosts in
parallel, so the ratio shows what each extra host costs the operator's machine (2 cores here).
The lab goes back to its usual two GPU hosts after.
"""

from __future__ import annotations

from pathlib import Path

from .figures import Figure, Goal
from .lab import counted_pyinfra, lab_lock

SUITE = "fanout"
HOSTS = 6
MAX_RATIO = 1.5


def _limits(names: list[str]) -> list[str]:
    return [arg for name in names for arg in ("--limit", name)]


def run(repo: Path, repeats: int, log=print, hosts: int = HOSTS) -> list[Figure]:
    from llminfra_lab import up

    gpus = ["gpu-1"] + [f"gpu-{i}" for i in range(3, hosts + 2)]  # alike: not gpu-2
    wall = Figure(SUITE, f"no-change deploys/gpu.py: {hosts} GPU hosts vs 1", "s",
                  "the same run on gpu-1 alone", goal=Goal("ratio", MAX_RATIO))
    commands = Figure(SUITE, f"no-change deploys/gpu.py: commands, {hosts} GPU hosts vs 1",
                      "commands", "the same run on gpu-1 alone")
    cpu = Figure(SUITE, f"no-change deploys/gpu.py: operator CPU, {hosts} GPU hosts vs 1", "s",
                 "the same run on gpu-1 alone",
                 note="CPU seconds of the pyinfra process: what each host costs the operator's "
                      "machine (the lab's hosts share its 2 cores, so wall time also pays for "
                      "their work)")
    with lab_lock(log):
        try:
            log(f"[bench] lab up with {hosts + 1} GPU hosts")
            up(repo, gpu_hosts=hosts + 1)
            cold = counted_pyinfra(repo, "deploys/all.py")
            log(f"[bench] deploy of the {hosts + 1}-GPU-host lab: {cold.seconds:.0f} s")
            wall.note = (f"{', '.join(gpus)} (gpu-2, the real-vLLM host, left out); first deploy "
                         f"of the {hosts + 1}-GPU-host lab took {cold.seconds:.0f} s")
            for i in range(repeats):
                one = counted_pyinfra(repo, "deploys/gpu.py", *_limits(gpus[:1]))
                many = counted_pyinfra(repo, "deploys/gpu.py", *_limits(gpus))
                for run_ in (one, many):
                    if run_.changed():
                        raise RuntimeError(f"fan-out run changed: {run_.changed()}")
                wall.add(many.seconds, one.seconds)
                commands.add(sum(h["commands"] for h in many.hosts.values()),
                             sum(h["commands"] for h in one.hosts.values()))
                cpu.add(many.cpu, one.cpu)
                log(f"[bench] fan-out {i + 1}/{repeats}: {hosts} hosts {many.seconds:.2f} s, "
                    f"1 host {one.seconds:.2f} s")
        finally:
            log("[bench] lab back to 2 GPU hosts")
            up(repo, gpu_hosts=2)
    return [wall, commands, cpu]
