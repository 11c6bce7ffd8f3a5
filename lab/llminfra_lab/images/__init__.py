"""Lab images: a debootstrapped Debian base and the stand-ins built FROM it.

Every image carries a label with the hash of its build context (and of its parents'),
so an unchanged image is reused and any change to a context rebuilds it and its children.
Run `python -m llminfra_lab.images` (or scripts/lab-images.sh) to prebuild everything.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import docker
from docker.errors import APIError, ImageNotFound

from llminfra_lab.engine import LabError, client

HERE = Path(__file__).parent
LAB_ROOT = HERE.parent  # the llminfra_lab package
HASH_LABEL = "org.llminfra.lab.context-hash"
SUITE = "trixie"
BASE = f"llminfra-lab/base:{SUITE}"
ROOTFS = f"llminfra-lab/rootfs:{SUITE}"
# Local CAs of the build machine (e.g. an egress proxy's): trusted by builder images only,
# so pip inside them reaches PyPI wherever the machine itself does.
BUILD_CA_DIR = Path("/usr/local/share/ca-certificates")


@dataclass(frozen=True)
class ImageSpec:
    name: str  # directory under images/
    tag: str
    parents: tuple[str, ...] = ()  # names of specs this one builds FROM / COPY --from
    aliases: tuple[str, ...] = ()  # extra tags, e.g. the real upstream image name with :lab
    extra: dict[str, Path] = field(default_factory=dict)  # context path -> source path
    build_ca: bool = False  # needs HTTPS to PyPI during the build (see BUILD_CA_DIR)


SPECS: dict[str, ImageSpec] = {
    s.name: s
    for s in (
        ImageSpec("host", "llminfra-lab/host:latest"),
        ImageSpec("llama-wheels", "llminfra-lab/llama-wheels:latest", build_ca=True),
        ImageSpec("llama-runtime", "llminfra-lab/llama-runtime:latest", ("llama-wheels",)),
        ImageSpec(
            "model-server",
            "llminfra-lab/model-server:latest",
            ("llama-runtime",),
            ("vllm/vllm-openai:lab",),
        ),
        ImageSpec("ollama", "llminfra-lab/ollama:latest", ("llama-runtime",), ("ollama/ollama:lab",)),
        ImageSpec("upstream", "llminfra-lab/upstream:latest"),
        ImageSpec(
            "oneapi",
            "llminfra-lab/oneapi:latest",
            (),
            ("justsong/one-api:lab",),
            {"llminfra_lab/oneapi_emulator": LAB_ROOT / "oneapi_emulator"},
        ),
    )
}


def _log(msg: str) -> None:
    print(f"[lab-images] {msg}", file=sys.stderr, flush=True)


def _hash_tree(h: hashlib._Hash, root: Path, prefix: str) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(f"{prefix}/{path.relative_to(root)}\0".encode())
            h.update(path.read_bytes())


def base_hash() -> str:
    return hashlib.sha256(f"debian {SUITE} minbase v1".encode()).hexdigest()[:16]


def context_hash(name: str) -> str:
    spec = SPECS[name]
    h = hashlib.sha256(base_hash().encode())
    for parent in spec.parents:
        h.update(context_hash(parent).encode())
    _hash_tree(h, HERE / name, ".")
    for dest, src in sorted(_extra(spec).items()):
        _hash_tree(h, src, dest)
    return h.hexdigest()[:16]


def _extra(spec: ImageSpec) -> dict[str, Path]:
    for src in spec.extra.values():
        if not src.is_dir():
            raise LabError(f"image {spec.name} needs {src}, which does not exist yet")
    if spec.build_ca:
        return {**spec.extra, "build-ca": BUILD_CA_DIR}
    return dict(spec.extra)


def _current(dc: docker.DockerClient, tag: str, want: str) -> bool:
    try:
        image = dc.images.get(tag)
    except ImageNotFound:
        return False
    return (image.labels or {}).get(HASH_LABEL) == want


def _build(dc: docker.DockerClient, path: Path, tag: str, labels: dict[str, str]) -> None:
    # low-level API: the engine's legacy builder; step headers are shown, the full log only
    # when the build fails
    try:
        previous = dc.images.get(tag).id
    except ImageNotFound:
        previous = None
    lines: list[str] = []
    stream = dc.api.build(path=str(path), tag=tag, labels=labels, rm=True, forcerm=True, decode=True)
    for chunk in stream:
        if "error" in chunk:
            tail = "\n".join(lines[-40:])
            raise LabError(f"building {tag} failed: {chunk['error'].strip()}\n{tail}")
        line = chunk.get("stream", "").rstrip()
        if line:
            lines.append(line)
            if line.startswith("Step "):
                _log(f"{tag}: {line}")
    if previous and previous != dc.images.get(tag).id:
        try:  # the replaced image, now untagged, would only take disk space
            dc.images.remove(previous)
        except APIError:
            pass


def _debootstrap_rootfs(dc: docker.DockerClient) -> None:
    if shutil.which("debootstrap") is None:
        raise LabError("debootstrap is missing: apt-get install -y debootstrap")
    with tempfile.TemporaryDirectory(prefix="lab-rootfs-") as tmp:
        root = Path(tmp) / "root"
        _log(f"debootstrap --variant=minbase {SUITE} (about 30 s)")
        subprocess.run(
            ["debootstrap", "--variant=minbase", SUITE, str(root), "http://deb.debian.org/debian"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(["docker", "import", "-", ROOTFS], stdin=tar.stdout, check=True,
                       stdout=subprocess.DEVNULL)
        if tar.wait() != 0:
            raise LabError("tar of the debootstrapped rootfs failed")


def build_base(dc: docker.DockerClient | None = None) -> str:
    """The Debian trixie base: pulled when a registry answers, else debootstrapped."""
    dc = dc or client()
    want = base_hash()
    if _current(dc, BASE, want):
        return BASE
    started = time.monotonic()
    try:
        dc.images.pull("debian", SUITE).tag(ROOTFS)
    except APIError:
        _log("no registry answers; building the base with debootstrap")
        _debootstrap_rootfs(dc)
    with tempfile.TemporaryDirectory(prefix="lab-base-") as tmp:
        Path(tmp, "Dockerfile").write_text(
            f"FROM {ROOTFS}\nENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8\nCMD [\"bash\"]\n"
        )
        _build(dc, Path(tmp), BASE, {HASH_LABEL: want})
    _log(f"{BASE} built in {time.monotonic() - started:.0f} s")
    return BASE


def build(name: str, dc: docker.DockerClient | None = None) -> str:
    """Build one image (and its parents) unless an image with the same context hash exists."""
    dc = dc or client()
    spec = SPECS[name]
    build_base(dc)
    for parent in spec.parents:
        build(parent, dc)
    want = context_hash(name)
    if not _current(dc, spec.tag, want):
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"lab-{name}-") as tmp:
            ctx = Path(tmp) / "ctx"
            shutil.copytree(HERE / name, ctx, ignore=shutil.ignore_patterns("__pycache__"))
            for dest, src in _extra(spec).items():
                shutil.copytree(src, ctx / dest, ignore=shutil.ignore_patterns("__pycache__"))
            (ctx / "build-ca").mkdir(exist_ok=True)
            _build(dc, ctx, spec.tag, {HASH_LABEL: want})
        _log(f"{spec.tag} built in {time.monotonic() - started:.0f} s")
    image = dc.images.get(spec.tag)
    for alias in spec.aliases:
        repo, _, tag = alias.rpartition(":")
        image.tag(repo, tag)
    return spec.tag


def build_all(names: tuple[str, ...] | None = None) -> dict[str, str]:
    dc = client()
    return {name: build(name, dc) for name in (names or tuple(SPECS))}
