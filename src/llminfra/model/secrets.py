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


MAX_FILE = 1024 * 1024


def _read_file(file: Path) -> tuple[dict[str, str], str | None]:
    """(values, problem): a secrets file that cannot be read is a problem, not a traceback."""
    try:
        if not file.exists():
            return {}, None
        if file.is_dir():
            return {}, f"{file} is a directory, not a file"
        if not file.is_file():
            return {}, f"{file} is not a regular file"
        with file.open("rb") as fh:
            raw = fh.read(MAX_FILE + 1)
    except OSError as exc:
        return {}, f"cannot read {file}: {exc.strerror or exc}"
    if len(raw) > MAX_FILE:
        return {}, f"{file} is larger than 1 MiB"
    try:
        return parse_dotenv(raw.decode("utf-8")), None
    except UnicodeDecodeError as exc:
        return {}, f"{file} is not UTF-8 text (byte {exc.start})"


class Secrets:
    """Looks a secret up in the environment and in the secrets file. A name set in both
    with different values is a conflict (`conflicts()`), never a silent precedence."""

    def __init__(self, file: Path | None, environ: dict[str, str] | None = None):
        self.file = file
        self._env = dict(os.environ if environ is None else environ)
        self._file_values: dict[str, str] = {}
        self.problem: str | None = None
        if file is not None:
            self._file_values, self.problem = _read_file(file)

    def conflicts(self, name: str) -> bool:
        env, in_file = self._env.get(name), self._file_values.get(name)
        return bool(env and in_file and env != in_file)

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
        if self.file is None or self.problem or self.file.suffix == ".example":
            return True
        try:
            return stat.S_IMODE(self.file.stat().st_mode) & 0o077 == 0
        except OSError:
            return True  # absent: nothing to protect

    def __repr__(self) -> str:
        return f"Secrets(file={self.file!s}, names=***)"
