"""Lab images: a debootstrapped Debian base and the stand-ins built FROM it.

Every image carries a label with the hash of its build context (and of its parents'),
so an unchanged image is reused and any change to a context rebuilds it and its children.
Run `python -m llminfra_lab.images` (or scripts/lab-images.sh) to prebuild everything.
"""

from __future__ import annotations

import hashlib
import os
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
# bookworm's python3 is 3.11: the only Python the build machine's local torch CPU wheel fits
BOOKWORM = "bookworm"
# pip's find-links directory on the build machines (`pip config list`): holds wheels PyPI
# does not serve
LOCAL_WHEELS = Path(os.environ.get("LLMINFRA_LOCAL_WHEELS", "/opt/wheels"))
TORCH_CPU_WHEEL = "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"
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
    suite: str = SUITE  # Debian release of the base image
    files: dict[str, Path] = field(default_factory=dict)  # single files: context path -> source


SPECS: dict[str, ImageSpec] = {
    s.name: s
    for s in (
        ImageSpec("host", "llminfra-lab/host:latest"),
        ImageSpec("llama-wheels", "llminfra-lab/llama-wheels:latest", build_ca=True),
        ImageSpec("llama-runtime", "llminfra-lab/llama-runtime:latest", ("llama-wheels",)),
        ImageSpec("ollama", "llminfra-lab/ollama:latest", ("llama-runtime",), ("ollama/ollama:lab",)),
        ImageSpec("upstream", "llminfra-lab/upstream:latest"),
        ImageSpec(
            "vllm-cpu",
            "llminfra-lab/vllm-cpu:latest",
            aliases=("vllm/vllm-openai:lab",),
            build_ca=True,
            suite=BOOKWORM,
            files={f"wheels/{TORCH_CPU_WHEEL}": LOCAL_WHEELS / TORCH_CPU_WHEEL},
        ),
        # the real LiteLLM proxy (pip, about 2 min once); only side-loaded with --engine litellm
        ImageSpec("litellm", "llminfra-lab/litellm:latest", aliases=("ghcr.io/berriai/litellm:lab",),
                  build_ca=True),
        ImageSpec(
            "oneapi",
            "llminfra-lab/oneapi:latest",
            (),
            ("justsong/one-api:lab",),
            {"llminfra_lab/oneapi_emulator": LAB_ROOT / "oneapi_emulator"},
        ),
        ImageSpec("newapi", "llminfra-lab/newapi:latest", ("oneapi",), ("calciumion/new-api:lab",)),
    )
}


def _log(msg: str) -> None:
    print(f"[lab-images] {msg}", file=sys.stderr, flush=True)


def _hash_tree(h: hashlib._Hash, root: Path, prefix: str) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(f"{prefix}/{path.relative_to(root)}\0".encode())
            h.update(path.read_bytes())


def base_hash(suite: str = SUITE) -> str:
    return hashlib.sha256(f"debian {suite} minbase v1".encode()).hexdigest()[:16]


def base_tag(suite: str = SUITE) -> str:
    return f"llminfra-lab/base:{suite}"


def context_hash(name: str) -> str:
    spec = SPECS[name]
    h = hashlib.sha256(base_hash(spec.suite).encode())
    for parent in spec.parents:
        h.update(context_hash(parent).encode())
    _hash_tree(h, HERE / name, ".")
    for dest, src in sorted(_extra(spec).items()):
        _hash_tree(h, src, dest)
    for dest, src in sorted(_files(spec).items()):
        # large binaries (wheels): their name and size stand for their content
        h.update(f"{dest}\0{src.stat().st_size}".encode())
    return h.hexdigest()[:16]


def _files(spec: ImageSpec) -> dict[str, Path]:
    for src in spec.files.values():
        if not src.is_file():
            raise LabError(f"image {spec.name} needs {src}, which is not on this machine "
                           "(set LLMINFRA_LOCAL_WHEELS to the directory holding it)")
    return dict(spec.files)


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


def _debootstrap_rootfs(dc: docker.DockerClient, suite: str = SUITE) -> None:
    if shutil.which("debootstrap") is None:
        raise LabError("debootstrap is missing: apt-get install -y debootstrap")
    with tempfile.TemporaryDirectory(prefix="lab-rootfs-") as tmp:
        root = Path(tmp) / "root"
        _log(f"debootstrap --variant=minbase {suite} (about 30 s)")
        subprocess.run(
            ["debootstrap", "--variant=minbase", suite, str(root), "http://deb.debian.org/debian"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(["docker", "import", "-", f"llminfra-lab/rootfs:{suite}"], stdin=tar.stdout,
                       check=True,
                       stdout=subprocess.DEVNULL)
        if tar.wait() != 0:
            raise LabError("tar of the debootstrapped rootfs failed")


def build_base(dc: docker.DockerClient | None = None, suite: str = SUITE) -> str:
    """A Debian base (trixie unless asked): pulled when a registry answers, else debootstrapped."""
    dc = dc or client()
    want, tag, rootfs = base_hash(suite), base_tag(suite), f"llminfra-lab/rootfs:{suite}"
    if _current(dc, tag, want):
        return tag
    started = time.monotonic()
    try:
        dc.images.pull("debian", suite).tag(rootfs)
    except APIError:
        _log("no registry answers; building the base with debootstrap")
        _debootstrap_rootfs(dc, suite)
    with tempfile.TemporaryDirectory(prefix="lab-base-") as tmp:
        Path(tmp, "Dockerfile").write_text(
            f"FROM {rootfs}\nENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8\nCMD [\"bash\"]\n"
        )
        _build(dc, Path(tmp), tag, {HASH_LABEL: want})
    _log(f"{tag} built in {time.monotonic() - started:.0f} s")
    return tag


def build(name: str, dc: docker.DockerClient | None = None) -> str:
    """Build one image (and its parents) unless an image with the same context hash exists."""
    dc = dc or client()
    spec = SPECS[name]
    build_base(dc, spec.suite)
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
            for dest, src in _files(spec).items():
                (ctx / dest).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, ctx / dest)
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
