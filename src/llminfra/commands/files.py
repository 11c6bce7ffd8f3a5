"""Plain file housekeeping shared by the operations: private files, modes, owners."""

from __future__ import annotations

import posixpath

from pyinfra.api import QuoteString, StringCommand


def private_file_create(path: str) -> StringCommand:
    """An empty ``path``, 0600 before any byte is written (parent made 0700 if missing)."""
    directory = posixpath.dirname(path) or "/"
    return StringCommand(
        "mkdir -p -m 700", QuoteString(directory), "&& touch", QuoteString(path),
        "&& chmod 600", QuoteString(path),
    )  # fmt: skip


def chmod_private(path: str) -> StringCommand:
    return StringCommand("chmod 600", QuoteString(path))


def chown(user: str | None, group: str | None, *paths: str) -> StringCommand:
    """``chown user:group paths...``; an empty side leaves that part unchanged."""
    owner = StringCommand(QuoteString(user or ""), ":", QuoteString(group or ""), _separator="")
    return StringCommand("chown", owner, *(QuoteString(p) for p in paths))


def chmod(mode: str, path: str) -> StringCommand:
    return StringCommand("chmod", mode, QuoteString(path))


def make_directory(path: str) -> StringCommand:
    return StringCommand("mkdir -p", QuoteString(path))


def remove(path: str) -> StringCommand:
    return StringCommand("rm -f", QuoteString(path))


def set_owner(user: str | None, group: str | None, path: str) -> StringCommand:
    """``chown user:group``, ``chown user`` or ``chgrp group``: only what is given changes."""
    if user and group:
        return StringCommand("chown", StringCommand(QuoteString(user), ":", QuoteString(group),
                                                    _separator=""), QuoteString(path))
    if user:
        return StringCommand("chown", QuoteString(user), QuoteString(path))
    return StringCommand("chgrp", QuoteString(group or ""), QuoteString(path))
