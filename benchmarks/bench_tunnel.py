"""Open the admin tunnel to a loopback OpenSSH sshd, send one request through it, close it;
print the median wall time, process CPU and stop time over the repeats (one warm-up first).

    python3 benchmarks/bench_tunnel.py [REPEATS]      # default: 10; needs /usr/sbin/sshd
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from llminfra.oneapi.tunnel import open_admin_tunnel
from llminfra_lab.oneapi_emulator import Emulator

ACCESS = "0123456789abcdef0123456789abcdef"


def start_sshd(d: Path) -> tuple[subprocess.Popen[bytes], int, str, str]:
    """(process, port, client key, known_hosts line) of a loopback sshd in `d`."""
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)],
                       check=True)
    (d / "authorized_keys").write_text((d / "client.pub").read_text())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (d / "sshd_config").write_text("\n".join([
        "ListenAddress 127.0.0.1", f"HostKey {d / 'host'}", f"PidFile {d / 'sshd.pid'}",
        f"AuthorizedKeysFile {d / 'authorized_keys'}", "PermitRootLogin prohibit-password",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no",
        "StrictModes no", "AllowTcpForwarding local", "PermitOpen 127.0.0.1:*", ""]))
    os.makedirs("/run/sshd", exist_ok=True)
    proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(d / "sshd_config"),
                             "-p", str(port)], stderr=subprocess.DEVNULL)
    while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
        time.sleep(0.05)
    kind, blob = (d / "host.pub").read_text().split()[:2]
    return proc, port, str(d / "client"), f"[127.0.0.1]:{port} {kind} {blob}"


def main(repeats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        proc, port, key, known = start_sshd(Path(tmp))
        env = {"INITIAL_ROOT_ACCESS_TOKEN": ACCESS, "SESSION_SECRET": "bench-session-secret"}
        try:
            with Emulator(str(Path(tmp) / "one-api.json"), env=env) as emu:
                walls, cpus, stops = [], [], []
                for i in range(repeats + 1):
                    wall, cpu = time.perf_counter(), time.process_time()
                    with open_admin_tunnel("127.0.0.1", ssh_port=port, ssh_user="root",
                                           ssh_key_file=key, known_hosts=known,
                                           remote_port=emu.port) as url:
                        httpx.get(f"{url}/api/status", headers={"Authorization": ACCESS},
                                  trust_env=False).raise_for_status()
                        stop = time.perf_counter()
                    if i:  # the first run warms caches and is not counted
                        walls.append(time.perf_counter() - wall)
                        cpus.append(time.process_time() - cpu)
                        stops.append(time.perf_counter() - stop)
        finally:
            proc.terminate()
            proc.wait()
    med = statistics.median
    print(f"tunnel open+request+close x{repeats}: wall median {med(walls) * 1000:.1f} ms "
          f"(min {min(walls) * 1000:.1f}, max {max(walls) * 1000:.1f}), process CPU median "
          f"{med(cpus) * 1000:.1f} ms, stop median {med(stops) * 1000:.2f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
