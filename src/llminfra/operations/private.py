"""Files holding secrets: uploaded without diffs, mode 0600 from the first byte."""

from __future__ import annotations

import hashlib
from io import StringIO
from typing import IO

from pyinfra import host
from pyinfra.api import FileUploadCommand, operation

from llminfra.commands.files import chmod_private, chown, private_file_create
from llminfra.facts.batch import expecting
from llminfra.facts.host import observe, wanted


@expecting(lambda path, **_: [wanted(paths=[path])])
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
    info = observe(paths=[path])["paths"][path]
    same = info["type"] == "file" and info["sha256"] == hashlib.sha256(content.encode()).hexdigest()
    commands: list = []
    if not same:
        upload = StringIO(content)
        commands += [
            private_file_create(path),
            FileUploadCommand(upload, path, remote_temp_filename=host.get_temp_filename(path)),
            chmod_private(path),
        ]
    elif info["mode"] != 600:
        commands.append(chmod_private(path))
    if (user and (not same or info["user"] != user)) or (
        group and (not same or info["group"] != group)
    ):
        commands.append(chown(user, group, path))
    if not commands:
        host.noop(f"private file {path} is up to date")
    yield from commands
