"""SSH key pairs, authorized keys and pinned host keys (the tunnel plumbing)."""

from __future__ import annotations

import posixpath
import re
from io import StringIO

from pyinfra import host
from pyinfra.api import OperationValueError, operation
from pyinfra.facts.files import FileContents

from llminfra.commands.files import chown
from llminfra.commands.net import known_hosts_name
from llminfra.commands.ssh import ssh_keygen, ssh_public_key_from_private
from llminfra.facts import batch
from llminfra.facts.batch import expecting
from llminfra.facts.host import prefetch, wanted
from llminfra.facts.ssh import SshKeypair

from . import paths

# A key is "type base64 [comment]"; in authorized_keys it may follow an options field.
_KEY = re.compile(r"(?:^|\s)((?:ssh|ecdsa|sk)-[\w@.-]+)\s+([A-Za-z0-9+/]+={0,2})(?:\s+(.*))?$")


def parse_public_key(line: str) -> tuple[str, str, str]:
    """(type, base64 blob, comment) of a public key, or of the key in an authorized_keys line."""
    match = _KEY.search(line.strip())
    if match is None:
        raise OperationValueError(f"not an SSH public key: {line[:40]!r}")
    return match.group(1), match.group(2), (match.group(3) or "").strip()


def _blob(line: str) -> str | None:
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    try:
        return parse_public_key(line)[1]
    except OperationValueError:
        return None


def _replace(lines: list[str], wanted: str, same) -> list[str]:
    """``lines`` with the first line where ``same(line)`` replaced by ``wanted`` (appended
    if none) and any later such line dropped; unchanged lines keep their place."""
    result: list[str] = []
    for line in lines:
        if not same(line):
            result.append(line)
        elif wanted not in result:
            result.append(wanted)
    return result if wanted in result else [*result, wanted]


def _put_lines(lines: list[str], path: str, mode: str, user: str | None, group: str | None):
    """Commands making ``path`` hold ``lines`` (dir 0700 when the file is private)."""
    directory = posixpath.dirname(path)
    dir_mode = "700" if mode == "600" else None
    content = StringIO("".join(f"{line}\n" for line in lines))
    prefetch(paths=[path])  # one HostState answer for the file and its directory
    return [
        *paths.directory._inner(path=directory, user=user, group=group, mode=dir_mode),
        *paths.file._inner(path=path, src=content, user=user, group=group, mode=mode),
    ]


@operation()
def keypair(path: str, comment: str = "llminfra", user: str | None = None,
            group: str | None = None):  # fmt: skip
    """
    Generate an ed25519 key pair (no passphrase) at ``path`` / ``path.pub`` unless it exists.

    + path: private key file; its directory is created with mode 0700
    + comment: comment stored in the public key
    + user: owner of the new files (default: the connecting user)
    + group: group of the new files

    An existing private key is never replaced; a missing ``.pub`` is derived from it.

    **Examples:**

    .. code:: python

        ssh.keypair(
            name="Tunnel key",
            path="/etc/llminfra/tunnel/id_ed25519",
            comment="llminfra-tunnel@gateway",
        )
    """
    pair = host.get_fact(SshKeypair, path=path)
    if pair and pair["private"] and pair["public"]:
        host.noop(f"ssh key pair {path} exists")
        return
    if pair and pair["private"]:
        yield ssh_public_key_from_private(path)
    else:
        yield ssh_keygen(path, comment)
    if user or group:
        yield chown(user, group, path, f"{path}.pub")


def _authorized_keys_path(user: str, path: str | None) -> str:
    return path or f"{'/root' if user == 'root' else f'/home/{user}'}/.ssh/authorized_keys"


@expecting(lambda user, path, **_: [(FileContents, {"path": _authorized_keys_path(user, path)}),
                                     wanted(paths=[_authorized_keys_path(user, path)])])
@operation()
def authorized_key(
    user: str,
    key: str,
    options: str | None = None,
    path: str | None = None,
    group: str | None = None,
    present: bool = True,
):
    """
    Authorize one public key for ``user``, exactly once, with the given options.

    + user: account the key logs in as (owner of the file and its directory)
    + key: the public key line, ``ssh-ed25519 AAAA… comment``
    + options: authorized_keys options; for a tunnel key use
      ``llminfra.commands.ssh.tunnel_key_options(["127.0.0.1:8000"])``, i.e.
      ``restrict,port-forwarding,permitopen="127.0.0.1:8000",command="/bin/false"``
    + path: the authorized_keys file (default ``~user/.ssh/authorized_keys``, ``/home/<user>``
      or ``/root``)
    + group: group of the file and directory
    + present: ``False`` drops every line carrying the key (other keys stay)

    Any other line carrying the same key (e.g. with older options) is replaced. Other keys
    are kept. The file is mode 0600 and its directory 0700.

    **Examples:**

    .. code:: python

        ssh.authorized_key(
            name="Gateway tunnel may reach vLLM only",
            user="llminfra-tunnel",
            key=gateway_public_key,
            options=tunnel_key_options(["127.0.0.1:8000"]),
        )
    """
    key_type, blob, comment = parse_public_key(key)
    path = _authorized_keys_path(user, path)
    wanted = " ".join(part for part in (options, key_type, blob, comment) if part)
    lines = list(batch.get(FileContents, path=path) or [])
    if not present:
        kept = [line for line in lines if _blob(line) != blob]
        if kept == lines:
            host.noop(f"key {comment or key_type} is not authorized for {user}")
            return
        yield from _put_lines(kept, path, "600", user, group)
        return
    lines = _replace(lines, wanted, lambda line: _blob(line) == blob)
    commands = _put_lines(lines, path, "600", user, group)
    if commands:
        yield from commands
    else:
        host.noop(f"key {comment or key_type} is authorized for {user}")


@expecting(lambda path, **_: [(FileContents, {"path": path}), wanted(paths=[path])])
@operation()
def known_host(path: str, hostname: str, key: str, port: int = 22,
               user: str | None = None, group: str | None = None):  # fmt: skip
    """
    Pin the host key of ``hostname`` in a known_hosts file (for StrictHostKeyChecking=yes).

    + path: the known_hosts file
    + hostname: host name or address as ssh is given it
    + key: its public host key, ``ssh-ed25519 AAAA…`` (as in ``/etc/ssh/ssh_host_ed25519_key.pub``)
    + port: SSH port; non-22 ports are written as ``[hostname]:port``
    + user: owner of the file
    + group: group of the file

    Lines for the same host and key type with another key are replaced; nothing else changes.

    **Examples:**

    .. code:: python

        ssh.known_host(
            name="Pin gpu-1 host key",
            path="/etc/llminfra/tunnel/known_hosts",
            hostname="gpu-1.example.net",
            key="ssh-ed25519 AAAAC3Nza…",
        )
    """
    key_type, blob, _ = parse_public_key(key)
    pattern = known_hosts_name(hostname, port)
    wanted = f"{pattern} {key_type} {blob}"
    lines = list(batch.get(FileContents, path=path) or [])
    lines = _replace(lines, wanted, lambda line: line.split()[:2] == [pattern, key_type])
    commands = _put_lines(lines, path, "644", user, group)
    if commands:
        yield from commands
    else:
        host.noop(f"host key of {pattern} is pinned in {path}")
