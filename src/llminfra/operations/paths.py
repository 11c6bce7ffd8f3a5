"""Files, directories and links, decided from the host's batched state (facts/host.py).

pyinfra's ``files.put``/``files.directory``/``files.link`` each send two or three fact
commands; these read the one :class:`~llminfra.facts.host.HostState` answer instead.
"""

from __future__ import annotations

import hashlib
import posixpath
from typing import IO

from pyinfra import host
from pyinfra.api import FileUploadCommand, operation
from pyinfra.facts.files import FindFiles

from llminfra.commands.files import chmod, make_directory, remove, set_owner
from llminfra.facts import batch
from llminfra.facts.batch import expecting
from llminfra.facts.host import observe, wanted


def _owner_mode(info: dict, path: str, mode: str | None, user: str | None,
                group: str | None, fresh: bool) -> list:
    commands: list = []
    if (user and (fresh or info["user"] != user)) or (group and (fresh or info["group"] != group)):
        commands.append(set_owner(user, group, path))
    if mode and (fresh or info["mode"] != int(mode)):
        commands.append(chmod(mode, path))
    return commands


@expecting(lambda path, **_: [wanted(paths=[path])])
@operation()
def file(path: str, src: IO[str], mode: str = "644", user: str | None = None,
         group: str | None = None):  # fmt: skip
    """
    Keep ``path`` holding exactly the content of ``src`` (parent directory created if missing).

    + path: file on the host
    + src: file-like object with the content
    + mode: octal mode, e.g. ``644``
    + user: owner of the file
    + group: group of the file

    Content is compared by sha256; not for secrets (see ``private.file``, written 0600 first).

    **Examples:**

    .. code:: python

        paths.file(name="Tunnel unit", path="/etc/systemd/system/t.service",
                   src=StringIO(unit_text))
    """
    src.seek(0)
    content = src.read()
    src.seek(0)
    parent = posixpath.dirname(path) or "/"
    seen = observe(paths=[path, parent])["paths"]
    info = seen[path]
    same = info["type"] == "file" and info["sha256"] == hashlib.sha256(content.encode()).hexdigest()
    commands: list = []
    if not same:
        if seen[parent]["type"] != "dir":
            commands.append(make_directory(parent))
        commands.append(FileUploadCommand(src, path,
                                          remote_temp_filename=host.get_temp_filename(path)))
    commands += _owner_mode(info, path, mode, user, group, fresh=not same)
    if not commands:
        host.noop(f"file {path} is up to date")
    yield from commands


@expecting(lambda path, **_: [wanted(paths=[path])])
@operation()
def directory(path: str, mode: str | None = None, user: str | None = None,
              group: str | None = None):  # fmt: skip
    """
    Keep a directory at ``path`` with the given mode and owner.

    + path: directory on the host (parents are created too)
    + mode: octal mode of the directory itself
    + user: owner
    + group: group

    **Examples:**

    .. code:: python

        paths.directory(name="Tunnel directory", path="/etc/llminfra/tunnel", mode="700")
    """
    info = observe(paths=[path])["paths"][path]
    commands: list = []
    fresh = info["type"] != "dir"
    if fresh:
        commands.append(make_directory(path))
    commands += _owner_mode(info, path, mode, user, group, fresh)
    if not commands:
        host.noop(f"directory {path} is up to date")
    yield from commands


@expecting(lambda path: [wanted(paths=[path])])
@operation()
def absent(path: str):
    """
    Remove a file or link at ``path`` (a directory there is left alone).

    + path: file or link on the host

    **Examples:**

    .. code:: python

        paths.absent(name="Remove Debian's default site",
                     path="/etc/nginx/sites-enabled/default")
    """
    if observe(paths=[path])["paths"][path]["type"] in ("absent", "dir"):
        host.noop(f"{path} is absent")
        return
    yield remove(path)


def _found_fact(directory: str, fname: str):
    return FindFiles, {"path": directory, "fname": fname, "maxdepth": 1}


@expecting(lambda directory, fname, **_: [_found_fact(directory, fname)])
@operation()
def absent_except(directory: str, fname: str, keep: list[str]):
    """
    Remove the files directly in ``directory`` matching ``fname`` that are not in ``keep``.

    + directory: where to look (not below it)
    + fname: a ``find -name`` pattern, e.g. ``*.key``
    + keep: full paths that stay

    **Examples:**

    .. code:: python

        paths.absent_except(name="Keys no longer scraped", directory="/etc/prometheus/keys",
                            fname="*.key", keep=["/etc/prometheus/keys/gpu-1-vllm.key"])
    """
    stale = sorted(set(batch.read(_found_fact(directory, fname)) or []) - set(keep))
    if not stale:
        host.noop(f"no stale {fname} in {directory}")
        return
    for path in stale:
        yield remove(path)
