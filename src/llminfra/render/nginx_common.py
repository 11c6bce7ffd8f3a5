"""Checks shared by the Nginx views: anything reaching a config is a plain token.

The model validates every one of these values with the same functions (llminfra.model.types),
so a RenderError here means a caller bypassed the model, never that `check` missed something.
"""

from __future__ import annotations

from collections.abc import Callable

from llminfra.model import types

from .files import RenderError


def _check(validate: Callable[[str], str], value: str, what: str) -> str:
    try:
        validate(value)
    except ValueError:
        raise RenderError(f"{what} {value!r} cannot be written into an nginx config") from None
    return value


def hostname(value: str, what: str = "server name") -> str:
    return _check(types.server_name, value, what)


def upstream(value: str) -> str:
    return _check(types.upstream, value, "upstream")


def path(value: str) -> str:
    return _check(types.url_prefix, value, "path")


def size(value: str) -> str:
    return _check(types.size, value, "size")


def header(value: str) -> str:
    return _check(types.header_name, value, "header name")


def address(value: str, what: str = "address") -> str:
    """host[:port]; a bare IPv6 address gets the brackets Nginx needs."""
    _check(types.host_port, value, what)
    return f"[{value}]" if value.count(":") > 1 and not value.startswith("[") else value

