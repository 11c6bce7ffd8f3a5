"""`lab up` / `lab down`: the lab network, hosts, upstream, keys and state dir."""

from __future__ import annotations

import os
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from docker.errors import NotFound

from llminfra.paths import OperatorPaths

from llminfra_lab import containers as ct
from llminfra_lab import images, labsecrets as secrets
from llminfra_lab.engine import LabError, client
from llminfra_lab.inventory import write_inventory
from llminfra_lab.state import (
    ENGINE_IMAGES,
    ENGINES,
    FLAVOR_ENV,
    FLAVORS,
    DEFAULT_GPU_HOSTS,
    LABEL,
    NETWORK,
    PREFIX,
    SUBNET,
    UPSTREAM_OCTET,
    HostSpec,
    LabHost,
    LabState,
    address,
    lab_hosts,
    state_dir,
)

CA_FILE = "/usr/local/share/ca-certificates/llminfra-lab-ca.crt"


def _log(msg: str) -> None:
    print(f"[lab] {msg}", file=sys.stderr, flush=True)


def _host_archive(spec: HostSpec, sdir: Path, operator_pub: str) -> tuple[bytes, str]:
    """Files a host needs before boot: its pinned host key, root's authorized_keys, the CA."""
    key = sdir / "hostkeys" / spec.name / "ssh_host_ed25519_key"
    host_pub = secrets.ssh_keypair(key, f"root@{spec.name}")
    files = {
        "etc/ssh/ssh_host_ed25519_key": (key.read_bytes(), 0o600),
        "etc/ssh/ssh_host_ed25519_key.pub": ((host_pub + "\n").encode(), 0o644),
        "root/.ssh/authorized_keys": ((operator_pub + "\n").encode(), 0o600),
    }
    if spec.role == "relay":
        files[CA_FILE.lstrip("/")] = ((sdir / "ca" / "ca.crt").read_bytes(), 0o644)
    return ct.tar_files(files, {"root/.ssh": 0o700}), " ".join(host_pub.split()[:2])


def _provision(dc, spec: HostSpec, container, engine: str) -> list[str]:
    ip = address(spec.octet)
    status = ct.wait_systemd(container)
    ct.wait_port(ip, 22, banner=b"SSH-")
    if spec.role == "relay":
        code, out = ct.exec_ok(container, ["update-ca-certificates"])
        if code != 0:
            raise LabError(f"{spec.name}: update-ca-certificates failed: {out}")
    wanted = spec.images + (ENGINE_IMAGES[engine] if spec.role == "gateway" else ())
    tags = [alias for name in wanted for alias in images.SPECS[name].aliases]
    if tags:
        ct.wait_inner_docker(container)
        loaded = ct.side_load(dc, container, tags)
        _log(f"{spec.name}: systemd {status}; side-loaded {loaded or 'nothing (up to date)'}")
    return tags


def lab_flavor(sdir: Path, asked: str | None) -> str:
    """The gateway flavour for this `up`: asked (flag or LLMINFRA_LAB_FLAVOR), else the running
    lab's, else oneapi. Switching a running lab is refused: the gateway's data belongs to the
    other software."""
    asked = asked or os.environ.get(FLAVOR_ENV) or None
    if asked is not None and asked not in FLAVORS:
        raise LabError(f"lab flavour must be one of {', '.join(FLAVORS)}, not {asked!r}")
    running = LabState.load(sdir).flavor if (sdir / "lab.json").exists() else None
    if asked and running and asked != running:
        raise LabError(f"the lab runs the {running} gateway; `llminfra lab down` before "
                       f"bringing it up with {asked}")
    return asked or running or "oneapi"


def _gpu_hosts(sdir: Path, asked: int | None) -> int:
    """How many GPU hosts: asked, else the running lab's count, else the default two."""
    if asked is not None:
        return asked
    return LabState.load(sdir).gpu_hosts if (sdir / "lab.json").exists() else DEFAULT_GPU_HOSTS


def _drop_extra_hosts(dc, keep: set[str]) -> None:
    """Remove lab host containers (and their engines' volumes) not in ``keep``."""
    for box in dc.containers.list(all=True, filters={"label": LABEL}):
        name = box.labels.get(f"{LABEL}.host")
        if name and name not in keep:
            _log(f"{name}: not in this topology, removing")
            box.remove(force=True, v=True)
            for volume in dc.volumes.list(filters={"name": f"{PREFIX}{name}-docker"}):
                volume.remove(force=True)


