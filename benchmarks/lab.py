"""The lab for the lab suites: its lock, its state, and counted pyinfra runs."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

LOCK = "/tmp/llminfra-lab.lock"


@contextlib.contextmanager
def lab_lock(log=print):
    """Hold the shared lab lock (PROTOCOL: every lab use, held briefly). With
    LLMINFRA_LAB_LOCK_HELD=1 the caller holds it already (`flock LOCK env ... run.py`)."""
    if os.environ.get("LLMINFRA_LAB_LOCK_HELD") == "1":
        yield
        return
    with open(LOCK, "a") as fh:
        started = time.monotonic()
        fcntl.flock(fh, fcntl.LOCK_EX)
        waited = time.monotonic() - started
        if waited > 1:
            log(f"[bench] waited {waited:.0f} s for the lab lock")
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@dataclass
class Run:
    seconds: float
    cpu: float  # user + system seconds of the pyinfra process (and its children) here
    hosts: dict[str, dict]  # host -> {"commands", "uploads", "downloads", "sent"}
    result: dict | None  # pyinfra --json output (None for runs without --json)
    output: str

    def commands(self, host: str) -> int:
        return self.hosts.get(host, {}).get("commands", 0)

    def changed(self) -> list[str]:
        if not self.result:
            return []
        return [f"{op['name']} on {','.join(op['success'])}"
                for op in self.result["results"]["operations"] if op["success"]]


def counted_pyinfra(repo: Path, deploy: str, *extra: str, inventory: str = "inventory/lab.py",
                    json_out: bool = True, check: bool = True, timeout: float = 2400) -> Run:
    """`pyinfra -y [--json] INVENTORY DEPLOY` with every remote command counted per host
    (benchmarks/counted.py); wall time is the whole process, start to exit."""
    fd, counts = tempfile.mkstemp(prefix="llminfra-counts-", suffix=".json")
    os.close(fd)
    argv = [sys.executable, "-m", "benchmarks.counted", "-y", *(["--json"] if json_out else []),
            inventory, deploy, *extra]
    env = {**os.environ, "LLMINFRA_COUNT_FILE": counts,
           "PYTHONPATH": os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")])}
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        proc = subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)
        took = time.monotonic() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        hosts = json.loads(Path(counts).read_text() or "{}").get("hosts", {})
    finally:
        Path(counts).unlink(missing_ok=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"pyinfra {deploy} failed ({proc.returncode}):\n"
                           f"{proc.stderr[-4000:]}\n{proc.stdout[-2000:]}")
    result = None
    if json_out and proc.stdout.strip().startswith("{"):
        result = json.loads(proc.stdout)
    return Run(took, cpu, hosts, result, proc.stderr + proc.stdout)


def lab_up(repo: Path, log=print):
    from llminfra_lab import up

    log("[bench] lab up (reused when already up)")
    return up(repo)
