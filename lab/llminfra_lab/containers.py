"""Containers that behave like hosts (systemd PID 1, sshd, inner Docker) and the upstream.

The run flags are the ones measured to work without --privileged on the build machines
(see shared/LAB-FACTS.md): all caps but SYS_RESOURCE, no seccomp/apparmor, host cgroupns.
"""

from __future__ import annotations

import io
import socket
import subprocess
import tarfile
import time

import docker
from docker.errors import NotFound

from llminfra_lab.engine import LabError
from llminfra_lab.state import LABEL, NETWORK, PREFIX, SUBNET


HOST_SHM = "1g"


def host_run_kwargs(name: str, ip: str) -> dict:
    """docker SDK create() arguments for one lab host (pure: tested by value)."""
    return {
        "name": PREFIX + name,
        "hostname": name,
        "command": "/sbin/init",
        "detach": True,
        "cap_add": ["ALL"],
        "cap_drop": ["SYS_RESOURCE"],
        "security_opt": ["seccomp=unconfined", "apparmor=unconfined"],
        "cgroupns": "host",
        "tmpfs": {"/run": "", "/run/lock": ""},
        # vLLM's `ipc: host` inside the host is this /dev/shm: each engine needs 160 MiB and
        # Docker's default is 64 MiB (tmpfs: only what is used takes memory)
        "shm_size": HOST_SHM,
        "volumes": {
            "/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"},
            f"{PREFIX}{name}-docker": {"bind": "/var/lib/docker", "mode": "rw"},
        },
        "labels": {LABEL: "host", f"{LABEL}.host": name},
        "restart_policy": {"Name": "unless-stopped"},
        "stop_signal": "SIGRTMIN+3",
    }


def ensure_network(dc: docker.DockerClient):
    try:
        return dc.networks.get(NETWORK)
    except NotFound:
        ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=SUBNET)])
        return dc.networks.create(NETWORK, driver="bridge", ipam=ipam, labels={LABEL: "network"})


def _endpoint(dc: docker.DockerClient, ip: str, aliases: list[str]) -> dict:
    return {NETWORK: dc.api.create_endpoint_config(ipv4_address=ip, aliases=aliases)}


def tar_files(files: dict[str, tuple[bytes, int]], dirs: dict[str, int]) -> bytes:
    """An archive for put_archive('/'): {path: (data, mode)}, plus directories {path: mode}."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path, mode in dirs.items():
            info = tarfile.TarInfo(path)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, mode, int(time.time())
            tar.addfile(info)
        for path, (data, mode) in files.items():
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(data), mode, int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def create_host(dc: docker.DockerClient, name: str, ip: str, image: str, archive: bytes):
    """Create (files in place before boot, so sshd starts with its pinned key) and start."""
    kwargs = host_run_kwargs(name, ip)
    container = dc.containers.create(image, network=NETWORK,
                                     networking_config=_endpoint(dc, ip, [name, f"{name}.lab"]),
                                     **kwargs)
    container.put_archive("/", archive)
    container.start()
    return container


def run_upstream(dc: docker.DockerClient, ip: str, image: str, cert_dir: str, names: list[str]):
    return dc.containers.run(
        image, name=PREFIX + "upstream", hostname="upstream", detach=True, network=NETWORK,
        networking_config=_endpoint(dc, ip, ["upstream", *names]),
        volumes={cert_dir: {"bind": "/certs", "mode": "ro"}},
        labels={LABEL: "upstream"}, restart_policy={"Name": "unless-stopped"})


def exec_ok(container, cmd: list[str]) -> tuple[int, str]:
    code, out = container.exec_run(cmd, demux=False)
    return code, (out or b"").decode(errors="replace").strip()


def wait_systemd(container, timeout: float = 180) -> str:
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        _, status = exec_ok(container, ["systemctl", "is-system-running"])
        if status in ("running", "degraded"):
            return status
        time.sleep(1)
    raise LabError(f"{container.name}: systemd did not finish booting ({status!r})")


def wait_port(ip: str, port: int, banner: bytes = b"", timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((ip, port), timeout=3) as sock:
                if not banner or sock.recv(64).startswith(banner):
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise LabError(f"{ip}:{port} did not answer within {timeout:.0f} s")


def wait_inner_docker(container, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if exec_ok(container, ["docker", "info", "--format", "{{.ServerVersion}}"])[0] == 0:
            return
        time.sleep(1)
    raise LabError(f"{container.name}: the inner Docker engine did not start")


def side_load(dc: docker.DockerClient, container, tags: list[str]) -> list[str]:
    """`docker save TAGS | docker exec -i HOST docker load`, skipping images already there."""
    missing = []
    for tag in tags:
        code, inner_id = exec_ok(container, ["docker", "image", "inspect", "-f", "{{.Id}}", tag])
        if code != 0 or inner_id != dc.images.get(tag).id:
            missing.append(tag)
    if missing:
        save = subprocess.Popen(["docker", "save", *missing], stdout=subprocess.PIPE)
        load = subprocess.run(["docker", "exec", "-i", container.name, "docker", "load"],
                              stdin=save.stdout, capture_output=True, text=True, check=False)
        save.stdout.close()
        if save.wait() != 0 or load.returncode != 0:
            raise LabError(f"side-loading {missing} into {container.name} failed: {load.stderr}")
    return missing