def up(repo_root: Path | str, build: bool = True, engine: str = "oneapi",
       flavor: str | None = None, gpu_hosts: int | None = None) -> LabState:
    """Stand the lab up (idempotent: existing keys, containers and loaded images are reused).
    `engine` is the gateway engine inventory/lab.yml chooses; an `up` with the other engine
    on a running lab only rewrites the inventory (and side-loads what that engine needs).
    `flavor` picks OneAPI or New-API for the oneapi engine (see :func:`lab_flavor`);
    `gpu_hosts` (2..12, default: as running, else 2) adds GPU hosts like gpu-1 (fan-out)."""
    if engine not in ENGINES:
        raise LabError(f"unknown engine {engine!r} (expected one of {', '.join(ENGINES)})")
    started = time.monotonic()
    dc = client()
    sdir = state_dir(Path(repo_root))
    flavor = lab_flavor(sdir, flavor)
    try:
        specs = lab_hosts(_gpu_hosts(sdir, gpu_hosts))
    except ValueError as exc:
        raise LabError(str(exc)) from None
    if not (sdir / "lab.json").exists() and dc.containers.list(all=True, filters={"label": LABEL}):
        _log("containers exist without lab state: recreating the lab")
        down(repo_root)
    sdir.mkdir(mode=0o700, exist_ok=True)
    if build:
        images.build_all(("host", "upstream", "vllm-cpu", "ollama", "oneapi", "newapi",
                          *ENGINE_IMAGES[engine]))
    operator_pub = secrets.ssh_keypair(sdir / "ssh" / "id_ed25519", "llminfra-lab-operator")
    ca_cert = secrets.lab_ca(sdir / "ca")
    upstream_ip = address(UPSTREAM_OCTET)
    secrets.server_cert(sdir / "ca", sdir / "upstream", secrets.UPSTREAM_NAMES)

    ct.ensure_network(dc)
    if _current(dc, PREFIX + "upstream", images.SPECS["upstream"].tag) is None:
        ct.run_upstream(dc, upstream_ip, images.SPECS["upstream"].tag, str(sdir / "upstream"),
                        list(secrets.UPSTREAM_NAMES))
    _drop_extra_hosts(dc, {spec.name for spec in specs})
    hosts, boxes = {}, {}
    for spec in specs:
        archive, host_key = _host_archive(spec, sdir, operator_pub)
        box = _current(dc, PREFIX + spec.name, images.SPECS["host"].tag)
        if box is None:
            box = ct.create_host(dc, spec.name, address(spec.octet), images.SPECS["host"].tag,
                                 archive)
        elif box.status != "running":
            box.start()
        boxes[spec.name] = box
        hosts[spec.name] = LabHost(spec.name, spec.role, address(spec.octet), box.name,
                                   spec.tunnel_only, host_key)
    with ThreadPoolExecutor(len(specs)) as pool:
        loaded = dict(zip(boxes, pool.map(lambda s: _provision(dc, s, boxes[s.name], engine), specs), strict=True))
    for name, tags in loaded.items():
        hosts[name].images = tags

    known_hosts = sdir / "known_hosts"
    known_hosts.write_text("".join(f"{h.address},{h.name} {h.host_key}\n" for h in hosts.values()))
    state = LabState(str(sdir), NETWORK, SUBNET, "root", str(sdir / "ssh" / "id_ed25519"),
                     str(known_hosts), str(ca_cert), upstream_ip, list(secrets.UPSTREAM_NAMES),
                     hosts, engine, flavor, len([s for s in specs if s.role == "gpu"]))
    state.save()
    write_inventory(state, repo_root)
    # images replaced by a rebuild stay behind while old containers use them; drop them now
    dc.images.prune(filters={"dangling": True, "label": images.HASH_LABEL})
    _log(f"lab up ({flavor} gateway) in {time.monotonic() - started:.0f} s; state in {sdir}")
    return state


def _exists(dc, name: str):
    try:
        return dc.containers.get(name)
    except NotFound:
        return None


def _current(dc, name: str, image: str):
    """The container if it runs the current build of image; an outdated one is removed
    (its named volumes stay, so the inner engine keeps what was loaded into it)."""
    box = _exists(dc, name)
    if box is not None and box.image.id != dc.images.get(image).id:
        _log(f"{name}: image changed, recreating")
        box.remove(force=True)
        return None
    return box


def down(repo_root: Path | str, remove_images: bool = False) -> None:
    """Remove the lab's containers, volumes, network and state dir (idempotent)."""
    dc = client()
    for box in dc.containers.list(all=True, filters={"label": LABEL}):
        box.remove(force=True, v=True)
    for volume in dc.volumes.list(filters={"name": PREFIX}):
        if volume.name.startswith(PREFIX):
            volume.remove(force=True)
    for net in dc.networks.list(names=[NETWORK]):
        net.remove()
    if remove_images:
        for spec in images.SPECS.values():
            for tag in (spec.tag, *spec.aliases):
                try:
                    dc.images.remove(tag, force=True)
                except NotFound:
                    pass
    shutil.rmtree(state_dir(Path(repo_root)), ignore_errors=True)
    inv = Path(repo_root) / "inventory"
    known_hosts = OperatorPaths.beside(inv / "lab.yml").known_hosts
    for made in (inv / "lab.yml", inv / "lab.secrets.env", known_hosts):
        made.unlink(missing_ok=True)
