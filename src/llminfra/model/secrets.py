"""Secrets are referenced by name in the stack file and resolved from the environment
or a git-ignored dotenv file. Values never reach repr(), logs or non-secret files."""

from __future__ import annotations

import os
import stat
from pathlib import Path


class SecretValue(str):
    """A str whose repr is masked, so a stray print or log line cannot leak it."""

    def __repr__(self) -> str:
        return "SecretValue('***')"


def parse_dotenv(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in text.splitlines():
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        if entry.startswith("export "):
            entry = entry[len("export "):]
        key, sep, value = entry.partition("=")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


class Secrets:
    """Looks a secret up in the environment first, then in the secrets file."""

    def __init__(self, file: Path | None, environ: dict[str, str] | None = None):
        self.file = file
        self._env = dict(os.environ if environ is None else environ)
        self._file_values: dict[str, str] = {}
        if file is not None and file.exists():
            self._file_values = parse_dotenv(file.read_text())

    def where(self) -> str:
        return f"environment and {self.file}" if self.file else "environment"

    def has(self, name: str) -> bool:
        return bool(self._env.get(name) or self._file_values.get(name))

    def get(self, name: str) -> SecretValue:
        value = self._env.get(name) or self._file_values.get(name)
        if not value:
            raise KeyError(f"secret {name} is not set (looked in {self.where()})")
        return SecretValue(value)

    def file_is_private(self) -> bool:
        # *.example files hold placeholders and are committed; git cannot store mode 0600.
        if self.file is None or not self.file.exists() or self.file.suffix == ".example":
            return True
        return stat.S_IMODE(self.file.stat().st_mode) & 0o077 == 0

    def __repr__(self) -> str:
        return f"Secrets(file={self.file!s}, names=***)"
