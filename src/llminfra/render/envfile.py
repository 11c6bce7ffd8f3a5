"""Dotenv files read by Compose's `env_file` (where every secret a container needs lives)."""

from __future__ import annotations

from dataclasses import dataclass

from .files import RenderError, RenderedFile, render

SECRET_MODE = "0600"


def env_quote(name: str, value: str) -> str:
    """Single-quoted: Compose's dotenv parser takes it literally (no `$` interpolation).
    A quote, a line break or a trailing backslash would end the value early, so refuse them."""
    if "'" in value or "\n" in value or "\r" in value or value.endswith("\\"):
        raise RenderError(f"{name}: the value cannot go into an env file (it holds a quote, "
                          "a line break or ends in a backslash)")
    return f"'{value}'"


@dataclass(frozen=True)
class EnvFile:
    entries: tuple[tuple[str, str], ...]

    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(f"{k}={env_quote(k, v)}" for k, v in self.entries)


def secret_env_file(path: str, entries: dict[str, str]) -> RenderedFile:
    content = render("compose/secrets.env.j2", EnvFile(tuple(entries.items())))
    return RenderedFile(path, content, SECRET_MODE, secret=True)
