"""Checks shared by the Nginx views: anything reaching a config is a plain token."""

from __future__ import annotations

import re

from .files import RenderError

_HOSTNAME = re.compile(r"^[A-Za-z0-9*_][A-Za-z0-9._*-]*$")
_UPSTREAM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]{1,5})?$")
_PATH = re.compile(r"^/[A-Za-z0-9._~/-]*$")
_SIZE = re.compile(r"^[0-9]+[kKmMgG]?$")
_HEADER = re.compile(r"^[A-Za-z0-9-]+$")
_ADDRESS = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:[0-9]{1,5})?$")


def _check(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not pattern.match(value):
        raise RenderError(f"{what} {value!r} cannot be written into an nginx config")
    return value


def hostname(value: str, what: str = "server name") -> str:
    return _check(_HOSTNAME, value, what)


def upstream(value: str) -> str:
    return _check(_UPSTREAM, value, "upstream")


def path(value: str) -> str:
    return _check(_PATH, value, "path")


def size(value: str) -> str:
    return _check(_SIZE, value, "size")


def header(value: str) -> str:
    return _check(_HEADER, value, "header name")


def address(value: str, what: str = "address") -> str:
    return _check(_ADDRESS, value, what)
