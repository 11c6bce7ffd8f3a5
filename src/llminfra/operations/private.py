"""Files holding secrets: uploaded without diffs, mode 0600 from the first byte."""

from __future__ import annotations

import hashlib
import posixpath
from io import StringIO
from typing import IO

from pyinfra import host
from pyinfra.api import FileUploadCommand, QuoteString, StringCommand, operation
from pyinfra.facts.files import File, Sha256File


@operation()
def file(path: str, src: IO[str], user: str | None = None, group: str | None = None):
    """
    Keep a secret-bearing file at ``path`` with exactly the content of ``src``, mode 0600.

    + path: file on the host
    + src: file-like object with the content (a ``StringIO``; pyinfra shows it only as a hash)
    + user: owner of the file
    + group: group of the file

    Unlike ``files.put`` this never prints a diff (not even with ``--diff``), compares
    sha256 sums only, creates the file 0600 before writing to it and creates a missing
    parent directory 0700.

    **Examples:**

    .. code:: python

        private.file(
            name="vLLM secrets",
            path="/opt/llminfra/llm-qwen/secrets.env",
            src=StringIO(rendered.content),
        )
    """
    src.seek(0)
    content = src.read()
    src.seek(0)
    info = host.get_fact(File, path=path)
    same = (
        info
        and host.get_fact(Sha256File, path=path) == hashlib.sha256(content.encode()).hexdigest()
    )
    commands: list = []
    if not same:
        directory = posixpath.dirname(path) or "/"
        upload = StringIO(content)
        commands += [
            StringCommand(
                "mkdir -p -m 700", QuoteString(directory), "&& touch", QuoteString(path),
                "&& chmod 600", QuoteString(path),
            ),
            FileUploadCommand(upload, path, remote_temp_filename=host.get_temp_filename(path)),
            StringCommand("chmod 600", QuoteString(path)),
        ]  # fmt: skip
    elif info["mode"] != 600:
        commands.append(StringCommand("chmod 600", QuoteString(path)))
    if (user and (not same or info["user"] != user)) or (
        group and (not same or info["group"] != group)
    ):
        owner = StringCommand(QuoteString(user or ""), ":", QuoteString(group or ""), _separator="")
        commands.append(StringCommand("chown", owner, QuoteString(path)))
    if not commands:
        host.noop(f"private file {path} is up to date")
    yield from commands
