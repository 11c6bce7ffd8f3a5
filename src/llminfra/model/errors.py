"""User-facing validation errors: one line each, `<scope>: <path>: <message>`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

HOST_SECTIONS = ("gpu_hosts", "gateways", "relays")


class StackError(Exception):
    """All problems found in a stack description, reported together."""

    def __init__(self, lines: Sequence[str]):
        self.lines = list(dict.fromkeys(lines))  # keep order, drop exact repeats
        super().__init__("\n".join(self.lines))


def path_of(loc: Iterable[object]) -> str:
    return "/".join(str(p) for p in loc)


def scoped(loc: Sequence[object]) -> tuple[str, str]:
    """Split a location into the scope shown first (a host name or a top-level section)
    and the path inside it."""
    loc = list(loc)
    if len(loc) >= 2 and loc[0] in HOST_SECTIONS:
        return str(loc[1]), path_of(loc[2:])
    if not loc:
        return "stack", ""
    return str(loc[0]), path_of(loc[1:])


def line(loc: Sequence[object], message: str) -> str:
    scope, path = scoped(loc)
    return f"{scope}: {path}: {message}" if path else f"{scope}: {message}"
